// AVX2 prologue and epilogue of TableLayer (table_layer.cpp), the 8-lane counterparts of
// x86/table_layer_avx512.cpp: activation quantization into the encoded planar buffer, im2col, and
// scaling of int32 sums into channels-last floats, with 8 x 8 register transposes. Compiled with
// -mavx2 and -ffp-contract=off (no FMA): the epilogue's multiply, add and subtract stay three
// roundings, like the reference. Quantization uses the same exact reciprocal trick as the AVX-512
// file. Partial vectors go through a small buffer, so every element takes the vector path and no
// load or store leaves the caller's rows.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "emulate/table_kernels.h"

namespace fames::detail {
namespace {

// r[j] becomes column j of the 8 x 8 int32 matrix whose row i was r[i].
inline void transpose8(__m256i r[8]) {
  __m256i a[8], b[8];
  for (int m = 0; m < 4; ++m) {
    a[2 * m] = _mm256_unpacklo_epi32(r[2 * m], r[2 * m + 1]);
    a[2 * m + 1] = _mm256_unpackhi_epi32(r[2 * m], r[2 * m + 1]);
  }
  for (int q = 0; q < 2; ++q) {
    b[4 * q] = _mm256_unpacklo_epi64(a[4 * q], a[4 * q + 2]);
    b[4 * q + 1] = _mm256_unpackhi_epi64(a[4 * q], a[4 * q + 2]);
    b[4 * q + 2] = _mm256_unpacklo_epi64(a[4 * q + 1], a[4 * q + 3]);
    b[4 * q + 3] = _mm256_unpackhi_epi64(a[4 * q + 1], a[4 * q + 3]);
  }
  // b[4q + e], 128-bit lane L: rows 4q..4q+3 of column 4L + e.
  for (int e = 0; e < 4; ++e) {
    r[e] = _mm256_permute2x128_si256(b[e], b[4 + e], 0x20);
    r[4 + e] = _mm256_permute2x128_si256(b[e], b[4 + e], 0x31);
  }
}

// Encoded indices (as int32 lanes) of 8 floats: encode16 of table_layer_avx512.cpp on 8 lanes.
inline __m256i encode8(__m256 v, const QuantSpec& q) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 t = _mm256_mul_ps(v, _mm256_set1_ps(q.inv_step));
  __m256 r = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 fl = _mm256_round_ps(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m256 dist = _mm256_and_ps(_mm256_sub_ps(_mm256_sub_ps(t, fl), _mm256_set1_ps(0.5f)), abs_mask);
  const __m256 slack = _mm256_add_ps(_mm256_mul_ps(_mm256_and_ps(t, abs_mask), _mm256_set1_ps(0x1p-21f)),
                                     _mm256_set1_ps(0x1p-30f));
  if (_mm256_movemask_ps(_mm256_cmp_ps(dist, slack, _CMP_LE_OQ))) {
    r = _mm256_round_ps(_mm256_div_ps(v, _mm256_set1_ps(q.step)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // std::min(hi, std::max(lo, r)): a NaN becomes lo, as there (max_ps returns its second operand).
  const __m256 code = _mm256_min_ps(_mm256_max_ps(r, _mm256_set1_ps(q.lo)), _mm256_set1_ps(q.hi));
  const __m256i raw = _mm256_and_si256(_mm256_cvttps_epi32(code), _mm256_set1_epi32(q.mask));
  const __m256i e = _mm256_add_epi32(_mm256_mullo_epi32(raw, _mm256_set1_epi32(q.idx_mul)),
                                     _mm256_set1_epi32(q.idx_add));
  return _mm256_and_si256(e, _mm256_set1_epi32(0xffff));  // uint16 wrap-around, as the encoding's
}

// The 8 int32 lanes (each 0..65535) as 8 uint16.
inline __m128i pack8(__m256i e) {
  return _mm_packus_epi32(_mm256_castsi256_si128(e), _mm256_extracti128_si256(e, 1));
}

inline void store8(uint16_t* dst, __m256i e, int64_t n) {
  const __m128i p = pack8(e);
  if (n >= 8) return _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), p);
  alignas(16) uint16_t buf[8];
  _mm_store_si128(reinterpret_cast<__m128i*>(buf), p);
  std::memcpy(dst, buf, static_cast<size_t>(n) * sizeof(uint16_t));
}

inline __m256 load8(const float* src, int64_t n) {
  if (n >= 8) return _mm256_loadu_ps(src);
  alignas(32) float buf[8] = {};
  std::memcpy(buf, src, static_cast<size_t>(n) * sizeof(float));
  return _mm256_load_ps(buf);
}

// Lanes j < n set: for the masked int32 loads and float stores.
inline __m256i first(int64_t n) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::min<int64_t>(n, 8))), lane);
}

}  // namespace

