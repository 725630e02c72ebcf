// Asymmetric (zero-point) weights: unsigned codes q with a zero point z(o) per output channel.
// The float fake-quant forward, the integer forward s_w s_a sum((q - z) a) + bias, and the
// product-table forward with the exact unsigned table agree; checkpoints keep the zero points and
// refuse inconsistent ones; load_asymmetric_weights holds given codes exactly.
#include <gtest/gtest.h>

#include "models/checkpoint.h"
#include "models/zoo.h"
#include "quant/fake_quant.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::quant {
namespace {

torch::Tensor per_channel(const torch::Tensor& t, int64_t dims) {
  std::vector<int64_t> shape(dims, 1);
  shape[1] = t.numel();
  return t.view(shape);
}

// s_w(o) s_a (sum(q a) - z(o) sum(a)) + bias, in double from the layer's codes.
torch::Tensor integer_forward(QuantLayer& layer, const torch::Tensor& x) {
  const torch::Tensor a = layer.input_codes(x).to(torch::kDouble);
  const torch::Tensor q = layer.weight_codes().to(torch::kDouble);
  const torch::Tensor ones = torch::ones_like(q);
  const auto op = [&](const torch::Tensor& w) {
    return layer.is_linear() ? torch::linear(a, w)
                             : torch::conv2d(a, w, {}, layer.geometry().stride, layer.geometry().padding, 1,
                                             layer.geometry().groups);
  };
  const int64_t dims = layer.is_linear() ? 2 : 4;
  const torch::Tensor sums = op(q) - per_channel(layer.weight_zero.to(torch::kDouble), dims) * op(ones);
  torch::Tensor y = sums * per_channel(layer.weight_step().to(torch::kDouble), dims) * layer.act_step().item<double>();
  if (layer.bias.defined()) y = y + per_channel(layer.bias.to(torch::kDouble), dims);
  return y.to(torch::kFloat);
}

struct Case {
  const char* label;
  int64_t in, out;
  ConvGeometry geometry;
  bool linear, signed_input;
};

TEST(AsymmetricWeights, ExactTableForwardEqualsFakeQuantAndIntegerForward) {
  torch::manual_seed(5);
  const std::vector<Case> cases = {
      {"conv3x3", 5, 7, {3, 1, 1, 1}, false, false}, {"conv3x3_stride2", 4, 6, {3, 2, 1, 1}, false, false},
      {"grouped", 6, 9, {3, 1, 1, 3}, false, false}, {"first_signed", 3, 8, {3, 1, 1, 1}, false, true},
      {"linear", 17, 5, {}, true, false},
  };
  for (const auto& c : cases) {
    for (int bits : {4, 8}) {
      SCOPED_TRACE(std::string(c.label) + " bits " + std::to_string(bits));
      QuantLayer layer(c.in, c.out, c.geometry, c.linear, true, c.signed_input);
      layer.set_bits(bits, bits);
      layer.set_asymmetric_weights();
      {
        torch::NoGradGuard no_grad;
        layer.weight.add_(0.5 * layer.weight.abs().mean());  // lopsided: zero points off the middle
        layer.bias.uniform_(-0.5, 0.5);
      }
      ASSERT_EQ(layer.signature().key(), fmt::format("w{}u_a{}{}", bits, bits, c.signed_input ? 's' : 'u'));
      torch::Tensor x = c.linear ? torch::randn({4, c.in}) : torch::randn({2, c.in, 9, 11});
      if (!c.signed_input) x = torch::relu(x);
      torch::NoGradGuard no_grad;
      const torch::Tensor y = layer.forward(x);  // initialises range and zero point, fake-quant forward
      const int top = (1 << bits) - 1;
      EXPECT_GE(layer.weight_codes().min().item<int>(), 0);
      EXPECT_LE(layer.weight_codes().max().item<int>(), top);
      EXPECT_GE(layer.weight_zero.min().item<int>(), 0);
      EXPECT_LE(layer.weight_zero.max().item<int>(), top);
      EXPECT_TRUE((layer.weight_zero != (top + 1) / 2).any().item<bool>());
      const torch::Tensor y_int = integer_forward(layer, x);
      EXPECT_TRUE(torch::allclose(y, y_int, 1e-4, 1e-5));
      layer.set_multiplier(std::make_shared<const ProductTable>(ProductTable::exact(layer.signature())));
      EXPECT_TRUE(torch::allclose(layer.forward(x), y_int, 1e-5, 1e-5));
    }
  }
}

TEST(AsymmetricWeights, FakeQuantHasStraightThroughGradients) {
  const torch::Tensor x = torch::tensor({-0.3, 0.12, 5.0}, torch::requires_grad());
  const torch::Tensor step = torch::tensor(0.1, torch::requires_grad());
  const torch::Tensor zero = torch::tensor(4.0);
  // 3 bits: codes 0..7 cover [-0.4, 0.3]; 5.0 is clipped to code 7.
  const torch::Tensor y = fake_quantize_zero(x, step, zero, 3);
  EXPECT_TRUE(torch::allclose(y, torch::tensor({-0.3, 0.1, 0.3})));
  y.sum().backward();
  EXPECT_FLOAT_EQ(x.grad()[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(x.grad()[2].item<float>(), 0.0f);
  // d/dstep: (round(x/s) - x/s) inside the range, (q - z) where clipped: 0 + (1 - 1.2) + 3.
  EXPECT_NEAR(step.grad().item<float>(), 0.0f - 0.2f + 3.0f, 1e-4);
}

TEST(AsymmetricWeights, LoadedCodesScalesAndZeroPointsAreHeldExactly) {
  QuantLayer layer(3, 4, {3, 1, 1, 1}, false, false, false);
  const torch::Tensor codes = torch::randint(0, 256, {4, 3, 3, 3}).to(torch::kUInt8);
  const torch::Tensor scale = torch::tensor({0.01f, 0.02f, 0.005f, 0.3f});
  const torch::Tensor zero = torch::tensor({0, 128, 77, 255}, torch::kInt32);
  layer.load_asymmetric_weights(codes, scale, zero, 8);
  EXPECT_EQ(layer.signature().key(), "w8u_a8u");
  EXPECT_TRUE(torch::equal(layer.weight_codes(), codes.to(torch::kInt32)));
  EXPECT_TRUE(torch::equal(layer.weight_zero, zero));
  EXPECT_TRUE(torch::allclose(layer.weight_step(), scale, 1e-6, 0));
  EXPECT_THROW(layer.load_asymmetric_weights(codes, scale, zero + 200, 8), Error);       // zero > 255
  EXPECT_THROW(layer.load_asymmetric_weights(codes, scale, zero, 4), Error);             // codes > 15
  EXPECT_THROW(layer.load_asymmetric_weights(codes, -scale, zero, 8), Error);            // scale <= 0
  EXPECT_THROW(layer.load_asymmetric_weights(codes.slice(0, 0, 2), scale, zero, 8), Error);  // shape
}

std::string expect_load_error(const std::string& path) {
  try {
    models::load_model(path);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "loading " << path << " did not fail";
  return "";
}

TEST(AsymmetricWeights, CheckpointKeepsZeroPointsAndRefusesInconsistentOnes) {
  torch::manual_seed(6);
  const models::ModelSpec spec{"lenet5", 10, 1, 28, 1.0};
  auto model = models::build_model(spec);
  for (auto& [name, layer] : quant_layers(*model)) layer->set_asymmetric_weights();
  model->eval();
  const torch::Tensor x = torch::randn({2, 1, 28, 28});
  const torch::Tensor y = models::run_model(*model, x);
  const std::string path = testing::TempDir() + "/fames_asymmetric.pt";
  models::save_model(path, *model, spec);
  auto loaded = models::load_model(path);
  loaded.module->eval();
  EXPECT_TRUE(torch::allclose(models::run_model(*loaded.module, x), y));
  const auto layers = quant_layers(*loaded.module);
  EXPECT_EQ(loaded.meta["asymmetric_weights"].size(), layers.size());
  for (auto& [name, layer] : layers) EXPECT_FALSE(layer->signature().signed_w) << name;
  EXPECT_FALSE(models::layer_table(*loaded.module)[0]["signed_w"].get<bool>());

  // A zero point outside 0..2^bw-1: one error naming the file, the layer and the channel.
  const std::string bad = testing::TempDir() + "/fames_asymmetric_bad_zero.pt";
  {
    torch::NoGradGuard no_grad;
    layers[1].second->weight_zero[3] = 300;
  }
  models::save_model(bad, *loaded.module, spec);
  const std::string message = expect_load_error(bad);
  EXPECT_NE(message.find(bad), std::string::npos) << message;
  EXPECT_NE(message.find("zero point 300 in output channel 3"), std::string::npos) << message;
  EXPECT_NE(message.find(layers[1].first), std::string::npos) << message;
}

}  // namespace
}  // namespace fames::quant
