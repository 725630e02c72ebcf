// Which instruction-set level the product-table kernels (emulate/table_conv.h) run at.
//
// The level is chosen once, in one place (dispatch.cpp): the best the CPU supports, unless the
// environment variable FAMES_SIMD=ref|avx2|avx512 or set_simd_level() asks for another. Asking for
// a level the CPU lacks falls back to the best available one below it. `ref` runs the plain-loop
// reference. Every level produces bit-identical results; only speed differs.
// Thread safety: the level is a process-wide atomic; the "last kernel" report is per thread.
#pragma once
#include <string>

namespace fames {

enum class SimdLevel { ref = 0, avx2 = 1, avx512 = 2 };

const char* to_string(SimdLevel level);
// Parses "ref", "avx2" or "avx512". Throws fames::Error naming `origin` (a flag or variable) otherwise.
SimdLevel parse_simd_level(const std::string& text, const std::string& origin);

// The best level this CPU (and this build) supports.
SimdLevel best_simd_level();
// The level kernels run at now.
SimdLevel active_simd_level();
// Requests a level; returns the level actually in force (clamped to best_simd_level()).
SimdLevel set_simd_level(SimdLevel requested);

// What served the most recent table_conv2d / table_linear call on the calling thread.
struct KernelReport {
  SimdLevel level = SimdLevel::ref;
  std::string kernel = "none";  // e.g. "avx512/perm32", "avx2/gather32", "ref"
};
KernelReport last_kernel_report();

}  // namespace fames
