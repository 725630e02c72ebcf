// TableLayer::forward (fused quantize + table GEMM + scale, channels-last out) against forward_ref
// (the three steps one after the other with the plain-loop kernel), bit for bit: every activation
// width, signed and unsigned inputs, NCHW and channels-last inputs, both tap-reading modes, odd
// shapes, strides, dilation, groups, row blocks of large images, and inputs on rounding ties; and
// unsigned weights with zero points (asymmetric layers), whose zero-point term is exact.
#include "emulate/table_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "emulate/simd_level.h"
#include "util/error.h"

namespace fames {
namespace {

struct LevelGuard {
  SimdLevel saved = active_simd_level();
  ~LevelGuard() { set_simd_level(saved); }
};

ProductTable approx_table(Signature sig, std::mt19937& rng) {
  ProductTable t = ProductTable::exact(sig);
  std::uniform_int_distribution<int32_t> err(-9, 9);
  for (int32_t& v : t.data()) v += err(rng) * (rng() % 3 == 0);
  return t;
}

ConvShape conv(int64_t c, int64_t o, int64_t k, int stride, int pad, int groups = 1, int dilation = 1) {
  ConvShape s;
  s.c = c, s.o = o, s.kh = s.kw = k;
  s.stride_h = s.stride_w = stride;
  s.pad_h = s.pad_w = pad;
  s.dilation_h = s.dilation_w = dilation;
  s.groups = groups;
  return s;
}

TableLayerParams make_params(const ConvShape& s, bool linear, Signature sig, std::mt19937& rng) {
  TableLayerParams p;
  p.shape = s;
  p.linear = linear;
  p.act_step = 0.0625f + static_cast<float>(rng() % 100) / 256.0f;
  p.signed_act = sig.signed_a;
  const int64_t taps = linear ? s.c : s.taps();
  p.weight_raw.resize(static_cast<size_t>(s.o * taps));
  for (uint8_t& w : p.weight_raw) w = static_cast<uint8_t>(rng() & ((1u << sig.bw) - 1));
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  const bool has_bias = rng() % 2;
  for (int64_t o = 0; o < s.o; ++o) {
    p.scale.push_back(u(rng) * 1e-3f);
    if (has_bias) p.bias.push_back(u(rng));
  }
  if (rng() % 2)
    for (int64_t o = 0; o < s.o; ++o) p.correction.push_back(u(rng) * 0.1f);
  if (!sig.signed_w)  // asymmetric weights: a zero point per channel, anywhere in 0..2^bw-1
    for (int64_t o = 0; o < s.o; ++o) p.weight_zero.push_back(static_cast<int32_t>(rng() % sig.weight_levels()));
  return p;
}

// Inputs: mostly random, some exactly on a rounding tie (k + 0.5) * step, some far beyond the clip.
std::vector<float> make_input(int64_t count, float step, std::mt19937& rng) {
  std::vector<float> x(static_cast<size_t>(count));
  std::uniform_real_distribution<float> u(-40.0f, 40.0f);
  for (float& v : x) {
    const unsigned r = rng() % 8;
    v = r == 0 ? (static_cast<float>(static_cast<int>(rng() % 61) - 30) + 0.5f) * step
               : r == 1 ? u(rng) * 100.0f
                        : u(rng) * step;
  }
  return x;
}

// Runs forward at every available level and both reading modes, on NCHW and channels-last inputs.
void expect_layer_matches(const ConvShape& s, bool linear, Signature sig, int64_t n, int64_t h,
                          int64_t w, std::mt19937& rng) {
  const auto table = std::make_shared<const ProductTable>(approx_table(sig, rng));
  TableLayerParams base = make_params(s, linear, sig, rng);
  if (linear) h = w = 1;
  const std::vector<float> x = make_input(n * s.c * h * w, base.act_step, rng);
  ConvShape full = s;
  full.n = n, full.h = h, full.w = w;
  const int64_t out = linear ? n * s.o : n * s.o * full.out_h() * full.out_w();
  LevelGuard guard;
  for (bool channels_last : {false, true}) {
    // The same logical tensor: element (n, c, y, x) at these strides of one buffer.
    const int64_t strides[4] = {s.c * h * w, channels_last ? 1 : h * w, channels_last ? w * s.c : w,
                                channels_last ? s.c : 1};
    for (auto reads : {TableLayerParams::Reads::im2col, TableLayerParams::Reads::implicit}) {
      TableLayerParams p = base;
      p.reads = reads;
      const TableLayer layer(std::move(p), table);
      std::vector<float> want(static_cast<size_t>(out)), got(static_cast<size_t>(out));
      layer.forward_ref(x.data(), n, h, w, strides, want.data());
      for (SimdLevel level : {SimdLevel::avx2, SimdLevel::avx512}) {
        if (level > best_simd_level()) continue;
        set_simd_level(level);
        std::fill(got.begin(), got.end(), -12345.0f);
        layer.forward(x.data(), n, h, w, strides, got.data());
        ASSERT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(float)))
            << sig.key() << " c" << s.c << " o" << s.o << " k" << s.kh << " s" << s.stride_h << " p"
            << s.pad_h << " d" << s.dilation_h << " g" << s.groups << " " << n << "x" << h << "x"
            << w << (channels_last ? " channels-last" : " nchw") << " reads "
            << static_cast<int>(reads) << " level " << to_string(level) << " kernel "
            << last_kernel_report().kernel;
      }
    }
  }
}

