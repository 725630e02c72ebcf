// AVX2 table GEMM. Compiled with -mavx2 -mfma; reached only through run_table_gemm() after
// best_simd_level() confirmed the CPU has AVX2. Products are int16 lanes, 16 positions per register:
//   shuf8  (ba <= 3) one vpshufb: row = [8 low bytes | 8 high bytes], lane = a | (a + 8) << 8
//   bytes16 (ba == 4, max T - min T <= 255) one vpshufb over 16 bytes T - min T
//   shuf16 (ba == 4) two vpshufb: row = [16 low bytes][16 high bytes], lane = a | 0x8000; the
//                    high-byte index (a << 8 | 0x80) is derived once per index vector.
//   shuf32/64/128 (ba 5, 6, 7) 32 positions per step in byte lanes: one vpshufb per 16-entry
//                    piece of each byte plane, row = [2^ba low bytes][2^ba high bytes], lane = a;
//                    an index outside a piece zeroes its lanes, so ORing the pieces' results gives
//                    the bytes, and one unpack the int16 products (BytePlanes below).
//   gather32 (ba 8, or entries beyond int16; at the AVX-512 level too) one vpgatherdd looks up 8
//                    positions in the int32 table itself; int32 sums wrap like the reference's.
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

// shuf32/64/128: rows in byte planes ([2^ba low bytes][2^ba high bytes]), 32 positions a step.
// Their indices are packed to bytes once per tap; piece s of a plane (entries 16s..16s+15) is
// looked up with a - 16s, bit 7 set where a lies outside the piece so that vpshufb zeroes the
// lane, and ORing the pieces gives the 32 low and the 32 high bytes. Unpacking them yields the
// int16 products in position order: packus and unpack both work within 128-bit lanes, so their
// orders cancel. Against one shuffle per 8 int16 entries (16 lanes a shuffle) this does two per 16
// byte entries for 32 lanes: half the shuffles per product.
template <int kPieces>
struct BytePlanes : Avx2Base {
  static constexpr int kLanes = 32;
  static constexpr int kRowBytes = 32 * kPieces;
  static constexpr int kMaxOB = kPieces > 4 ? 2 : 4;  // 16 ymm: pieces' indices, 2 x OB sums
  static constexpr int kMaxPB = 1;
  struct Vec {
    __m256i lo, hi;  // positions 0..15, 16..31
  };
  static Vec zero() { return {_mm256_setzero_si256(), _mm256_setzero_si256()}; }
  static void accumulate16(Vec& acc, Vec v) {
    Avx2Base::accumulate16(acc.lo, v.lo);
    Avx2Base::accumulate16(acc.hi, v.hi);
  }
  static void store_widen(Vec acc, int32_t* dst, bool accumulate, int32_t offset) {
    Avx2Base::store_widen(acc.lo, dst, accumulate, offset);
    Avx2Base::store_widen(acc.hi, dst + 16, accumulate, offset);
  }
  struct Idx {
    __m256i piece[kPieces];
  };
  static Idx load_idx(const uint16_t* p) {  // raw a <= 127: fits a signed byte
    const __m256i a = _mm256_packus_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)),
                                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16)));
    Idx i;
#pragma GCC unroll 8
    for (int s = 0; s < kPieces; ++s) {
      const __m256i t = _mm256_sub_epi8(a, _mm256_set1_epi8(static_cast<char>(16 * s)));
      i.piece[s] = _mm256_or_si256(t, _mm256_cmpgt_epi8(t, _mm256_set1_epi8(15)));
    }
    return i;
  }
  using Row = const uint8_t*;  // 2 x kPieces registers: broadcast at use, from L1
  static Row load_row(const uint8_t* p) { return p; }
  static Vec lookup(Row r, const Idx& i) {
    __m256i lo = _mm256_shuffle_epi8(broadcast_row(r), i.piece[0]);
    __m256i hi = _mm256_shuffle_epi8(broadcast_row(r + 16 * kPieces), i.piece[0]);
#pragma GCC unroll 8
    for (int s = 1; s < kPieces; ++s) {
      lo = _mm256_or_si256(lo, _mm256_shuffle_epi8(broadcast_row(r + 16 * s), i.piece[s]));
      hi = _mm256_or_si256(hi, _mm256_shuffle_epi8(broadcast_row(r + 16 * (kPieces + s)), i.piece[s]));
    }
    return {_mm256_unpacklo_epi8(lo, hi), _mm256_unpackhi_epi8(lo, hi)};
  }
};

// gather32: OB output channels x PB vectors of 8 positions, int32 accumulators held in registers
// across every tap (no int16 runs, so no flushes). The PB index vectors of a tap are widened once
// and serve all OB rows.
template <int OB, int PB>
void gather_block(const GemmArgs& g, int64_t o0, int64_t p0) {
  const int32_t* table = g.table->table32;
  const int ba = g.table->ba;
  const uint8_t* w[OB];
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o) w[o] = g.weights + (o0 + o) * g.ldw;
  __m256i acc[OB][PB];
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o)
#pragma GCC unroll 8
    for (int j = 0; j < PB; ++j) acc[o][j] = _mm256_setzero_si256();
  for (int64_t k = 0; k < g.K; ++k) {
    const uint16_t* ip = g.idx + g.koff[k] + p0;
    __m256i iv[PB];
#pragma GCC unroll 8
    for (int j = 0; j < PB; ++j)
      iv[j] = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ip + 8 * j)));
#pragma GCC unroll 8
    for (int o = 0; o < OB; ++o) {
      const int* row = table + (static_cast<int64_t>(w[o][k]) << ba);
#pragma GCC unroll 8
      for (int j = 0; j < PB; ++j) acc[o][j] = _mm256_add_epi32(acc[o][j], _mm256_i32gather_epi32(row, iv[j], 4));
    }
  }
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o)
#pragma GCC unroll 8
    for (int j = 0; j < PB; ++j)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(g.out + (o0 + o) * g.ldo + p0 + 8 * j), acc[o][j]);
}

// Positions go in blocks of 16, within the round_up(P, 32) that GemmArgs makes valid and writable.
void gemm_gather32(const GemmArgs& g) {
  constexpr int kOB = 4, kPB = 2;  // 8 accumulators and 2 index vectors of the 16 ymm registers
  using BlockFn = void (*)(const GemmArgs&, int64_t, int64_t);
  static constexpr BlockFn kTail[kOB] = {nullptr, gather_block<1, kPB>, gather_block<2, kPB>,
                                         gather_block<3, kPB>};
  for (int64_t p0 = 0; p0 < g.P; p0 += 8 * kPB) {
    int64_t o0 = 0;
    for (; o0 + kOB <= g.O; o0 += kOB) gather_block<kOB, kPB>(g, o0, p0);
    if (o0 < g.O) kTail[g.O - o0](g, o0, p0);
  }
}

}  // namespace

void table_gemm_avx2(const GemmArgs& g) {
  switch (g.table->kind) {
    case LookupKind::shuf8: return gemm_blocked<Shuf8>(g);
    case LookupKind::bytes16: return gemm_blocked<Bytes16>(g);
    case LookupKind::shuf16: return gemm_blocked<Shuf16>(g);
    case LookupKind::shuf32: return gemm_blocked<BytePlanes<2>>(g);
    case LookupKind::shuf64: return gemm_blocked<BytePlanes<4>>(g);
    case LookupKind::shuf128: return gemm_blocked<BytePlanes<8>>(g);
    case LookupKind::gather32: return gemm_gather32(g);
    default: assert(false && "a kind without an AVX2 kernel (dispatch.cpp choose_kind)");
  }
}

}  // namespace fames::detail
