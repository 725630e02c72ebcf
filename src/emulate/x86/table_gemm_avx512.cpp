// AVX-512 (F, BW, VL, DQ) table GEMM. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq;
// reached only through run_table_gemm() after best_simd_level() confirmed the CPU has them.
// Products are int16 lanes, 32 positions per register, summed in int16 runs, or in int32 when the
// table's values allow only very short int16 runs (blocked_gemm.h):
//   shuf8   (ba <= 3) one vpshufb: row = [8 low bytes | 8 high bytes], lane = a | (a + 8) << 8
//   bytes16 (ba == 4, max T - min T <= 255) one vpshufb over 16 bytes T - min T, lane = a | 0x8000
//   perm32  (ba <= 5) one vpermw over 32 entries
//   perm64  (ba == 6) one vpermi2w over 64 entries
//   perm128 (ba == 7) two vpermi2w, blended on index bit 6
//   perm256 (ba == 8) four vpermi2w, blended on bits 6 and 7
#include <immintrin.h>

#include <algorithm>
#include <cassert>

#include "emulate/x86/blocked_gemm.h"

namespace fames::detail {
namespace {

struct Avx512Base {
  using Vec = __m512i;
  static constexpr int kLanes = 32;
  static constexpr int kMaxOB = 4;
  static constexpr int kMaxPB = 4;
  static constexpr bool kHasWide = true;
  static Vec zero() { return _mm512_setzero_si512(); }
  // In-place adds written as asm: with intrinsics GCC 12 adds into a temporary and copies it back
  // to the accumulator, one extra move per product vector on the ports the lookups need.
  static void accumulate16(Vec& acc, Vec v) { asm("vpaddw %1, %0, %0" : "+v"(acc) : "v"(v)); }
  static void accumulate32(Vec& acc, Vec v) { asm("vpaddd %1, %0, %0" : "+v"(acc) : "v"(v)); }
  // int16 lanes 2i (even32) and 2i + 1 (odd32), sign-extended into int32 lane i.
  static Vec even32(Vec v) { return _mm512_srai_epi32(_mm512_slli_epi32(v, 16), 16); }
  static Vec odd32(Vec v) { return _mm512_srai_epi32(v, 16); }
  // Interleaves even and odd back into 32 consecutive int32 positions.
  static void store_pairs(Vec even, Vec odd, int32_t* dst) {
    const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i second =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    _mm512_storeu_si512(dst, _mm512_permutex2var_epi32(even, first, odd));
    _mm512_storeu_si512(dst + 16, _mm512_permutex2var_epi32(even, second, odd));
  }
  static void store_widen(Vec acc, int32_t* dst, bool accumulate, int32_t offset) {
    assert(offset == 0);  // signed kinds have no bias
    (void)offset;
    __m512i lo = _mm512_cvtepi16_epi32(_mm512_castsi512_si256(acc));
    __m512i hi = _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(acc, 1));
    if (accumulate) {
      lo = _mm512_add_epi32(lo, _mm512_loadu_si512(dst));
      hi = _mm512_add_epi32(hi, _mm512_loadu_si512(dst + 16));
    }
    _mm512_storeu_si512(dst, lo);
    _mm512_storeu_si512(dst + 16, hi);
  }
};

struct PlainIndex {
  using Idx = __m512i;
  static Idx load_idx(const uint16_t* p) { return _mm512_loadu_si512(p); }
};

struct Shuf8 : Avx512Base, PlainIndex {
  static constexpr int kRowBytes = 16;
  using Row = __m512i;
  static Row load_row(const uint8_t* p) {
    return _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static Vec lookup(const Row& r, const Idx& i) { return _mm512_shuffle_epi8(r, i); }
};

// T - bias in [0, 255]: the lane's high index byte 0x80 zeroes the high byte of each product, so
// one shuffle yields zero-extended 16-bit products; sums stay below 65536 (run_length).
struct Bytes16 : Avx512Base, PlainIndex {
  static constexpr int kRowBytes = 16;
  static constexpr bool kHasWide = false;  // its runs are long; even32/odd32 would sign-extend
  using Row = __m512i;
  static Row load_row(const uint8_t* p) {
    return _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static Vec lookup(const Row& r, const Idx& i) { return _mm512_shuffle_epi8(r, i); }
  static void store_widen(Vec acc, int32_t* dst, bool accumulate, int32_t offset) {
    const __m512i off = _mm512_set1_epi32(offset);
    __m512i lo = _mm512_add_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(acc)), off);
    __m512i hi = _mm512_add_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(acc, 1)), off);
    if (accumulate) {
      lo = _mm512_add_epi32(lo, _mm512_loadu_si512(dst));
      hi = _mm512_add_epi32(hi, _mm512_loadu_si512(dst + 16));
    }
    _mm512_storeu_si512(dst, lo);
    _mm512_storeu_si512(dst + 16, hi);
  }
};

