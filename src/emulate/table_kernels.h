// Internal to src/emulate: the "table GEMM" every fast path reduces to, and the table formats the
// per-ISA kernels read. Not a public header.
//
//   out[o][p] = sum_k T[ weights[o][k] ][ act(k, p) ]        (int32, wrapping)
//
// Activations arrive as a [K][ldp] uint16 matrix of ENCODED indices (im2col output), where
// encoded = raw * idx_mul + idx_add; each lookup kind picks the encoding that lets its shuffle or
// permute instruction use the lane directly as an index. Fast kinds sum int16 lanes for at most
// `run_length` taps (proved overflow-free: run_length * max|T| <= 32767), then widen into int32;
// bytes16 sums T - min T >= 0 in uint16 lanes (run_length * max(T - min T) <= 65535) and adds
// min T back per tap when it widens.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "appmul/product_table.h"
#include "emulate/simd_level.h"

namespace fames::emulate_detail {

enum class LookupKind {
  generic32,  // portable: int32 table, one scalar lookup per product; serves any table
  shuf8,      // ba <= 3: pshufb over int16 lanes, one shuffle yields low and high byte
  shuf16,     // ba == 4 (AVX2): two pshufb (low bytes, high bytes) per lane
  bytes16,    // ba == 4, max T - min T <= 255: one pshufb over T - min T, uint16 sums
  perm32,     // ba <= 5 (AVX-512): vpermw over 32 int16 entries
  perm64,     // ba == 6: vpermi2w over 64 entries
  perm128,    // ba == 7: two vpermi2w, blended on index bit 6
  perm256,    // ba == 8: four vpermi2w, blended on index bits 6 and 7
};
const char* to_string(LookupKind kind);

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// A ProductTable rearranged for one lookup kind. Owns its rows; generic32 instead borrows the
// caller's int32 table (table32), which must outlive the call that uses it.
struct PreparedTable {
  SimdLevel level = SimdLevel::ref;
  LookupKind kind = LookupKind::generic32;
  int bw = 0, ba = 0;
  uint16_t idx_mul = 1, idx_add = 0;  // encoded activation = raw * idx_mul + idx_add
  int64_t run_length = 0;             // taps a 16-bit accumulator may sum (fast kinds only)
  int32_t bias = 0;                   // bytes16 rows hold T - bias (bias = min T); else 0
  int64_t row_bytes = 0;              // row of weight code w starts at rows + w * row_bytes
  std::unique_ptr<uint8_t[], FreeDeleter> rows;  // 64-byte aligned
  const int32_t* table32 = nullptr;   // generic32 only

  uint16_t encode(uint8_t raw) const { return static_cast<uint16_t>(raw * idx_mul + idx_add); }
  std::string name() const;  // "avx512/perm32"
};

// Chooses the kind for `table` at `level` (REQUIRES level != ref) and builds its rows.
PreparedTable prepare_table(const ProductTable& table, SimdLevel level);

struct GemmArgs {
  const PreparedTable* table;
  const uint8_t* weights;  // [O][ldw] raw weight codes
  int64_t ldw;
  const uint16_t* idx;  // [K][ldp] encoded activations; ldp % 32 == 0; columns P..ldp-1 hold
  int64_t ldp;          // some valid encoded index (results there are discarded)
  int64_t K, P, O;
  int32_t* out;  // [O][ldo]; ldo % 32 == 0; columns P..ldo-1 are scratch
  int64_t ldo;
};

// Sets the calling thread's last_kernel_report().
void record_kernel(SimdLevel level, const std::string& kernel);

// Runs args.table->kind at args.table->level.
void run_table_gemm(const GemmArgs& args);
void table_gemm_generic(const GemmArgs& args);
void table_gemm_avx2(const GemmArgs& args);    // defined only when the build has x86 kernels
void table_gemm_avx512(const GemmArgs& args);  // idem

}  // namespace fames::emulate_detail
