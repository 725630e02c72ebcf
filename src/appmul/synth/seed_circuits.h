// Preparing family circuits as ALS start points (als_library.h seeds). Two rewirings, both measured
// with als_error's metric under options.pair_weights and both keeping the zero-product guard
// (options.max_zero_product_error: products of exactly 0 stay within it):
//
// guard_zero_products: a compensated circuit (truncc's constant, LOA's ORs) puts nonzero values on
// products of 0, so the guard forbids it as a start. The output bits that are ever 1 on such a
// product are ANDed with g = OR(w[0..m-1]) AND OR(a[0..l-1]), which is 0 whenever an operand is 0;
// (m, l) is the prefix pair with the lowest error (fewest bits on ties). A truncation's dropped
// terms all vanish when the low bits vanish, so a small prefix costs fewer gates and is often more
// accurate than gating by "both operands nonzero".
//
// compensate_constant_outputs: a truncated or broken-array circuit leaves its low product bits tied
// to constants, which the ALS engine (als.h) cannot touch: it rewires live gates only. Each round
// scores every (constant output, existing signal) tie by a per-pair proxy of the metric (its own
// per-pair sum for mred, nmed, er and mse; |error| for wce), re-checks the best few exactly and
// applies the one that lowers the error most; rounds stop when none does. No gate is added: the
// energy changes only by the load the new output puts on the signal.
//
// Both return strashed netlists named as their input; both are deterministic.
#pragma once
#include <optional>

#include "appmul/synth/als.h"

namespace fames {

// The guarded netlist, or nullopt when `net` already keeps the guard (or the guard is off).
std::optional<Netlist> guard_zero_products(const Netlist& net, const AlsOptions& options);

// The compensated netlist, or nullopt when no tie lowers the error.
std::optional<Netlist> compensate_constant_outputs(const Netlist& net, const AlsOptions& options);

}  // namespace fames
