// AVX-512 prologue and epilogue of TableLayer (table_layer.cpp): activation quantization into the
// encoded planar buffer, and scaling of int32 sums into channels-last floats. Channels-last data is
// moved through 16 x 16 register transposes. Compiled with AVX-512 flags and -ffp-contract=off:
// the epilogue's multiply, add and subtract must stay three roundings, like the reference.
//
// Quantization is exact without a division per element: t = x * (1 / step) differs from
// fl(x / step) by less than |t| * 2^-22, so both round to the same integer unless t lies that close
// to a half-integer; vectors with such a lane are redone with the true division.
#include <immintrin.h>

#include <algorithm>

#include "emulate/table_kernels.h"

namespace fames::detail {
namespace {

// r[j] becomes column j of the 16 x 16 int32 matrix whose row i was r[i].
inline void transpose16(__m512i r[16]) {
  __m512i a[16], b[16];
  for (int m = 0; m < 8; ++m) {
    a[2 * m] = _mm512_unpacklo_epi32(r[2 * m], r[2 * m + 1]);
    a[2 * m + 1] = _mm512_unpackhi_epi32(r[2 * m], r[2 * m + 1]);
  }
  for (int q = 0; q < 4; ++q) {
    b[4 * q] = _mm512_unpacklo_epi64(a[4 * q], a[4 * q + 2]);
    b[4 * q + 1] = _mm512_unpackhi_epi64(a[4 * q], a[4 * q + 2]);
    b[4 * q + 2] = _mm512_unpacklo_epi64(a[4 * q + 1], a[4 * q + 3]);
    b[4 * q + 3] = _mm512_unpackhi_epi64(a[4 * q + 1], a[4 * q + 3]);
  }
  // b[4q + e], 128-bit lane L: rows 4q..4q+3 of column 4L + e. A 4 x 4 transpose of lanes per e.
  for (int e = 0; e < 4; ++e) {
    const __m512i c0 = _mm512_shuffle_i32x4(b[e], b[4 + e], 0x44);
    const __m512i c1 = _mm512_shuffle_i32x4(b[e], b[4 + e], 0xEE);
    const __m512i c2 = _mm512_shuffle_i32x4(b[8 + e], b[12 + e], 0x44);
    const __m512i c3 = _mm512_shuffle_i32x4(b[8 + e], b[12 + e], 0xEE);
    r[e] = _mm512_shuffle_i32x4(c0, c2, 0x88);
    r[4 + e] = _mm512_shuffle_i32x4(c0, c2, 0xDD);
    r[8 + e] = _mm512_shuffle_i32x4(c1, c3, 0x88);
    r[12 + e] = _mm512_shuffle_i32x4(c1, c3, 0xDD);
  }
}

inline __mmask16 first(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1);
}

// Encoded indices (as int32 lanes) of 16 floats: the Quantizer of table_layer.cpp, vectorized.
inline __m512i encode16(__m512 v, const QuantSpec& q) {
  const __m512 inv = _mm512_set1_ps(q.inv_step);
  __m512 t = _mm512_mul_ps(v, inv);
  __m512 r = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // Distance of t from the half-integer between floor(t) and floor(t) + 1.
  const __m512 fl = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m512 dist = _mm512_abs_ps(_mm512_sub_ps(_mm512_sub_ps(t, fl), _mm512_set1_ps(0.5f)));
  const __m512 slack = _mm512_add_ps(_mm512_mul_ps(_mm512_abs_ps(t), _mm512_set1_ps(0x1p-21f)),
                                     _mm512_set1_ps(0x1p-30f));
  if (_mm512_cmp_ps_mask(dist, slack, _CMP_LE_OQ)) {
    r = _mm512_roundscale_ps(_mm512_div_ps(v, _mm512_set1_ps(q.step)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // std::min(hi, std::max(lo, r)): a NaN becomes lo, as there (max_ps returns its second operand).
  const __m512 code = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(q.lo)), _mm512_set1_ps(q.hi));
  const __m512i raw = _mm512_and_si512(_mm512_cvttps_epi32(code), _mm512_set1_epi32(q.mask));
  return _mm512_add_epi32(_mm512_mullo_epi32(raw, _mm512_set1_epi32(q.idx_mul)),
                          _mm512_set1_epi32(q.idx_add));
}

}  // namespace

void quantize_row_avx512(const float* src, int64_t count, const QuantSpec& q, uint16_t* dst) {
  for (int64_t i = 0; i < count; i += 16) {
    const __mmask16 m = first(count - i);
    const __m512i e = encode16(_mm512_maskz_loadu_ps(m, src + i), q);
    _mm512_mask_cvtepi32_storeu_epi16(dst + i, m, e);
  }
}

void quantize_pixels_avx512(const float* src, int64_t pixels, int64_t pixel_stride,
                            int64_t channels, const QuantSpec& q, uint16_t* dst,
                            int64_t plane_stride) {
  __m512i r[16];
  for (int64_t p0 = 0; p0 < pixels; p0 += 16) {
    const int64_t np = std::min<int64_t>(16, pixels - p0);
    const __mmask16 pm = first(np);
    for (int64_t c0 = 0; c0 < channels; c0 += 16) {
      const int64_t nc = std::min<int64_t>(16, channels - c0);
      const __mmask16 cm = first(nc);
      for (int i = 0; i < 16; ++i)
        r[i] = i < np ? encode16(_mm512_maskz_loadu_ps(cm, src + (p0 + i) * pixel_stride + c0), q)
                      : _mm512_setzero_si512();
      transpose16(r);
      for (int j = 0; j < nc; ++j)
        _mm512_mask_cvtepi32_storeu_epi16(dst + (c0 + j) * plane_stride + p0, pm, r[j]);
    }
  }
}

namespace {

// One tap's rows of output columns [x0, x0 + n) into dst rows of length ow (stride 1: n <= 32,
// stride 2: n <= 16); the masks are fixed for the whole tap.
template <int kStride>
void copy_tap_rows(const uint16_t* src, int64_t src_step, int64_t rows, int64_t n, uint16_t* dst,
                   int64_t ow) {
  if constexpr (kStride == 1) {
    const __mmask32 m = n == 32 ? ~__mmask32{0} : (__mmask32{1} << n) - 1;
    for (int64_t r = 0; r < rows; ++r, src += src_step, dst += ow)
      _mm512_mask_storeu_epi16(dst, m, _mm512_maskz_loadu_epi16(m, src));
  } else {
    const __mmask32 in = (__mmask32{1} << (2 * n - 1)) - 1;  // elements 0, 2, .., 2n - 2
    const auto out = static_cast<__mmask16>((1u << n) - 1);
    for (int64_t r = 0; r < rows; ++r, src += src_step, dst += ow)
      _mm256_mask_storeu_epi16(dst, out, _mm512_cvtepi32_epi16(_mm512_maskz_loadu_epi16(in, src)));
  }
}

}  // namespace

// One masked load and store per row of a tap (rows are 8 to 32 taps in the common layers; a memcpy
// call per row cost more than the row). Stride 2 keeps the even elements of 32 loaded ones.
void im2col_avx512(const uint16_t* planes, const Im2colSpec& spec, uint16_t* dst, int64_t ldt) {
  const Im2colSpec s = spec;  // locals: the stores below could otherwise alias the fields
  const int64_t src_step = s.stride_h * s.wp;
  for (int64_t ci = 0, k = 0; ci < s.channels; ++ci)
    for (int64_t ky = 0; ky < s.kh; ++ky)
      for (int64_t kx = 0; kx < s.kw; ++kx, ++k) {
        const uint16_t* tap = planes + ci * s.plane + ky * s.dilation_h * s.wp + kx * s.dilation_w;
        uint16_t* out = dst + k * ldt;
        if (s.stride_w == 1) {
          for (int64_t x = 0; x < s.ow; x += 32)
            copy_tap_rows<1>(tap + x, src_step, s.rows, std::min<int64_t>(32, s.ow - x), out + x, s.ow);
        } else if (s.stride_w == 2) {
          for (int64_t x = 0; x < s.ow; x += 16)
            copy_tap_rows<2>(tap + 2 * x, src_step, s.rows, std::min<int64_t>(16, s.ow - x), out + x,
                             s.ow);
        } else {
          for (int64_t r = 0; r < s.rows; ++r)
            for (int64_t x = 0; x < s.ow; ++x) out[r * s.ow + x] = tap[r * src_step + x * s.stride_w];
        }
      }
}

void store_channels_last_avx512(const int32_t* tmp, int64_t ldt, int64_t og, int64_t col,
                                int64_t len, const EpilogueSpec& e, float* dst, int64_t o_total) {
  __m512i r[16];
  for (int64_t c0 = 0; c0 < og; c0 += 16) {
    const int64_t nc = std::min<int64_t>(16, og - c0);
    const __mmask16 cm = first(nc);
    const __m512 scale = _mm512_maskz_loadu_ps(cm, e.scale + c0);
    const __m512 bias = e.bias ? _mm512_maskz_loadu_ps(cm, e.bias + c0) : _mm512_setzero_ps();
    const __m512 corr = e.correction ? _mm512_maskz_loadu_ps(cm, e.correction + c0) : _mm512_setzero_ps();
    for (int64_t j0 = 0; j0 < len; j0 += 16) {
      const int64_t np = std::min<int64_t>(16, len - j0);
      const __mmask16 pm = first(np);
      for (int i = 0; i < 16; ++i)
        r[i] = i < nc ? _mm512_maskz_loadu_epi32(pm, tmp + (c0 + i) * ldt + col + j0)
                      : _mm512_setzero_si512();
      transpose16(r);
      for (int j = 0; j < np; ++j) {
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(r[j]), scale);
        if (e.bias) v = _mm512_add_ps(v, bias);
        if (e.correction) v = _mm512_sub_ps(v, corr);
        _mm512_mask_storeu_ps(dst + (j0 + j) * o_total + c0, cm, v);
      }
    }
  }
}

}  // namespace fames::detail
