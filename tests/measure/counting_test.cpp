#include "measure/counting.h"

#include <gtest/gtest.h>

#include "emulate/simd_level.h"
#include "../estimate/estimate_fixtures.h"
#include "quant/quant_layer.h"

namespace fames::measure {
namespace {
using quant::ConvGeometry;
using quant::QuantLayer;
using estimate::testing::random_approximate;

struct LayerCase {
  const char* label;
  int64_t in, out;
  ConvGeometry geometry;
  bool linear, signed_input;
  int bw, ba;
};

const std::vector<LayerCase> kCases = {
    {"conv3x3_pad", 3, 4, {3, 1, 1, 1}, false, false, 3, 2},
    {"conv3x3_stride2", 2, 3, {3, 2, 1, 1}, false, true, 2, 3},
    {"conv1x1", 4, 2, {1, 1, 0, 1}, false, false, 4, 4},
    {"conv_stride2_odd", 2, 2, {3, 2, 0, 1}, false, false, 2, 2},
    {"conv_wide_weights", 3, 5, {3, 1, 1, 1}, false, false, 7, 3},
    {"linear", 7, 5, {}, true, false, 3, 4},
    // Rows of 20 or 17 floats per weighting (the walk's register path with a tail), enough
    // activation patterns for the scatter's gathers.
    {"conv_20_channels_6bit", 3, 20, {3, 1, 1, 1}, false, false, 5, 6},
    {"conv_stride2_7bit", 2, 17, {3, 2, 1, 1}, false, false, 3, 7},
};

torch::Tensor make_input(const LayerCase& c, int64_t n) {
  torch::Tensor x = c.linear ? torch::randn({n, c.in}) : torch::randn({n, c.in, 7, 6});
  return c.signed_input ? x : torch::relu(x);
}

// A layer of case c, an input batch of 3 and `weightings` random output gradients.
struct Sample {
  std::shared_ptr<QuantLayer> layer;
  torch::Tensor x;
  std::vector<torch::Tensor> u;
};
Sample make_sample(const LayerCase& c, int weightings) {
  Sample s{std::make_shared<QuantLayer>(c.in, c.out, c.geometry, c.linear, false, c.signed_input), make_input(c, 3),
           {}};
  s.layer->set_bits(c.bw, c.ba);
  torch::NoGradGuard no_grad;
  const torch::Tensor y = s.layer->forward(s.x);
  for (int v = 0; v < weightings; ++v) s.u.push_back(torch::randn(y.sizes()));
  return s;
}

// Both fast methods, one weighting and several at once, against the enumeration.
TEST(WeightedCounting, FastEqualsEnumeration) {
  torch::manual_seed(5);
  for (const auto& c : kCases) {
    const Sample sample = make_sample(c, 3);
    QuantLayer& layer = *sample.layer;
    const torch::Tensor& x = sample.x;
    const std::vector<torch::Tensor>& u = sample.u;
    torch::NoGradGuard no_grad;
    for (CountingMethod method : {CountingMethod::kScatter, CountingMethod::kConv, CountingMethod::kAuto}) {
      SCOPED_TRACE(::testing::Message() << c.label << " method " << static_cast<int>(method));
      EXPECT_TRUE(torch::allclose(weighted_counting(layer, x, u[0], method), weighted_counting_ref(layer, x, u[0]),
                                  1e-4, 1e-4));
      const torch::Tensor all = weighted_counting(layer, x, u, method);
      ASSERT_EQ(all.size(0), 3);
      for (int v = 0; v < 3; ++v)
        EXPECT_TRUE(torch::allclose(all[v], weighted_counting_ref(layer, x, u[v]), 1e-4, 1e-4)) << "vector " << v;
    }
  }
}

// The scatter walk's SIMD build adds the same floats in the same order as the plain one: identical
// bits on every case (rows of 4 to 80 floats: the masked tail, the register and memory walks).
TEST(WeightedCounting, ScatterSimdLevelsAgreeBitForBit) {
  torch::manual_seed(6);
  std::vector<LayerCase> cases = kCases;
  cases.push_back({"conv_40_channels", 3, 40, {3, 1, 1, 1}, false, false, 4, 4});
  for (const auto& c : cases) {
    const Sample sample = make_sample(c, 2);
    const QuantLayer& layer = *sample.layer;
    torch::NoGradGuard no_grad;
    const SimdLevel before = active_simd_level();
    set_simd_level(SimdLevel::ref);
    const torch::Tensor ref = weighted_counting(layer, sample.x, sample.u, CountingMethod::kScatter);
    set_simd_level(best_simd_level());
    const torch::Tensor fast = weighted_counting(layer, sample.x, sample.u, CountingMethod::kScatter);
    set_simd_level(before);
    EXPECT_TRUE(torch::equal(ref, fast)) << c.label << " at " << to_string(best_simd_level());
  }
}

// The walk counts the tap histogram as it goes: the same counts as tap_histogram, with either method.
TEST(WeightedCounting, CountsTheTapHistogramOnTheWay) {
  torch::manual_seed(8);
  for (const auto& c : kCases) {
    const Sample sample = make_sample(c, 1);
    for (CountingMethod method : {CountingMethod::kScatter, CountingMethod::kConv}) {
      torch::Tensor hist;
      weighted_counting(*sample.layer, sample.x, sample.u, method, &hist);
      EXPECT_TRUE(torch::equal(hist, tap_histogram(*sample.layer, sample.x))) << c.label;
    }
  }
}

// dY_o = s_w s_a <C_o, E>: the first-order change <G, E> equals the emulator's output change exactly
// (the layer output is linear in the table), for any weighting u.
TEST(WeightedCounting, CountingIdentityAgainstEmulator) {
  torch::manual_seed(6);
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.label);
    QuantLayer layer(c.in, c.out, c.geometry, c.linear, true, c.signed_input);
    layer.set_bits(c.bw, c.ba);
    const torch::Tensor x = make_input(c, 2);
    torch::NoGradGuard no_grad;
    layer.forward(x);  // initialise clipping
    layer.set_multiplier(std::make_shared<const ProductTable>(ProductTable::exact(layer.signature())));
    const torch::Tensor y_exact = layer.forward(x);
    const ProductTable approx = random_approximate(layer.signature(), 11);
    layer.set_multiplier(std::make_shared<const ProductTable>(approx));
    const torch::Tensor dy = layer.forward(x) - y_exact;
    const torch::Tensor u = torch::randn(dy.sizes());
    const std::vector<int32_t> errors = approx.errors();
    const torch::Tensor e = torch::tensor(std::vector<float>(errors.begin(), errors.end()));
    const torch::Tensor g = weighted_counting(layer, x, u);  // [N, T]
    const torch::Tensor predicted = torch::mv(g, e);        // per sample
    const torch::Tensor measured = (dy * u).reshape({dy.size(0), -1}).sum(1);
    EXPECT_TRUE(torch::allclose(predicted, measured, 1e-3, 1e-3)) << predicted << measured;
  }
}