struct Perm32 : Avx512Base, PlainIndex {
  static constexpr int kRowBytes = 64;
  using Row = __m512i;
  static Row load_row(const uint8_t* p) { return _mm512_load_si512(p); }
  static Vec lookup(const Row& r, const Idx& i) { return _mm512_permutexvar_epi16(i, r); }
};

struct Perm64 : Avx512Base, PlainIndex {
  static constexpr int kRowBytes = 128;
  struct Row {
    __m512i t0, t1;
  };
  static Row load_row(const uint8_t* p) { return {_mm512_load_si512(p), _mm512_load_si512(p + 64)}; }
  static Vec lookup(const Row& r, const Idx& i) { return _mm512_permutex2var_epi16(r.t0, i, r.t1); }
};

// Rows of 128 or 256 entries are looked up as 64-entry pieces and blended on the high index bits;
// the masks depend only on the activations, so they are computed once per index vector.
struct Perm128 : Avx512Base {
  static constexpr int kRowBytes = 256;
  static constexpr int kMaxPB = 4;
  struct Idx {
    __m512i v;
    __mmask32 bit6;
  };
  static Idx load_idx(const uint16_t* p) {
    const __m512i v = _mm512_loadu_si512(p);
    return {v, _mm512_test_epi16_mask(v, _mm512_set1_epi16(0x40))};
  }
  using Row = const uint8_t*;  // 4 registers: read at use, from L1
  static Row load_row(const uint8_t* p) { return p; }
  static Vec piece(Row r, int n, const __m512i& v) {
    return _mm512_permutex2var_epi16(_mm512_load_si512(r + 128 * n), v,
                                     _mm512_load_si512(r + 128 * n + 64));
  }
  static Vec lookup(Row r, const Idx& i) {
    return _mm512_mask_blend_epi16(i.bit6, piece(r, 0, i.v), piece(r, 1, i.v));
  }
};

struct Perm256 : Perm128 {
  static constexpr int kRowBytes = 512;
  struct Idx {
    __m512i v;
    __mmask32 bit6, bit7;
  };
  static Idx load_idx(const uint16_t* p) {
    const __m512i v = _mm512_loadu_si512(p);
    return {v, _mm512_test_epi16_mask(v, _mm512_set1_epi16(0x40)),
            _mm512_test_epi16_mask(v, _mm512_set1_epi16(0x80))};
  }
  static Vec lookup(Row r, const Idx& i) {
    const __m512i low = _mm512_mask_blend_epi16(i.bit6, piece(r, 0, i.v), piece(r, 1, i.v));
    const __m512i high = _mm512_mask_blend_epi16(i.bit6, piece(r, 2, i.v), piece(r, 3, i.v));
    return _mm512_mask_blend_epi16(i.bit7, low, high);
  }
};

