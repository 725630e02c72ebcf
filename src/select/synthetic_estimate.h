// A random but plausible Estimate, for tests, benchmarks and demos (no model or data needed).
// Each layer gets a signature from a small mixed-precision pool and multiplications per image in
// [1e5, 5e6]; each signature gets one exact AppMul and `candidates - 1` approximate ones with
// energy 25%..99% of the exact one and MRED up to 20%; a candidate's dL grows with MRED squared
// times a per-layer sensitivity, with small noise so that a few dL are negative. Deterministic for
// a given spec.
#pragma once
#include <cstdint>

#include "core/estimate_file.h"

namespace fames {

struct SyntheticEstimateSpec {
  int layers = 20;      // >= 1
  int candidates = 30;  // per layer, exact included; >= 1
  uint32_t seed = 1;
};

Estimate synthetic_estimate(const SyntheticEstimateSpec& spec);

}  // namespace fames
