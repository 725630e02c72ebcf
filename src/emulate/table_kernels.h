// Internal to src/emulate: the "table GEMM" every fast path reduces to, and the table formats the
// per-ISA kernels read. Not a public header.
//
//   out[o][p] = sum_k T[ weights[o][k] ][ act(k, p) ]        (int32, wrapping)
//
// Activations arrive as K rows of uint16 ENCODED indices, row k starting at idx + koff[k] (an
// im2col matrix, or taps read in place from a padded image), where
// encoded = raw * idx_mul + idx_add; each lookup kind picks the encoding that lets its shuffle or
// permute instruction use the lane directly as an index. Fast kinds sum int16 lanes for at most
// `run_length` taps (proved overflow-free: run_length * max|T| <= 32767), then widen into int32;
// bytes16 and pair32 sum T - min T >= 0 in uint16 lanes (run_length * max(T - min T) <= 65535)
// and add min T back per tap when they widen.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/product_table.h"
#include "emulate/simd_level.h"

namespace fames::detail {

enum class LookupKind {
  gather32,   // any table (int32 entries, wrapping sums): AVX2 vpgatherdd, 8 products each
  shuf8,      // ba <= 3: pshufb over int16 lanes, one shuffle yields low and high byte
  shuf16,     // ba == 4 (AVX2): two pshufb (low bytes, high bytes) per lane
  shuf32,     // ba == 5 (AVX2): byte lanes, one pshufb per 16-entry piece of each byte plane
  shuf64,     //   (2, 4, 8 pieces); an index outside a piece zeroes its lanes, so the pieces'
  shuf128,    //   results are ORed; ba == 6, 7 likewise; ba == 8 gathers instead
  bytes16,    // ba == 4, max T - min T <= 255: one pshufb over T - min T, uint16 sums
  perm32,     // ba <= 5 (AVX-512): vpermw over 32 int16 entries
  pair32,     // ba <= 5 (AVX-512): vpermi2d over 32 dwords packing two output channels' T - min T
  perm64,     // ba == 6: vpermi2w over 64 entries
  perm128,    // ba == 7: two vpermi2w, blended on index bit 6
  perm256,    // ba == 8: four vpermi2w, blended on index bits 6 and 7
};
const char* to_string(LookupKind kind);

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// A ProductTable rearranged for one lookup kind. Owns its rows; gather32 instead borrows the
// caller's int32 table (table32), which must outlive the call that uses it.
struct PreparedTable {
  SimdLevel level = SimdLevel::ref;
  LookupKind kind = LookupKind::gather32;
  int bw = 0, ba = 0;
  uint16_t idx_mul = 1, idx_add = 0;  // encoded activation = raw * idx_mul + idx_add
  int64_t run_length = 0;             // taps a 16-bit accumulator may sum (fast kinds only)
  int32_t bias = 0;                   // bytes16, pair32 rows hold T - bias (bias = min T); else 0
  int64_t row_bytes = 0;              // row of weight code w starts at rows + w * row_bytes
  std::unique_ptr<uint8_t[], FreeDeleter> rows;  // 64-byte aligned
  const int32_t* table32 = nullptr;   // gather32 only

