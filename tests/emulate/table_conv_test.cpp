// Every SIMD level of table_conv2d / table_linear against the plain-loop reference, bit for bit:
// all signatures, tail sizes, strides, groups, padding, and tables whose values force the int16
// flush and the int32 fallback. Levels the CPU lacks are skipped (and reported as skipped).
#include "emulate/table_conv.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "emulate/simd_level.h"
#include "util/error.h"

namespace fames {
namespace {

// Restores the process-wide level when a test ends.
struct LevelGuard {
  SimdLevel saved = active_simd_level();
  ~LevelGuard() { set_simd_level(saved); }
};

std::vector<SimdLevel> fast_levels() {
  std::vector<SimdLevel> levels;
  for (SimdLevel l : {SimdLevel::avx2, SimdLevel::avx512})
    if (l <= best_simd_level()) levels.push_back(l);
  return levels;
}

enum class TableKind { exact, approx, zero, near_int16, beyond_int16, wrapping };

// A table for `sig`: exact products, or exact plus errors of the requested size.
ProductTable make_table(Signature sig, TableKind kind, std::mt19937& rng) {
  ProductTable t = ProductTable::exact(sig);
  std::uniform_int_distribution<int32_t> small(-40, 40), near16(-32767, 32767);
  std::uniform_int_distribution<int32_t> wide(-100000, 100000), huge(INT32_MIN, INT32_MAX);
  for (int32_t& v : t.data()) {
    switch (kind) {
      case TableKind::exact: break;
      case TableKind::approx: v += small(rng) * (rng() % 4 == 0); break;
      case TableKind::zero: v = 0; break;
      case TableKind::near_int16: v = near16(rng); break;
      case TableKind::beyond_int16: v = wide(rng); break;
      case TableKind::wrapping: v = huge(rng); break;
    }
  }
  if (kind == TableKind::near_int16) t.data()[rng() % t.data().size()] = -32767;  // max |T|
  return t;
}

std::vector<uint8_t> random_codes(int64_t count, int bits, std::mt19937& rng) {
  std::vector<uint8_t> v(static_cast<size_t>(count));
  for (uint8_t& x : v) x = static_cast<uint8_t>(rng() & ((1u << bits) - 1));
  return v;
}

std::string describe(const ConvShape& s) {
  return fmt::format("n{} c{} {}x{} o{} k{}x{} s{}x{} p{}x{} d{}x{} g{}", s.n, s.c, s.h, s.w, s.o,
                     s.kh, s.kw, s.stride_h, s.stride_w, s.pad_h, s.pad_w, s.dilation_h,
                     s.dilation_w, s.groups);
}

// Runs every available fast level on one problem and compares with the reference.
void expect_conv_matches(const ConvShape& s, const ProductTable& t, std::mt19937& rng) {
  const Signature& sig = t.signature();
  const auto act = random_codes(s.n * s.c * s.h * s.w, sig.ba, rng);
  const auto weight = random_codes(s.o * s.taps(), sig.bw, rng);
  const size_t out_size = static_cast<size_t>(s.n * s.o * s.out_h() * s.out_w());
  std::vector<int32_t> want(out_size), got(out_size);
  table_conv2d_ref(s, act.data(), weight.data(), t, want.data());
  LevelGuard guard;
  for (SimdLevel level : fast_levels()) {
    set_simd_level(level);
    std::fill(got.begin(), got.end(), 0x5a5a5a5a);
    table_conv2d(s, act.data(), weight.data(), t, got.data());
    const KernelReport report = last_kernel_report();
    ASSERT_EQ(report.level, level);
    ASSERT_EQ(got, want) << describe(s) << " " << sig.key() << " kernel " << report.kernel;
  }
}

ConvShape conv(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t k, int stride, int pad,
               int groups = 1, int dilation = 1) {
  ConvShape s;
  s.n = n, s.c = c, s.h = h, s.w = w, s.o = o, s.kh = k, s.kw = k;
  s.stride_h = s.stride_w = stride;
  s.pad_h = s.pad_w = pad;
  s.dilation_h = s.dilation_w = dilation;
  s.groups = groups;
  return s;
}

TEST(TableConv, EverySignatureAndSignednessMatchesRef) {
  std::mt19937 rng(1);
  const ConvShape s = conv(2, 5, 7, 9, 6, 3, 1, 1);  // 63 positions per image, K = 45
  for (int bw = 2; bw <= 8; ++bw)
    for (int ba = 2; ba <= 8; ++ba)
      for (bool signed_a : {false, true})
        for (bool signed_w : {true, false}) {
          if (!signed_w && signed_a) continue;
          const Signature sig{bw, ba, signed_w, signed_a};
          expect_conv_matches(s, make_table(sig, TableKind::approx, rng), rng);
          if (HasFatalFailure()) return;
        }
}

TEST(TableConv, FastLevelsUseVectorKernelsForInt16Tables) {
  if (best_simd_level() < SimdLevel::avx512) GTEST_SKIP() << "CPU lacks AVX-512";
  LevelGuard guard;
  std::mt19937 rng(2);
  const ConvShape s = conv(1, 3, 5, 5, 4, 3, 1, 1);
  std::vector<int32_t> out(static_cast<size_t>(s.o * 25));
  for (int ba = 2; ba <= 8; ++ba) {
    const ProductTable t = make_table({4, ba, true, false}, TableKind::exact, rng);
    const auto act = random_codes(s.c * 25, ba, rng), weight = random_codes(s.o * s.taps(), 4, rng);
    set_simd_level(SimdLevel::avx512);
    table_conv2d(s, act.data(), weight.data(), t, out.data());
    EXPECT_EQ(last_kernel_report().kernel, ba <= 3 ? "avx512/shuf8"
                                           : ba == 4 ? "avx512/bytes16"  // w4 x a4 spans < 256
                                           : ba == 5 ? "avx512/pair32"
                                                     : "avx512/perm" + std::to_string(1 << ba))
        << "ba=" << ba;
  }
  const ProductTable wide = make_table({4, 6, true, false}, TableKind::beyond_int16, rng);
  const auto act = random_codes(s.c * 25, 6, rng), weight = random_codes(s.o * s.taps(), 4, rng);
  set_simd_level(SimdLevel::avx512);
  table_conv2d(s, act.data(), weight.data(), wide, out.data());
  EXPECT_EQ(last_kernel_report().kernel, "avx512/gather32");
}

TEST(TableConv, Avx2ShufflesPiecesUpTo7BitsAndGathersBeyond) {
  if (best_simd_level() < SimdLevel::avx2) GTEST_SKIP() << "CPU lacks AVX2";
  LevelGuard guard;
  set_simd_level(SimdLevel::avx2);
  std::mt19937 rng(3);
  const ConvShape s = conv(1, 3, 5, 5, 4, 3, 1, 1);
  std::vector<int32_t> out(static_cast<size_t>(s.o * 25));
  for (int ba = 2; ba <= 8; ++ba)
    for (TableKind kind : {TableKind::exact, TableKind::beyond_int16}) {
      const ProductTable t = make_table({4, ba, true, false}, kind, rng);
      const auto act = random_codes(s.c * 25, ba, rng), weight = random_codes(s.o * s.taps(), 4, rng);
      table_conv2d(s, act.data(), weight.data(), t, out.data());
      const std::string want = kind == TableKind::beyond_int16 || ba == 8 ? "avx2/gather32"
                               : ba <= 3                                 ? "avx2/shuf8"
                               : ba == 4                                 ? "avx2/bytes16"
                                                                         : "avx2/shuf" + std::to_string(1 << ba);
      EXPECT_EQ(last_kernel_report().kernel, want) << "ba=" << ba;
    }
}

TEST(TableConv, NarrowRangeTablesUseByteLookupsAcrossSeveralRuns) {
  if (best_simd_level() < SimdLevel::avx512) GTEST_SKIP() << "CPU lacks AVX-512";
  std::mt19937 rng(8);
  // Exact w3 x a4 spans [-60, 45]; shifted by +60 the largest entry is about 105 + 10, so one
  // uint16 run holds ~570 taps and K = 720 needs two runs with different tap counts.
  ProductTable t = ProductTable::exact({3, 4, true, false});
  std::uniform_int_distribution<int32_t> error(-10, 10);
  for (int32_t& v : t.data()) v += error(rng);
  const ConvShape s = conv(2, 80, 5, 6, 7, 3, 1, 1);
  expect_conv_matches(s, t, rng);
  LevelGuard guard;
  set_simd_level(SimdLevel::avx512);
  std::vector<int32_t> out(static_cast<size_t>(s.n * s.o * 30));
  const auto act = random_codes(s.n * s.c * 30, 4, rng), weight = random_codes(s.o * s.taps(), 3, rng);
  table_conv2d(s, act.data(), weight.data(), t, out.data());
  EXPECT_EQ(last_kernel_report().kernel, "avx512/bytes16");
  set_simd_level(SimdLevel::avx2);
  table_conv2d(s, act.data(), weight.data(), t, out.data());
  EXPECT_EQ(last_kernel_report().kernel, "avx2/bytes16");
  // A constant table: range 0, every product equals the bias.
  std::fill(t.data().begin(), t.data().end(), -7);
  expect_conv_matches(s, t, rng);
}

TEST(TableConv, TailPositionCountsMatchRef) {
  std::mt19937 rng(3);
  for (int64_t positions : {1, 3, 7, 9, 15, 17, 31, 33, 65, 129, 130})
    for (int ba : {3, 4, 6, 8}) {
      const ProductTable t = make_table({3, ba, true, false}, TableKind::approx, rng);
      expect_conv_matches(conv(1, 3, 1, positions, 5, 1, 1, 0), t, rng);  // one image
      expect_conv_matches(conv(3, 2, 1, positions, 9, 1, 1, 0), t, rng);  // runs across images
      if (HasFatalFailure()) return;
    }
}

TEST(TableConv, ShapesMatchRef) {
  std::mt19937 rng(4);
  const std::vector<ConvShape> shapes = {
      conv(2, 17, 9, 11, 19, 3, 2, 1),    // stride 2, channels not a multiple of 16
      conv(1, 6, 8, 8, 10, 3, 1, 1, 2),   // two groups
      conv(2, 7, 6, 5, 7, 3, 1, 1, 7),    // depthwise
      conv(3, 13, 5, 7, 21, 1, 1, 0),     // 1x1
      conv(1, 3, 9, 9, 4, 3, 1, 2, 1, 2), // dilation 2, padding 2
      conv(1, 4, 4, 4, 3, 5, 3, 2),       // kernel wider than the input, stride 3
      conv(2, 3, 33, 31, 5, 3, 1, 1),     // rows of 31 and 33
      conv(3, 5, 7, 7, 6, 3, 1, 1),       // whole 7-wide rows (fixed-size row copies)
      conv(2, 3, 4, 4, 9, 1, 1, 0),       // whole 4-wide rows, 1x1
      conv(2, 5, 16, 16, 7, 3, 2, 1),     // stride 2 into whole 8-wide rows
      conv(3, 4, 8, 7, 6, 3, 2, 1),       // stride 2 into whole 4-wide rows
  };
  for (const ConvShape& s : shapes)
    for (int ba : {2, 3, 4, 5, 6, 7, 8}) {
      expect_conv_matches(s, make_table({4, ba, true, ba == 8}, TableKind::approx, rng), rng);
      if (HasFatalFailure()) return;
    }
  ConvShape odd = conv(2, 4, 10, 7, 6, 3, 1, 0);
  odd.kh = 2, odd.stride_h = 2, odd.pad_w = 3, odd.dilation_w = 2;  // every parameter differs in h, w
  expect_conv_matches(odd, make_table({5, 4, true, false}, TableKind::approx, rng), rng);
}

TEST(TableConv, LargeTableValuesFlushInt16AndFallBackToInt32) {
  std::mt19937 rng(5);
  // K = 360 taps: near_int16 forces a widening after every tap, exact 8x8 every tap or two.
  const ConvShape s = conv(2, 40, 6, 6, 5, 3, 1, 1);
  for (int ba : {3, 4, 5, 6, 7, 8})
    for (TableKind kind : {TableKind::exact, TableKind::zero, TableKind::near_int16, TableKind::beyond_int16,
                           TableKind::wrapping}) {
      expect_conv_matches(s, make_table({8, ba, true, false}, kind, rng), rng);
      if (HasFatalFailure()) return;
    }
  // Exact w4 x a4: max |T| = 120, so 273 taps fit one int16 run; K = 360 needs two.
  expect_conv_matches(s, make_table({4, 4, true, false}, TableKind::exact, rng), rng);
}

TEST(TableConv, PairKernelAcrossTapChunksRunsAndAnOddChannelCount) {
  if (best_simd_level() < SimdLevel::avx512) GTEST_SKIP() << "CPU lacks AVX-512";
  std::mt19937 rng(9);
  // K = 360 taps: several 48-tap passes; O = 7 leaves the last channel without a partner; 42
  // positions per image end in a partial vector.
  const ConvShape s = conv(3, 40, 6, 7, 7, 3, 1, 1);
  for (int bw : {2, 5, 8}) {  // w8 x a5 spans ~8000: runs of 8 taps, shorter than a pass
    const ProductTable t = make_table({bw, 5, true, false}, TableKind::approx, rng);
    expect_conv_matches(s, t, rng);
    if (HasFatalFailure()) return;
    EXPECT_EQ(last_kernel_report().kernel, "avx512/pair32") << "bw=" << bw;
  }
  ProductTable constant = make_table({5, 5, true, false}, TableKind::exact, rng);
  std::fill(constant.data().begin(), constant.data().end(), -300);  // range 0
  expect_conv_matches(s, constant, rng);
}

TEST(TableConv, ManyChunksOnAllThreadsMatchRef) {
  std::mt19937 rng(6);
  expect_conv_matches(conv(5, 16, 16, 16, 16, 3, 1, 1), make_table({4, 3, true, false}, TableKind::approx, rng), rng);
  expect_conv_matches(conv(3, 64, 8, 8, 64, 3, 1, 1), make_table({3, 4, true, false}, TableKind::approx, rng), rng);
}

TEST(TableConv, PaddingFeedsActivationZeroToTheMultiplier) {
  // 3x3 kernel on a 1x1 input with padding 1: one real tap, eight padded taps that see a = 0.
  ProductTable t(Signature{2, 2, false, false});
  for (uint32_t w = 0; w < 4; ++w)
    for (uint32_t a = 0; a < 4; ++a) t.raw(w, a) = 100 * static_cast<int32_t>(w) + static_cast<int32_t>(a) + 1;
  const ConvShape s = conv(1, 1, 1, 1, 1, 3, 1, 1);
  const std::vector<uint8_t> act = {3}, weight = {0, 1, 2, 3, 1, 1, 2, 0, 3};  // centre weight 1
  // T[1][3] for the centre, T[w][0] = 100 w + 1 for the eight padded taps (weights 0,1,2,3,1,2,0,3).
  const int32_t expected = 104 + (1 + 101 + 201 + 301 + 101 + 201 + 1 + 301);
  LevelGuard guard;
  for (SimdLevel level : {SimdLevel::ref, SimdLevel::avx2, SimdLevel::avx512}) {
    if (level > best_simd_level()) continue;
    set_simd_level(level);
    int32_t out = 0;
    table_conv2d(s, act.data(), weight.data(), t, &out);
    EXPECT_EQ(out, expected) << to_string(level);
  }
}

TEST(TableLinear, MatchesRefAtEveryLevel) {
  std::mt19937 rng(7);
  LevelGuard guard;
  for (int64_t batch : {1, 3, 17, 33, 256})
    for (int64_t in : {0, 1, 9, 64})
      for (int ba : {2, 4, 5, 8}) {
        const int64_t out_features = 10;
        const ProductTable t = make_table({6, ba, true, false}, TableKind::approx, rng);
        const auto act = random_codes(batch * in, ba, rng), weight = random_codes(out_features * in, 6, rng);
        std::vector<int32_t> want(static_cast<size_t>(batch * out_features)), got(want.size());
        table_linear_ref(batch, in, out_features, act.data(), weight.data(), t, want.data());
        for (SimdLevel level : fast_levels()) {
          set_simd_level(level);
          table_linear(batch, in, out_features, act.data(), weight.data(), t, got.data());
          ASSERT_EQ(got, want) << "batch " << batch << " in " << in << " ba " << ba << " "
                               << last_kernel_report().kernel;
        }
      }
}

TEST(SimdLevel, ParseClampAndErrors) {
  EXPECT_EQ(parse_simd_level("avx2", "--simd"), SimdLevel::avx2);
  EXPECT_THROW(parse_simd_level("avx3", "--simd"), Error);
  LevelGuard guard;
  EXPECT_EQ(set_simd_level(SimdLevel::avx512), best_simd_level());
  EXPECT_EQ(set_simd_level(SimdLevel::ref), SimdLevel::ref);
  EXPECT_EQ(active_simd_level(), SimdLevel::ref);
}

TEST(ConvShape, ValidateRejectsBadShapes) {
  EXPECT_THROW(conv(1, 6, 4, 4, 4, 3, 1, 1, 4).validate(), Error);  // groups must divide c
  EXPECT_THROW(conv(1, 1, 2, 2, 1, 5, 1, 0).validate(), Error);     // kernel larger than input
  EXPECT_NO_THROW(conv(0, 1, 2, 2, 1, 1, 1, 0).validate());         // an empty batch is fine
}

}  // namespace
}  // namespace fames
