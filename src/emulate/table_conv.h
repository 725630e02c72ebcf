// Product-table convolution and linear layers: every multiplication of a quantized layer is looked up
// in a ProductTable (METHOD.md §1), and the products are summed exactly.
//
// Contract (shared by all four functions):
// - Operands are RAW bit patterns (core/signature.h): weight codes 0 .. 2^bw-1, activation codes
//   0 .. 2^ba-1, one uint8 each, with bw and ba taken from table.signature(). Bits above bw / ba are
//   REQUIRED to be zero (violations are undefined; the _ref versions assert).
// - One output element is the sum of T[w_raw][a_raw] over its receptive field, where
//   T[w][a] = table.raw(w, a). Sums are accumulated in two's-complement int32 and wrap modulo 2^32
//   exactly like plain int32 addition would (every level wraps identically).
// - Zero padding feeds the activation pattern 0 to the multiplier: a padded tap contributes
//   T[w][0], which an approximate multiplier may make nonzero.
// - All arrays are dense, row-major (NCHW / OIHW), owned by the caller; outputs are overwritten.
// - table_conv2d / table_linear use the fastest kernel for the signature on this CPU (see
//   emulate/simd_level.h to force a level and to ask which kernel ran), and
//   produce results bit-identical to the _ref versions, which are the plain-loop definition.
//   Threads: omp_get_max_threads() (1 when called inside an OpenMP parallel region).
// - Kernels (dispatch.cpp chooses; last_kernel_report() names the one used). Tables whose entries
//   all fit int16 run vector lookups, any other table AVX2 gathers from the int32 table:
//     AVX-512: ba <= 3 vpshufb "shuf8", ba 4 with max T - min T <= 255 vpshufb "bytes16",
//              ba 4-5 vpermi2d over entry pairs of two output channels "pair32" (vpermw
//              "perm32" when max T - min T is so large that uint16 runs would be very short),
//              ba 6 vpermi2w "perm64",
//              ba 7 "perm128", ba 8 "perm256" (2 / 4 vpermi2w blended on the high index bits);
//     AVX2:    ba <= 3 "shuf8", ba 4 "bytes16" if max T - min T <= 255 else "shuf16" (two
//              vpshufb), ba 5-7 "shuf32", "shuf64", "shuf128" (byte lanes: one vpshufb per 16
//              entries of each byte plane, 32 products a pass),
//              ba 8 "gather32" (vpgatherdd, 8 lookups each; at either level also the kernel of
//              tables beyond int16).
// - Thread safety: the functions may be called concurrently; they share no mutable state except
//   the "last kernel" report.
#pragma once
#include <cstdint>

#include "core/product_table.h"

namespace fames {

struct ConvShape {
  int64_t n = 1, c = 1, h = 1, w = 1;  // input batch, channels, height, width
  int64_t o = 1, kh = 1, kw = 1;       // output channels, kernel height, kernel width
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;  // zero padding on each side
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;  // c and o must both be divisible by groups; groups == c == o is depthwise

  int64_t out_h() const { return (h + 2 * pad_h - dilation_h * (kh - 1) - 1) / stride_h + 1; }
  int64_t out_w() const { return (w + 2 * pad_w - dilation_w * (kw - 1) - 1) / stride_w + 1; }
  // Weights per output channel (the reduction length K).
  int64_t taps() const { return c / groups * kh * kw; }
  // Throws fames::Error naming the offending field when the shape is not a valid convolution.
  void validate() const;
};

// act_raw: [n][c][h][w]; weight_raw: [o][c/groups][kh][kw]; out: [n][o][out_h][out_w].
void table_conv2d(const ConvShape& shape, const uint8_t* act_raw, const uint8_t* weight_raw,
                  const ProductTable& table, int32_t* out);
void table_conv2d_ref(const ConvShape& shape, const uint8_t* act_raw, const uint8_t* weight_raw,
                      const ProductTable& table, int32_t* out);

// act_raw: [batch][in_features]; weight_raw: [out_features][in_features]; out: [batch][out_features].
void table_linear(int64_t batch, int64_t in_features, int64_t out_features, const uint8_t* act_raw,
                  const uint8_t* weight_raw, const ProductTable& table, int32_t* out);
void table_linear_ref(int64_t batch, int64_t in_features, int64_t out_features,
                      const uint8_t* act_raw, const uint8_t* weight_raw, const ProductTable& table,
                      int32_t* out);

}  // namespace fames
