// The scatter walk's hot loop, shared by the reference build (counting.cpp) and the AVX-512 build
// (x86/counting_avx512.cpp): for one tap of one image, every output position adds its gradient row
// u[pos, 0..vo) into r[a] for the position's activation pattern a, and records which patterns
// occurred. Each element is one float sum in position order, so every build gives identical bits.
// Torch-free; internal to src/estimate.
#pragma once
#include <cstdint>
#include <vector>

namespace fames::estimate::detail {

struct TapWalk {
  const uint8_t* row0;   // the tap's first input pattern (top-left output position)
  int64_t row_stride;    // input patterns between output rows (padded width x stride)
  int64_t col_stride;    // input patterns between output columns (the stride)
  int64_t ho, wo;        // output positions
  const float* u;        // gradient rows [ho * wo, vo] of this image
  int64_t vo;            // row length: weightings x output channels
  float* r;              // accumulators [2^ba, vo]
  uint8_t* seen;         // [2^ba]
  std::vector<int64_t>* touched;
};

template <class AddRow>
inline void walk_tap(const TapWalk& w, AddRow add_row) {
  for (int64_t y = 0; y < w.ho; ++y) {
    const uint8_t* row = w.row0 + y * w.row_stride;
    for (int64_t x = 0; x < w.wo; ++x) {
      const int64_t a = row[x * w.col_stride];
      add_row(w.r + a * w.vo, w.u + (y * w.wo + x) * w.vo, w.vo);
      if (!w.seen[a]) {
        w.seen[a] = 1;
        w.touched->push_back(a);
      }
    }
  }
}

void walk_tap_ref(const TapWalk& w);
#if defined(FAMES_X86_KERNELS)
void walk_tap_avx512(const TapWalk& w);  // REQUIRES: the CPU has AVX-512F
#endif

}  // namespace fames::estimate::detail
