// AVX-512 build of the scatter walk's row accumulation (counting_walk.h): 16 floats per add, the
// row's tail under a mask. Compiled with -mavx512f; chosen by counting.cpp through
// active_simd_level().
#include <immintrin.h>

#include "estimate/counting_walk.h"

namespace fames::estimate::detail {

void walk_tap_avx512(const TapWalk& w) {
  walk_tap(w, [](float* __restrict into, const float* __restrict from, int64_t count) {
    int64_t q = 0;
    for (; q + 16 <= count; q += 16)
      _mm512_storeu_ps(into + q, _mm512_add_ps(_mm512_loadu_ps(into + q), _mm512_loadu_ps(from + q)));
    if (q < count) {
      const __mmask16 m = static_cast<__mmask16>((1u << (count - q)) - 1);
      _mm512_mask_storeu_ps(into + q, m,
                            _mm512_add_ps(_mm512_maskz_loadu_ps(m, into + q), _mm512_maskz_loadu_ps(m, from + q)));
    }
  });
}

}  // namespace fames::estimate::detail