// pair32 (ba <= 5): one vpermi2d (1 uop) looks up 16 positions for two output channels at once,
// where vpermw (2 uops on port 5) looks up 32 positions of one: twice the products per port-5 uop.
// Rows hold T - bias as uint16 in pair order (prepare_table), so that for weights w1, w2
//   unpacklo_epi16(row w1, row w2) = dwords (T[w2][a] - bias) << 16 | (T[w1][a] - bias), a = 0..15
//   unpackhi_epi16(row w1, row w2) = the same for a = 16..31.
// vpermi2d reads only bits 0..4 of each dword lane, so 32 uint16 indices loaded as they are index
// their even positions, and the same load one element later indexes the odd ones. Both halves of
// a dword sum at most run_length * (max T - min T) <= 65535: no carry leaves a half.
template <int PB>  // PB blocks of 32 positions; taps [k0, k1), at most run_length of them
void pair32_block(const GemmArgs& g, int64_t o0, bool has_second, int64_t p0, int64_t k0,
                  int64_t k1) {
  const uint8_t* rows = g.table->rows.get();
  const uint8_t* w1 = g.weights + o0 * g.ldw;
  const uint8_t* w2 = has_second ? w1 + g.ldw : w1;
  __m512i even[PB], odd[PB];
#pragma GCC unroll 8
  for (int j = 0; j < PB; ++j) even[j] = odd[j] = _mm512_setzero_si512();
  for (int64_t k = k0; k < k1; ++k) {
    const __m512i r1 = _mm512_load_si512(rows + 64 * w1[k]);
    const __m512i r2 = _mm512_load_si512(rows + 64 * w2[k]);
    const __m512i low = _mm512_unpacklo_epi16(r1, r2), high = _mm512_unpackhi_epi16(r1, r2);
    const uint16_t* ip = g.idx + g.koff[k] + p0;
#pragma GCC unroll 8
    for (int j = 0; j < PB; ++j) {
      Avx512Base::accumulate32(
          even[j], _mm512_permutex2var_epi32(low, _mm512_loadu_si512(ip + 32 * j), high));
      Avx512Base::accumulate32(
          odd[j], _mm512_permutex2var_epi32(low, _mm512_loadu_si512(ip + 32 * j + 1), high));
    }
  }
  // Each lane sums T - bias over k1 - k0 taps (int32 wrap-around, like the sums).
  const auto offset = static_cast<int32_t>(static_cast<uint32_t>(g.table->bias) *
                                           static_cast<uint32_t>(k1 - k0));
  constexpr __mmask32 kOddLanes = 0xAAAAAAAA;
  int32_t* out1 = g.out + o0 * g.ldo + p0;
#pragma GCC unroll 8
  for (int j = 0; j < PB; ++j) {
    // Position order: even lanes from `even`, odd lanes from `odd`.
    const __m512i first = _mm512_mask_blend_epi16(kOddLanes, even[j], _mm512_slli_epi32(odd[j], 16));
    Bytes16::store_widen(first, out1 + 32 * j, k0 > 0, offset);
    if (has_second) {
      const __m512i second = _mm512_mask_blend_epi16(kOddLanes, _mm512_srli_epi32(even[j], 16), odd[j]);
      Bytes16::store_widen(second, out1 + g.ldo + 32 * j, k0 > 0, offset);
    }
  }
}

void gemm_pair32(const GemmArgs& g) {
  constexpr int kMaxPB = 8;
  // Taps per pass over all output channels: the index block they read (2 * 32 * kMaxPB bytes a
  // tap) then stays in L1 while every channel pair uses it.
  constexpr int64_t kChunkTaps = 48;
  using BlockFn = void (*)(const GemmArgs&, int64_t, bool, int64_t, int64_t, int64_t);
  static constexpr BlockFn kBlocks[kMaxPB] = {pair32_block<1>, pair32_block<2>, pair32_block<3>,
                                              pair32_block<4>, pair32_block<5>, pair32_block<6>,
                                              pair32_block<7>, pair32_block<8>};
  const int64_t chunk = std::min(kChunkTaps, g.table->run_length);
  for (int64_t p0 = 0; p0 < g.P; p0 += 32 * kMaxPB) {
    const int64_t pb = std::min<int64_t>(kMaxPB, (g.P - p0 + 31) / 32);
    for (int64_t k0 = 0; k0 < g.K; k0 += chunk) {
      const int64_t k1 = std::min(g.K, k0 + chunk);
      for (int64_t o0 = 0; o0 < g.O; o0 += 2) kBlocks[pb - 1](g, o0, o0 + 1 < g.O, p0, k0, k1);
    }
  }
}

}  // namespace

void table_gemm_avx512(const GemmArgs& g) {
  switch (g.table->kind) {
    case LookupKind::pair32: return gemm_pair32(g);
    case LookupKind::shuf8: return gemm_blocked<Shuf8>(g);
    case LookupKind::bytes16: return gemm_blocked<Bytes16>(g);
    case LookupKind::perm32: return gemm_blocked<Perm32>(g);
    case LookupKind::perm64: return gemm_blocked<Perm64>(g);
    case LookupKind::perm128: return gemm_blocked<Perm128>(g);
    case LookupKind::perm256: return gemm_blocked<Perm256>(g);
    default: assert(false && "gather32 runs on table_gemm_avx2 (dispatch.cpp run_table_gemm)");
  }
}

}  // namespace fames::detail
