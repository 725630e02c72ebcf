// Adds approximate-logic-synthesis results to a library: for every signature, ALS (als.h) runs from
// the exact Dadda multiplier, its steps are thinned to their energy/error Pareto front, and at most
// `max_per_signature` of them, spread evenly along the energy axis, are added. Signatures run in
// parallel (OpenMP); the result does not depend on the thread count.
#pragma once
#include <functional>
#include <vector>

#include "appmul/als.h"
#include "appmul/library.h"

namespace fames {

// `on_done(sig, added)` runs once per signature, one call at a time. Returns the number added.
size_t add_als_members(Library& library, const std::vector<Signature>& signatures, const AlsOptions& options,
                       int max_per_signature, const std::function<void(const Signature&, size_t)>& on_done = {});

}  // namespace fames
