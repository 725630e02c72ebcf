// AVX-512 build of the scatter walk (counting_walk.h). The walk adds 16 floats at a time, the row's
// tail under a mask, and keeps the nonzero sum of rows up to 64 floats in registers. The scatter
// moves one output channel's sums for 16 activation patterns at once (a 16 x 16 transpose of r in
// registers, then one add into a row of G), instead of one float at a time.
// Compiled with -mavx512f; chosen by counting.cpp through active_simd_level().
#include <immintrin.h>

#include <algorithm>

#include "measure/counting_walk.h"

namespace fames::measure::detail {
namespace {

// The lanes of vector v (of `vectors`) that lie inside a row of vo floats.
__mmask16 lane_mask(int64_t v, int64_t vectors, int64_t vo) {
  if (v + 1 < vectors || vo % 16 == 0) return 0xFFFF;
  return static_cast<__mmask16>((1u << (vo % 16)) - 1);
}

// Below this many touched patterns in a block of 16, the transpose costs more than the scalar adds.
constexpr int kMinBlockLanes = 3;

// Transposes a 16 x 16 block of floats in registers: afterwards x[c][k] is what x[k][c] was.
// Three rounds: 2 x 2 interleaves, 4 x 4 blocks within 128-bit lanes, then the lanes themselves.
inline void transpose16(__m512 (&x)[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(x[2 * i], x[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(x[2 * i], x[2 * i + 1]);
  }
  __m512 u[16];  // u[4j + q], 128-bit lane L: column 4L + q of rows 4j .. 4j + 3
  for (int j = 0; j < 4; ++j) {
    u[4 * j] = _mm512_shuffle_ps(t[4 * j], t[4 * j + 2], 0x44);
    u[4 * j + 1] = _mm512_shuffle_ps(t[4 * j], t[4 * j + 2], 0xEE);
    u[4 * j + 2] = _mm512_shuffle_ps(t[4 * j + 1], t[4 * j + 3], 0x44);
    u[4 * j + 3] = _mm512_shuffle_ps(t[4 * j + 1], t[4 * j + 3], 0xEE);
  }
  for (int q = 0; q < 4; ++q) {
    const __m512 low_ab = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x44), high_ab = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xEE);
    const __m512 low_cd = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x44),
                 high_cd = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xEE);
    x[q] = _mm512_shuffle_f32x4(low_ab, low_cd, 0x88);
    x[4 + q] = _mm512_shuffle_f32x4(low_ab, low_cd, 0xDD);
    x[8 + q] = _mm512_shuffle_f32x4(high_ab, high_cd, 0x88);
    x[12 + q] = _mm512_shuffle_f32x4(high_ab, high_cd, 0xDD);
  }
}

}  // namespace

void scatter_tap_avx512(const TapScatter& s) {
  if (s.sa > 256) return scatter_tap_ref(s);
  uint32_t block_mask[16] = {};  // the touched patterns, 16 per block
  for (const int64_t a : *s.touched) block_mask[a >> 4] |= 1u << (a & 15);
  const int64_t v_count = s.vo / s.channels;
  for (int64_t b = 0; b * 16 < s.sa; ++b) {
    const __mmask16 m = static_cast<__mmask16>(block_mask[b]);
    if (!m) continue;
    if (__builtin_popcount(m) < kMinBlockLanes) {  // few patterns: one float at a time
      for (uint32_t bits = m; bits; bits &= bits - 1) scatter_pattern(s, b * 16 + __builtin_ctz(bits));
      continue;
    }
    const int64_t block_rows = std::min<int64_t>(16, s.sa - b * 16);
    for (int64_t v = 0; v < v_count; ++v) {
      const float* rows = s.r + b * 16 * s.vo + v * s.channels;
      float* g = s.g + v * s.g_stride + b * 16;
      for (int64_t o0 = 0; o0 < s.channels; o0 += 16) {
        const int64_t width = std::min<int64_t>(16, s.channels - o0);
        const __mmask16 channel_mask = static_cast<__mmask16>(width == 16 ? 0xFFFF : (1u << width) - 1);
        __m512 x[16];
        for (int64_t k = 0; k < 16; ++k)
          x[k] = k < block_rows ? _mm512_maskz_loadu_ps(channel_mask, rows + k * s.vo + o0) : _mm512_setzero_ps();
        transpose16(x);  // x[c]: channel o0 + c's sums for the block's 16 patterns
        for (int64_t c = 0; c < width; ++c) {
          float* into = g + s.w_of_channel[o0 + c] * s.sa;
          _mm512_mask_storeu_ps(into, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, into), x[c]));
        }
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

}  // namespace fames::measure::detail