// B e is the emulator's mean output error per channel over images and output positions, and the tap
// histogram counts every multiplication once per output channel.
TEST(MeanCounting, MeanErrorAgainstEmulator) {
  torch::manual_seed(8);
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.label);
    QuantLayer layer(c.in, c.out, c.geometry, c.linear, true, c.signed_input);
    layer.set_bits(c.bw, c.ba);
    const torch::Tensor x = make_input(c, 3);
    torch::NoGradGuard no_grad;
    layer.forward(x);
    const torch::Tensor hist = tap_histogram(layer, x);
    EXPECT_EQ(hist.sum().item<int64_t>() * layer.out_channels(), layer.macs_per_image() * 3);
    layer.set_multiplier(std::make_shared<const ProductTable>(ProductTable::exact(layer.signature())));
    const torch::Tensor y_exact = layer.forward(x);
    const ProductTable approx = random_approximate(layer.signature(), 12, 3, 2);
    layer.set_multiplier(std::make_shared<const ProductTable>(approx));
    torch::Tensor dy = (layer.forward(x) - y_exact).to(torch::kDouble);
    dy = c.linear ? dy.mean(0) : dy.mean({0, 2, 3});
    const std::vector<int32_t> errors = approx.errors();
    const torch::Tensor e = torch::tensor(std::vector<double>(errors.begin(), errors.end()), torch::kDouble);
    const torch::Tensor predicted = torch::mv(mean_counting(layer, hist), e);
    EXPECT_GT(predicted.abs().max().item<double>(), 1e-3);  // the bias makes the mean error visible
    EXPECT_TRUE(torch::allclose(predicted, dy, 1e-4, 1e-4)) << predicted << dy;
  }
}

// Every multiplication counted once by its (weight pattern, activation pattern) pair: the
// enumeration weighted by 1 / (channel scale), and macs_per_image per image in all.
TEST(PairCounts, EqualsEnumeration) {
  torch::manual_seed(9);
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.label);
    const Sample sample = make_sample(c, 1);
    QuantLayer& layer = *sample.layer;
    const torch::Tensor& x = sample.x;
    torch::NoGradGuard no_grad;
    const torch::Tensor y = layer.forward(x);
    const torch::Tensor scale = (layer.weight_step() * layer.act_step()).to(torch::kDouble).reshape({-1});
    const torch::Tensor u = torch::ones(y.sizes(), torch::kDouble) /
                            (c.linear ? scale.view({1, -1}) : scale.view({1, -1, 1, 1}));
    const torch::Tensor expected = weighted_counting_ref(layer, x, u).sum(0).to(torch::kDouble);
    const torch::Tensor counts = pair_counts(layer, tap_histogram(layer, x));
    ASSERT_EQ(counts.numel(), expected.numel());
    EXPECT_TRUE(torch::allclose(counts, expected, 1e-4, 1e-3));
    EXPECT_EQ(counts.sum().item<double>(), static_cast<double>(layer.macs_per_image() * 3));
  }
}

}  // namespace
}  // namespace fames::measure