void quantize_row_avx2(const float* src, int64_t count, const QuantSpec& q, uint16_t* dst) {
  for (int64_t i = 0; i < count; i += 8) {
    const int64_t n = count - i;
    store8(dst + i, encode8(load8(src + i, n), q), n);
  }
}

void quantize_pixels_avx2(const float* src, int64_t pixels, int64_t pixel_stride, int64_t channels,
                          const QuantSpec& q, uint16_t* dst, int64_t plane_stride) {
  __m256i r[8];
  for (int64_t p0 = 0; p0 < pixels; p0 += 8) {
    const int64_t np = std::min<int64_t>(8, pixels - p0);
    for (int64_t c0 = 0; c0 < channels; c0 += 8) {
      const int64_t nc = std::min<int64_t>(8, channels - c0);
      for (int i = 0; i < 8; ++i)
        r[i] = i < np ? encode8(load8(src + (p0 + i) * pixel_stride + c0, nc), q) : _mm256_setzero_si256();
      transpose8(r);
      for (int j = 0; j < nc; ++j) store8(dst + (c0 + j) * plane_stride + p0, r[j], np);
    }
  }
}

// Stride 1: each row of a tap is one contiguous copy, in 16- and 8-element pieces; other strides
// gather element by element (only the stems and downsampling layers have them).
void im2col_avx2(const uint16_t* planes, const Im2colSpec& spec, uint16_t* dst, int64_t ldt) {
  const Im2colSpec s = spec;  // locals: the stores below could otherwise alias the fields
  const int64_t src_step = s.stride_h * s.wp;
  for (int64_t ci = 0, k = 0; ci < s.channels; ++ci)
    for (int64_t ky = 0; ky < s.kh; ++ky)
      for (int64_t kx = 0; kx < s.kw; ++kx, ++k) {
        const uint16_t* tap = planes + ci * s.plane + ky * s.dilation_h * s.wp + kx * s.dilation_w;
        uint16_t* out = dst + k * ldt;
        for (int64_t r = 0; r < s.rows; ++r, tap += src_step, out += s.ow) {
          if (s.stride_w != 1) {
            for (int64_t x = 0; x < s.ow; ++x) out[x] = tap[x * s.stride_w];
            continue;
          }
          int64_t x = 0;
          for (; x + 16 <= s.ow; x += 16)
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + x),
                                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tap + x)));
          for (; x + 8 <= s.ow; x += 8)
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + x), _mm_loadu_si128(reinterpret_cast<const __m128i*>(tap + x)));
          for (; x < s.ow; ++x) out[x] = tap[x];
        }
      }
}

void store_channels_last_avx2(const int32_t* tmp, int64_t ldt, int64_t og, int64_t col, int64_t len,
                              const EpilogueSpec& e, float* dst, int64_t o_total) {
  __m256i r[8];
  for (int64_t c0 = 0; c0 < og; c0 += 8) {
    const int64_t nc = std::min<int64_t>(8, og - c0);
    const __m256i cm = first(nc);
    const __m256 scale = _mm256_maskload_ps(e.scale + c0, cm);
    const __m256 bias = e.bias ? _mm256_maskload_ps(e.bias + c0, cm) : _mm256_setzero_ps();
    const __m256 corr = e.correction ? _mm256_maskload_ps(e.correction + c0, cm) : _mm256_setzero_ps();
    for (int64_t j0 = 0; j0 < len; j0 += 8) {
      const int64_t np = std::min<int64_t>(8, len - j0);
      const __m256i pm = first(np);
      for (int i = 0; i < 8; ++i)
        r[i] = i < nc ? _mm256_maskload_epi32(tmp + (c0 + i) * ldt + col + j0, pm) : _mm256_setzero_si256();
      transpose8(r);
      for (int j = 0; j < np; ++j) {
        __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(r[j]), scale);
        if (e.bias) v = _mm256_add_ps(v, bias);
        if (e.correction) v = _mm256_sub_ps(v, corr);
        _mm256_maskstore_ps(dst + (j0 + j) * o_total + c0, cm, v);
      }
    }
  }
}

}  // namespace fames::detail