TEST(TableLayer, EveryActivationWidthMatchesRefInBothLayoutsAndModes) {
  std::mt19937 rng(11);
  const ConvShape s = conv(5, 6, 3, 1, 1);
  for (int ba = 2; ba <= 8; ++ba)
    for (bool signed_a : {false, true}) {
      const Signature sig{2 + static_cast<int>(rng() % 7), ba, true, signed_a};
      expect_layer_matches(s, false, sig, 3, 7, 9, rng);
      if (HasFatalFailure()) return;
    }
}

TEST(TableLayer, GeometriesMatchRef) {
  std::mt19937 rng(12);
  struct Case {
    ConvShape s;
    int64_t n, h, w;
  };
  const std::vector<Case> cases = {
      {conv(3, 16, 3, 1, 1), 4, 32, 32},          // ResNet-20 stem, implicit-sized
      {conv(16, 32, 3, 2, 1), 3, 15, 13},         // stride 2, odd sizes
      {conv(8, 12, 1, 1, 0), 2, 9, 10},           // 1x1
      {conv(8, 8, 1, 2, 0), 2, 9, 10},            // strided 1x1
      {conv(6, 9, 3, 1, 1, 3), 2, 8, 11},         // grouped
      {conv(6, 6, 3, 1, 2, 6, 2), 2, 10, 7},      // depthwise, dilated
      {conv(4, 5, 5, 1, 2), 1, 6, 6},             // 5x5
      {conv(7, 3, 3, 1, 0), 9, 3, 3},             // one output per image, many images
      {conv(64, 4, 3, 1, 1), 1, 72, 72},          // row blocks in both modes
  };
  for (const Case& c : cases) {
    for (int ba : {3, 4, 5, 7}) {  // shuf8, bytes16, pair32, perm128 at AVX-512
      expect_layer_matches(c.s, false, {4, ba, true, false}, c.n, c.h, c.w, rng);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(TableLayer, LinearMatchesRef) {
  std::mt19937 rng(13);
  ConvShape s;
  s.c = 37, s.o = 10;
  for (int ba : {2, 4, 5, 8}) {
    expect_layer_matches(s, true, {8, ba, true, false}, 19, 1, 1, rng);
    if (HasFatalFailure()) return;
  }
}

TEST(TableLayer, UnsignedWeightsWithZeroPointsMatchRef) {
  std::mt19937 rng(15);
  for (bool signed_a : {false, true}) {
    for (int ba : {3, 4, 5, 8}) {
      const Signature sig{ba == 8 ? 8 : 4, ba, false, signed_a};
      expect_layer_matches(conv(5, 6, 3, 1, 1), false, sig, 3, 7, 9, rng);
      expect_layer_matches(conv(16, 8, 3, 2, 1), false, sig, 2, 11, 10, rng);
      expect_layer_matches(conv(6, 9, 3, 1, 1, 3), false, sig, 2, 8, 11, rng);
      expect_layer_matches(conv(64, 4, 3, 1, 1), false, sig, 1, 40, 40, rng);  // row blocks
      ConvShape linear;
      linear.c = 37, linear.o = 10;
      expect_layer_matches(linear, true, sig, 19, 1, 1, rng);
      if (HasFatalFailure()) return;
    }
  }
}

// The reference's zero-point term is the definition: with the exact table, a padded strided conv
// of codes q and zero points z gives s(o) * sum((q - z) * a) to float rounding.
TEST(TableLayer, ZeroPointTermIsTheExactSumOfShiftedWeights) {
  std::mt19937 rng(16);
  const Signature sig{8, 8, false, false};
  const ConvShape s = conv(3, 4, 3, 2, 1);
  TableLayerParams p = make_params(s, false, sig, rng);
  p.bias.clear(), p.correction.clear();
  const int64_t n = 2, h = 6, w = 5;
  const std::vector<float> x = make_input(n * s.c * h * w, p.act_step, rng);
  ConvShape full = s;
  full.n = n, full.h = h, full.w = w;
  const int64_t oh = full.out_h(), ow = full.out_w();
  const TableLayer layer(p, std::make_shared<const ProductTable>(ProductTable::exact(sig)));
  std::vector<float> y(static_cast<size_t>(n * s.o * oh * ow));
  const int64_t strides[4] = {s.c * h * w, h * w, w, 1};
  layer.forward_ref(x.data(), n, h, w, strides, y.data());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < s.o; ++o)
      for (int64_t r = 0; r < oh * ow; ++r) {
        double sum = 0;  // sum over taps inside the image of (q - z) * a
        for (int64_t c = 0; c < s.c; ++c)
          for (int64_t ky = 0; ky < 3; ++ky)
            for (int64_t kx = 0; kx < 3; ++kx) {
              const int64_t yy = r / ow * 2 + ky - 1, xx = r % ow * 2 + kx - 1;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              const double a =
                  std::clamp(std::nearbyint(x[((i * s.c + c) * h + yy) * w + xx] / p.act_step), 0.0f, 255.0f);
              sum += (p.weight_raw[((o * s.c + c) * 3 + ky) * 3 + kx] - p.weight_zero[o]) * a;
            }
        EXPECT_NEAR(y[(i * oh * ow + r) * s.o + o], sum * p.scale[o], 1e-5 * std::abs(sum * p.scale[o]) + 1e-6);
      }
}

TEST(TableLayer, MismatchedSizesAreErrors) {
  std::mt19937 rng(14);
  const Signature sig{4, 4, true, false};
  const auto table = std::make_shared<const ProductTable>(ProductTable::exact(sig));
  TableLayerParams p = make_params(conv(3, 4, 3, 1, 1), false, sig, rng);
  p.scale.pop_back();
  EXPECT_THROW(TableLayer(p, table), Error);
  p = make_params(conv(3, 4, 3, 1, 1), false, sig, rng);
  p.signed_act = true;
  EXPECT_THROW(TableLayer(p, table), Error);
  p = make_params(conv(3, 4, 3, 1, 1), false, sig, rng);
  p.weight_raw[0] = 16;  // bit above bw
  EXPECT_THROW(TableLayer(p, table), Error);
  const Signature unsigned_w{4, 4, false, false};
  const auto unsigned_table = std::make_shared<const ProductTable>(ProductTable::exact(unsigned_w));
  p = make_params(conv(3, 4, 3, 1, 1), false, unsigned_w, rng);
  p.weight_zero[1] = 16;  // zero point outside 0..15
  EXPECT_THROW(TableLayer(p, unsigned_table), Error);
  p.weight_zero.pop_back();
  EXPECT_THROW(TableLayer(p, unsigned_table), Error);
}

}  // namespace
}  // namespace fames
