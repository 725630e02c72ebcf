// AVX2 table GEMM. Compiled with -mavx2 -mfma; reached only through run_table_gemm() after
// best_simd_level() confirmed the CPU has AVX2. Products are int16 lanes, 16 positions per register:
//   shuf8  (ba <= 3) one vpshufb: row = [8 low bytes | 8 high bytes], lane = a | (a + 8) << 8
//   bytes16 (ba == 4, max T - min T <= 255) one vpshufb over 16 bytes T - min T
//   shuf16 (ba == 4) two vpshufb: row = [16 low bytes][16 high bytes], lane = a | 0x8000; the
//                    high-byte index (a << 8 | 0x80) is derived once per index vector.
// Wider activations fall back to the portable kernel.
#include <immintrin.h>

#include <cassert>

#include "emulate/x86/blocked_gemm.h"

namespace fames::detail {
namespace {

struct Avx2Base {
  using Vec = __m256i;
  static constexpr int kLanes = 16;
  static constexpr int kMaxOB = 2;  // 16 ymm registers: 8 accumulators, 4 indices, rows
  static constexpr int kMaxPB = 4;
  static constexpr bool kHasWide = false;  // ba <= 4 tables allow long int16 runs anyway
  static Vec zero() { return _mm256_setzero_si256(); }
  // In place, as asm: see accumulate16 in table_gemm_avx512.cpp.
  static void accumulate16(Vec& acc, Vec v) { asm("vpaddw %1, %0, %0" : "+x"(acc) : "x"(v)); }
  static __m256i broadcast_row(const uint8_t* p) {
    return _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static void store_widen(Vec acc, int32_t* dst, bool accumulate, int32_t offset) {
    assert(offset == 0);  // signed kinds have no bias
    (void)offset;
    __m256i lo = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(acc));
    __m256i hi = _mm256_cvtepi16_epi32(_mm256_extracti128_si256(acc, 1));
    auto* d = reinterpret_cast<__m256i*>(dst);
    if (accumulate) {
      lo = _mm256_add_epi32(lo, _mm256_loadu_si256(d));
      hi = _mm256_add_epi32(hi, _mm256_loadu_si256(d + 1));
    }
    _mm256_storeu_si256(d, lo);
    _mm256_storeu_si256(d + 1, hi);
  }
};

struct Shuf8 : Avx2Base {
  static constexpr int kRowBytes = 16;
  using Row = __m256i;
  using Idx = __m256i;
  static Row load_row(const uint8_t* p) { return broadcast_row(p); }
  static Idx load_idx(const uint16_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static Vec lookup(const Row& r, const Idx& i) { return _mm256_shuffle_epi8(r, i); }
};

// ba == 4 tables spanning <= 255: rows hold T - min T, so one shuffle (lane = a | 0x8000) yields
// zero-extended products; uint16 sums stay below 65536 (run_length), min T is added back on widening.
struct Bytes16 : Avx2Base {
  static constexpr int kRowBytes = 16;
  using Row = __m256i;
  using Idx = __m256i;
  static Row load_row(const uint8_t* p) { return broadcast_row(p); }
  static Idx load_idx(const uint16_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static Vec lookup(const Row& r, const Idx& i) { return _mm256_shuffle_epi8(r, i); }
  static void store_widen(Vec acc, int32_t* dst, bool accumulate, int32_t offset) {
    const __m256i off = _mm256_set1_epi32(offset);
    __m256i lo = _mm256_add_epi32(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(acc)), off);
    __m256i hi = _mm256_add_epi32(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(acc, 1)), off);
    auto* d = reinterpret_cast<__m256i*>(dst);
    if (accumulate) {
      lo = _mm256_add_epi32(lo, _mm256_loadu_si256(d));
      hi = _mm256_add_epi32(hi, _mm256_loadu_si256(d + 1));
    }
    _mm256_storeu_si256(d, lo);
    _mm256_storeu_si256(d + 1, hi);
  }
};

struct Shuf16 : Avx2Base {
  static constexpr int kRowBytes = 32;
  struct Row {
    __m256i low, high;
  };
  struct Idx {
    __m256i low, high;  // a | 0x8000 selects the low byte; a << 8 | 0x80 the high byte
  };
  static Row load_row(const uint8_t* p) { return {broadcast_row(p), broadcast_row(p + 16)}; }
  static Idx load_idx(const uint16_t* p) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return {v, _mm256_or_si256(_mm256_slli_epi16(v, 8), _mm256_set1_epi16(0x80))};
  }
  static Vec lookup(const Row& r, const Idx& i) {  // the two results have disjoint bytes
    return _mm256_or_si256(_mm256_shuffle_epi8(r.low, i.low), _mm256_shuffle_epi8(r.high, i.high));
  }
};

}  // namespace

void table_gemm_avx2(const GemmArgs& g) {
  switch (g.table->kind) {
    case LookupKind::shuf8: return gemm_blocked<Shuf8>(g);
    case LookupKind::bytes16: return gemm_blocked<Bytes16>(g);
    case LookupKind::shuf16: return gemm_blocked<Shuf16>(g);
    default: return table_gemm_generic(g);
  }
}

}  // namespace fames::detail
