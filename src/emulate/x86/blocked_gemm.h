// Internal: the register-blocked loop shared by the AVX2 and AVX-512 table GEMMs. Included only by
// x86/*.cpp, so each instantiation is compiled with its own file's ISA flags.
//
// A Lookup policy L supplies:
//   Vec, kLanes (int16 lanes per Vec), kRowBytes (PreparedTable::row_bytes of its kind), kMaxOB, kMaxPB (register block: output channels x vectors),
//   Row load_row(const uint8_t*)            the table row of one weight code,
//   Idx load_idx(const uint16_t*)           kLanes encoded activations,
//   Vec lookup(const Row&, const Idx&)      the int16 products,
//   Vec zero(), void accumulate16(Vec& acc, Vec v)   acc += v in int16 lanes, in place,
//   void store_widen(Vec, int32_t* dst, bool accumulate, int32_t offset)   16 -> 32 bits, plus
//        offset (T - bias rows), stored or added into dst,
//   kHasWide, and if true the int32 operations gemm_block_wide needs.
// Overflow: an int16 accumulator sums at most table->run_length products, each |T| <= 32767 /
// run_length, so it never leaves int16 range; int16 adds wrap, so even the order is irrelevant.
#pragma once
#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <utility>

#include "emulate/table_kernels.h"

namespace fames::detail {

template <class L, int OB, int PB>
void gemm_block(const GemmArgs& g, int64_t o0, int64_t p0) {
  const uint8_t* rows = g.table->rows.get();
  assert(g.table->row_bytes == L::kRowBytes);
  const int64_t run = g.table->run_length;
  const uint8_t* w[OB];
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o) w[o] = g.weights + (o0 + o) * g.ldw;
  for (int64_t k0 = 0; k0 < g.K; k0 += run) {
    const int64_t k1 = g.K - k0 <= run ? g.K : k0 + run;
    typename L::Vec acc[OB][PB];
#pragma GCC unroll 8
    for (int o = 0; o < OB; ++o)
#pragma GCC unroll 8
      for (int j = 0; j < PB; ++j) acc[o][j] = L::zero();
    // What every lane's sum lacks when rows hold T - bias (int32 wrap-around, like the sums).
    const auto offset = static_cast<int32_t>(static_cast<uint32_t>(g.table->bias) *
                                             static_cast<uint32_t>(k1 - k0));
    for (int64_t k = k0; k < k1; ++k) {
      const uint16_t* ip = g.idx + g.koff[k] + p0;
      typename L::Idx iv[PB];
#pragma GCC unroll 8
      for (int j = 0; j < PB; ++j) iv[j] = L::load_idx(ip + j * L::kLanes);
#pragma GCC unroll 8
      for (int o = 0; o < OB; ++o) {
        const typename L::Row row = L::load_row(rows + L::kRowBytes * w[o][k]);
#pragma GCC unroll 8
        for (int j = 0; j < PB; ++j) {
          L::accumulate16(acc[o][j], L::lookup(row, iv[j]));
        }
      }
    }
#pragma GCC unroll 8
    for (int o = 0; o < OB; ++o)
#pragma GCC unroll 8
      for (int j = 0; j < PB; ++j)
        L::store_widen(acc[o][j], g.out + (o0 + o) * g.ldo + p0 + j * L::kLanes, k0 > 0, offset);
  }
}

// Tables whose products are so large that an int16 run would be this short are summed in int32
// instead (gemm_block_wide), when the policy supports it.
constexpr int64_t kWideBelowRun = 8;

// Like gemm_block, but every int16 product is sign-extended into two int32 accumulators per
// vector (even and odd lanes, by shifts: no flush, no shuffle-port work in the loop); the lanes are
// put back in position order once, at the store. Policy extras: accumulate32, even32, odd32,
// store_pairs.
template <class L, int OB, int PB>
void gemm_block_wide(const GemmArgs& g, int64_t o0, int64_t p0) {
  const uint8_t* rows = g.table->rows.get();
  assert(g.table->row_bytes == L::kRowBytes);
  const uint8_t* w[OB];
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o) w[o] = g.weights + (o0 + o) * g.ldw;
  typename L::Vec even[OB][PB], odd[OB][PB];
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o)
#pragma GCC unroll 8
    for (int j = 0; j < PB; ++j) even[o][j] = odd[o][j] = L::zero();
  for (int64_t k = 0; k < g.K; ++k) {
    const uint16_t* ip = g.idx + g.koff[k] + p0;
    typename L::Idx iv[PB];
#pragma GCC unroll 8
    for (int j = 0; j < PB; ++j) iv[j] = L::load_idx(ip + j * L::kLanes);
#pragma GCC unroll 8
    for (int o = 0; o < OB; ++o) {
      const typename L::Row row = L::load_row(rows + L::kRowBytes * w[o][k]);
#pragma GCC unroll 8
      for (int j = 0; j < PB; ++j) {
        const typename L::Vec v = L::lookup(row, iv[j]);
        L::accumulate32(even[o][j], L::even32(v));
        L::accumulate32(odd[o][j], L::odd32(v));
      }
    }
  }
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o)
#pragma GCC unroll 8
    for (int j = 0; j < PB; ++j)
      L::store_pairs(even[o][j], odd[o][j], g.out + (o0 + o) * g.ldo + p0 + j * L::kLanes);
}

using BlockFn = void (*)(const GemmArgs&, int64_t, int64_t);

template <class L, bool kWide, int OB, int PB>
constexpr BlockFn block_fn() {
  if constexpr (kWide) return &gemm_block_wide<L, OB, PB>;
  else return &gemm_block<L, OB, PB>;
}
template <class L, bool kWide, int kMaxPB, int OB, int... PBs>
constexpr std::array<BlockFn, kMaxPB> block_row(std::integer_sequence<int, PBs...>) {
  return {block_fn<L, kWide, OB, PBs + 1>()...};
}
template <class L, bool kWide, int kMaxPB, int... OBs>
constexpr auto block_table(std::integer_sequence<int, OBs...>) {
  return std::array<std::array<BlockFn, kMaxPB>, L::kMaxOB>{
      block_row<L, kWide, kMaxPB, OBs + 1>(std::make_integer_sequence<int, kMaxPB>{})...};
}

// The whole [O][P] output: position blocks outside (their index block stays in cache), output
// channel blocks inside; tails use smaller instantiations, never masked lanes.
template <class L, bool kWide, int kMaxPB>
void gemm_blocks(const GemmArgs& g) {
  static constexpr auto kBlocks =
      block_table<L, kWide, kMaxPB>(std::make_integer_sequence<int, L::kMaxOB>{});
  const int64_t step = kMaxPB * L::kLanes;
  for (int64_t p0 = 0; p0 < g.P; p0 += step) {
    const int64_t pb = std::min<int64_t>(kMaxPB, (g.P - p0 + L::kLanes - 1) / L::kLanes);
    for (int64_t o0 = 0; o0 < g.O; o0 += L::kMaxOB) {
      const int64_t ob = std::min<int64_t>(L::kMaxOB, g.O - o0);
      kBlocks[ob - 1][pb - 1](g, o0, p0);
    }
  }
}

template <class L>
void gemm_blocked(const GemmArgs& g) {
  if constexpr (L::kHasWide) {
    // Two int32 accumulators per vector: half the position block keeps the registers in budget.
    if (g.table->run_length < kWideBelowRun) return gemm_blocks<L, true, L::kMaxPB / 2>(g);
  }
  gemm_blocks<L, false, L::kMaxPB>(g);
}

}  // namespace fames::detail