  uint16_t encode(uint8_t raw) const { return static_cast<uint16_t>(raw * idx_mul + idx_add); }
  std::string name() const;  // "avx512/perm32"
};

// Chooses the kind for `table` at `level` (REQUIRES level != ref) and builds its rows.
PreparedTable prepare_table(const ProductTable& table, SimdLevel level);

struct GemmArgs {
  const PreparedTable* table;
  const uint8_t* weights;  // [O][ldw] raw weight codes
  int64_t ldw;
  // Encoded activations: tap k of position p is idx[koff[k] + p]; positions P .. round_up(P, 32) - 1
  // must hold some valid encoded index (their results are discarded), and the element after them
  // must be readable (pair32 loads it and ignores it).
  const uint16_t* idx;
  const int64_t* koff;
  int64_t K, P, O;
  int32_t* out;  // [O][ldo]; ldo % 32 == 0; columns P..ldo-1 are scratch
  int64_t ldo;
};

// Sets the calling thread's last_kernel_report().
void record_kernel(SimdLevel level, const std::string& kernel);

// Runs args.table->kind at args.table->level.
void run_table_gemm(const GemmArgs& args);
// Defined only when the build has x86 kernels. gather32 runs on table_gemm_avx2 at either level.
void table_gemm_avx2(const GemmArgs& args);
void table_gemm_avx512(const GemmArgs& args);  // idem

// TableLayer's per-element steps (table_layer.cpp defines them; x86/table_layer_avx2.cpp and
// x86/table_layer_avx512.cpp have the vector versions, bit-identical).
struct QuantSpec {  // float x -> encoded index of its raw activation pattern
  float step, inv_step, lo, hi;  // inv_step = 1 / step
  int32_t mask, idx_mul, idx_add;
};
struct EpilogueSpec {  // int32 sum of channel o -> float(sum) * scale[o] + bias[o] - correction[o]
  const float* scale;
  const float* bias;        // null: no bias
  const float* correction;  // null: none
};
// dst[i] = encoded(src[i]) for i < count.
void quantize_row_avx512(const float* src, int64_t count, const QuantSpec& q, uint16_t* dst);
// Channel c of pixel p at src[p * pixel_stride + c] -> dst[c * plane_stride + p].
void quantize_pixels_avx512(const float* src, int64_t pixels, int64_t pixel_stride,
                            int64_t channels, const QuantSpec& q, uint16_t* dst,
                            int64_t plane_stride);
// im2col of one block of output rows from a planar buffer: tap k = (ci * kh + ky) * kw + kx of
// output (r, x) (r < rows, x < ow) is
//   planes[ci * plane + (r * stride_h + ky * dilation_h) * wp + x * stride_w + kx * dilation_w]
// and goes to dst[k * ldt + r * ow + x]. Reads no element outside those addresses.
struct Im2colSpec {
  int64_t channels, kh, kw, stride_h, stride_w, dilation_h, dilation_w;
  int64_t plane, wp;  // planar buffer strides
  int64_t rows, ow;   // output rows and columns of the block
};
void im2col_avx512(const uint16_t* planes, const Im2colSpec& s, uint16_t* dst, int64_t ldt);
// Channel o (< og), column col + j (j < len) of tmp[og][ldt] -> dst[j * o_total + o].
void store_channels_last_avx512(const int32_t* tmp, int64_t ldt, int64_t og, int64_t col,
                                int64_t len, const EpilogueSpec& e, float* dst, int64_t o_total);
// The same four at AVX2.
void quantize_row_avx2(const float* src, int64_t count, const QuantSpec& q, uint16_t* dst);
void quantize_pixels_avx2(const float* src, int64_t pixels, int64_t pixel_stride, int64_t channels,
                          const QuantSpec& q, uint16_t* dst, int64_t plane_stride);
void im2col_avx2(const uint16_t* planes, const Im2colSpec& s, uint16_t* dst, int64_t ldt);
void store_channels_last_avx2(const int32_t* tmp, int64_t ldt, int64_t og, int64_t col, int64_t len,
                              const EpilogueSpec& e, float* dst, int64_t o_total);

// One level's vector steps, chosen in dispatch.cpp.
struct LayerSteps {
  void (*quantize_row)(const float*, int64_t, const QuantSpec&, uint16_t*);
  void (*quantize_pixels)(const float*, int64_t, int64_t, int64_t, const QuantSpec&, uint16_t*, int64_t);
  void (*im2col)(const uint16_t*, const Im2colSpec&, uint16_t*, int64_t);
  void (*store_channels_last)(const int32_t*, int64_t, int64_t, int64_t, int64_t, const EpilogueSpec&,
                              float*, int64_t);
};
// The steps at `level`; null at ref, or in a build without x86 kernels (the scalar loops then).
const LayerSteps* layer_steps(SimdLevel level);

}  // namespace fames::detail
