// AVX-512 build of the scatter walk (counting_walk.h). The walk adds 16 floats at a time, the row's
// tail under a mask, and keeps the nonzero sum of rows up to 64 floats in registers. The scatter moves one output channel's sums for 16 activation patterns at
// once (a gather down a column of r, then one add into a row of G), instead of one float at a time.
// Compiled with -mavx512f; chosen by counting.cpp through active_simd_level().
#include <immintrin.h>

#include <algorithm>

#include "estimate/counting_walk.h"

namespace fames::estimate::detail {
namespace {

// The lanes of vector v (of `vectors`) that lie inside a row of vo floats.
__mmask16 lane_mask(int64_t v, int64_t vectors, int64_t vo) {
  if (v + 1 < vectors || vo % 16 == 0) return 0xFFFF;
  return static_cast<__mmask16>((1u << (vo % 16)) - 1);
}

// Below this many touched patterns in a block of 16, a gather costs more than the scalar adds.
constexpr int kMinGatherLanes = 3;

}  // namespace

void scatter_tap_avx512(const TapScatter& s) {
  if (s.sa > 256) return scatter_tap_ref(s);
  uint32_t block_mask[16] = {};  // the touched patterns, 16 per block
  for (const int64_t a : *s.touched) block_mask[a >> 4] |= 1u << (a & 15);
  const __m512i row_offsets = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(static_cast<int>(s.vo)));
  const int64_t v_count = s.vo / s.channels;
  for (int64_t b = 0; b * 16 < s.sa; ++b) {
    const __mmask16 m = static_cast<__mmask16>(block_mask[b]);
    if (!m) continue;
    if (__builtin_popcount(m) < kMinGatherLanes) {  // few patterns: one float at a time
      for (uint32_t bits = m; bits; bits &= bits - 1) {
        const int64_t a = b * 16 + __builtin_ctz(bits);
        for (int64_t v = 0; v < v_count; ++v) {
          const float* rv = s.r + a * s.vo + v * s.channels;
          float* g = s.g + v * s.g_stride + a;
          for (int64_t o = 0; o < s.channels; ++o) g[s.w_of_channel[o] * s.sa] += rv[o];
        }
      }
      continue;
    }
    for (int64_t v = 0; v < v_count; ++v) {
      const float* column = s.r + b * 16 * s.vo + v * s.channels;
      float* g = s.g + v * s.g_stride + b * 16;
      for (int64_t o = 0; o < s.channels; ++o) {
        const __m512 sums = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, row_offsets, column + o, 4);
        float* into = g + s.w_of_channel[o] * s.sa;
        _mm512_mask_storeu_ps(into, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, into), sums));
      }
    }
  }
  for (const int64_t a : *s.touched) {
    std::fill(s.r + a * s.vo, s.r + (a + 1) * s.vo, 0.0f);
    s.seen[a] = 0;
  }
  s.touched->clear();
}

namespace {

// The walk with the nonzero sum in registers (rows of up to 64 floats).
template <int kVectors>
int64_t walk_in_registers(const TapWalk& w) {
  __mmask16 mask[kVectors];
  __m512 sum[kVectors];
  for (int v = 0; v < kVectors; ++v) {
    mask[v] = lane_mask(v, kVectors, w.vo);
    sum[v] = _mm512_setzero_ps();
  }
  const int64_t visited = walk_tap(w, [&](int64_t a, const float* u) {
    float* into = w.r + a * w.vo;
    for (int v = 0; v < kVectors; ++v) {
      const __m512 row = _mm512_maskz_loadu_ps(mask[v], u + 16 * v);
      _mm512_mask_storeu_ps(into + 16 * v, mask[v], _mm512_add_ps(_mm512_maskz_loadu_ps(mask[v], into + 16 * v), row));
      sum[v] = _mm512_add_ps(sum[v], row);
    }
  });
  for (int v = 0; v < kVectors; ++v) _mm512_mask_storeu_ps(w.nonzero_sum + 16 * v, mask[v], sum[v]);
  return visited;
}

// into[0..vo) += from[0..vo).
void add_row(float* into, const float* from, int64_t vo) {
  const int64_t vectors = (vo + 15) / 16;
  for (int64_t v = 0; v < vectors; ++v) {
    const __mmask16 m = lane_mask(v, vectors, vo);
    _mm512_mask_storeu_ps(into + 16 * v, m,
                          _mm512_add_ps(_mm512_maskz_loadu_ps(m, into + 16 * v), _mm512_maskz_loadu_ps(m, from + 16 * v)));
  }
}

int64_t walk_in_memory(const TapWalk& w) {
  std::fill(w.nonzero_sum, w.nonzero_sum + w.vo, 0.0f);
  return walk_tap(w, [&](int64_t a, const float* u) {
    add_row(w.r + a * w.vo, u, w.vo);
    add_row(w.nonzero_sum, u, w.vo);
  });
}

}  // namespace

int64_t walk_tap_avx512(const TapWalk& w) {
  switch ((w.vo + 15) / 16) {
    case 1: return walk_in_registers<1>(w);
    case 2: return walk_in_registers<2>(w);
    case 3: return walk_in_registers<3>(w);
    case 4: return walk_in_registers<4>(w);
    default: return walk_in_memory(w);
  }
}

}  // namespace fames::estimate::detail
