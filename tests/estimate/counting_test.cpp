#include "estimate/counting.h"

#include <gtest/gtest.h>

#include "estimate/estimator.h"
#include "models/batches.h"
#include "models/zoo.h"

#include <numeric>
#include <random>
#include "quant/quant_layer.h"

namespace fames::estimate {
namespace {
using quant::ConvGeometry;
using quant::QuantLayer;

ProductTable random_approximate(Signature sig, uint64_t seed) {
  ProductTable t = ProductTable::exact(sig);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> noise(-3, 3);
  for (auto& v : t.data()) v += noise(rng);
  return t;
}

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
    {"linear", 7, 5, {}, true, false, 3, 4},
};

torch::Tensor make_input(const LayerCase& c, int64_t n) {
  torch::Tensor x = c.linear ? torch::randn({n, c.in}) : torch::randn({n, c.in, 7, 6});
  return c.signed_input ? x : torch::relu(x);
}

TEST(WeightedCounting, FastEqualsEnumeration) {
  torch::manual_seed(5);
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.label);
    QuantLayer layer(c.in, c.out, c.geometry, c.linear, false, c.signed_input);
    layer.set_bits(c.bw, c.ba);
    const torch::Tensor x = make_input(c, 3);
    torch::NoGradGuard no_grad;
    const torch::Tensor y = layer.forward(x);
    const torch::Tensor u = torch::randn(y.sizes());
    EXPECT_TRUE(torch::allclose(weighted_counting(layer, x, u), weighted_counting_ref(layer, x, u), 1e-4, 1e-4));
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

// On the classifier layer (logits = its output, so the Jacobian is the identity) the estimator's
// g'e + 1/2 e'He with exact Gauss-Newton equals the brute-force Taylor terms computed from the
// emulated logit change dz: mean_x (p - e_y)'dz + 1/2 mean_x dz'(diag p - p p')dz.
TEST(Estimator, QuadraticFormMatchesBruteForceOnClassifierLayer) {
  torch::manual_seed(7);
  models::ModelSpec spec;
  spec.arch = "lenet5";
  spec.in_channels = 1;
  spec.image_size = 28;
  auto model = models::build_model(spec);
  auto layers = quant::quant_layers(*model);
  for (auto& [name, layer] : layers) layer->set_bits(4, 4);
  auto fc3 = layers.back().second;
  fc3->set_bits(3, 3);
  Dataset data;
  data.channels = 1;
  data.height = data.width = 28;
  data.classes = std::vector<std::string>(10, "c");
  const int64_t n = 24;
  data.pixels.resize(n * 28 * 28);
  std::mt19937_64 rng(3);
  for (auto& p : data.pixels) p = static_cast<uint8_t>(rng() & 255);
  for (int64_t i = 0; i < n; ++i) data.labels.push_back(static_cast<int32_t>(rng() % 10));
  data.mean = {0.5f, 0, 0};
  data.stddev = {0.25f, 1, 1};
  for (Hessian h : {Hessian::kGaussNewton, Hessian::kFisher, Hessian::kNone}) {
    SCOPED_TRACE(hessian_name(h));
    EstimateOptions options;
    options.hessian = h;
    options.batch_size = 10;
    const auto terms = compute_terms(*model, data, options);
    const ProductTable approx = random_approximate(fc3->signature(), 21);
    const double predicted = terms.back().predict(approx);

    torch::NoGradGuard no_grad;
    model->eval();
    std::vector<int64_t> all(n);
    std::iota(all.begin(), all.end(), 0);
    std::mt19937_64 unused;
    const auto batch = models::make_batch(data, all, false, unused);
    const torch::Tensor z = models::run_model(*model, batch.images).to(torch::kDouble);
    fc3->set_multiplier(std::make_shared<const ProductTable>(approx));
    const torch::Tensor dz = models::run_model(*model, batch.images).to(torch::kDouble) - z;
    fc3->set_multiplier(nullptr);
    const torch::Tensor p = torch::softmax(z, 1);
    const torch::Tensor r = p - torch::one_hot(batch.labels, 10).to(torch::kDouble);
    const double first = (r * dz).sum(1).mean().item<double>();
    torch::Tensor quad;
    if (h == Hessian::kGaussNewton) {
      quad = (p * dz * dz).sum(1) - (p * dz).sum(1).pow(2);
    } else if (h == Hessian::kFisher) {
      quad = (r * dz).sum(1).pow(2);
    } else {
      quad = torch::zeros({n}, torch::kDouble);
    }
    const double expected = first + 0.5 * quad.mean().item<double>();
    EXPECT_NEAR(predicted, expected, 1e-4 + 1e-3 * std::abs(expected));
  }
}

}  // namespace
}  // namespace fames::estimate
