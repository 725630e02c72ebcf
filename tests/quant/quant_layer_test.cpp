// The integer path of every layer type equals its fake-quant float forward within float rounding:
// output = s_w(o) * s_a * sum(code products) + bias.
#include "quant/quant_layer.h"

#include <gtest/gtest.h>

#include "models/checkpoint.h"
#include "models/zoo.h"
#include "quant/bits.h"
#include "quant/fake_quant.h"
#include "util/error.h"

namespace fames::quant {
namespace {

struct Case {
  const char* label;
  int64_t in, out;
  ConvGeometry geometry;
  bool linear, signed_input;
};

torch::Tensor integer_forward(QuantLayer& layer, const torch::Tensor& x) {
  const torch::Tensor a = layer.input_codes(x).to(torch::kDouble);
  const torch::Tensor w = layer.weight_codes().to(torch::kDouble);
  torch::Tensor sums = layer.is_linear()
                           ? torch::linear(a, w)
                           : torch::conv2d(a, w, {}, layer.geometry().stride, layer.geometry().padding, 1,
                                           layer.geometry().groups);
  // Sums of integer products are exact in double: check they are whole numbers.
  EXPECT_TRUE(torch::equal(sums, torch::round(sums)));
  std::vector<int64_t> shape(sums.dim(), 1);
  shape[1] = layer.out_channels();
  torch::Tensor y = sums * (layer.weight_step().to(torch::kDouble).view(shape) * layer.act_step().to(torch::kDouble));
  if (layer.bias.defined()) y = y + layer.bias.to(torch::kDouble).view(shape);
  return y.to(torch::kFloat);
}

TEST(QuantLayer, IntegerPathEqualsFakeQuantForEveryLayerType) {
  torch::manual_seed(3);
  const std::vector<Case> cases = {
      {"conv3x3", 5, 7, {3, 1, 1, 1}, false, false},   {"conv3x3_stride2", 4, 6, {3, 2, 1, 1}, false, false},
      {"conv1x1", 8, 3, {1, 1, 0, 1}, false, false},   {"grouped", 6, 9, {3, 1, 1, 3}, false, false},
      {"depthwise", 6, 6, {3, 1, 1, 6}, false, false}, {"first_signed", 3, 8, {3, 1, 1, 1}, false, true},
      {"conv5x5_bias", 2, 4, {5, 1, 2, 1}, false, false}, {"linear", 17, 5, {}, true, false},
  };
  for (const auto& c : cases) {
    for (int bits : {2, 3, 4, 8}) {
      SCOPED_TRACE(std::string(c.label) + " bits " + std::to_string(bits));
      QuantLayer layer(c.in, c.out, c.geometry, c.linear, c.linear || std::string(c.label).find("bias") != std::string::npos,
                       c.signed_input);
      layer.set_bits(bits, bits);
      torch::Tensor x = c.linear ? torch::randn({4, c.in}) : torch::randn({2, c.in, 9, 11});
      if (!c.signed_input) x = torch::relu(x);
      torch::NoGradGuard no_grad;
      const torch::Tensor y = layer.forward(x);  // initialises clipping, then fake-quant forward
      const torch::Tensor y_int = integer_forward(layer, x);
      EXPECT_TRUE(torch::allclose(y, y_int, 1e-4, 1e-5));
      // The product-table path with the exact table computes the same integers.
      layer.set_multiplier(std::make_shared<const ProductTable>(ProductTable::exact(layer.signature())));
      EXPECT_TRUE(torch::allclose(layer.forward(x), y_int, 1e-5, 1e-6));
      layer.set_multiplier(nullptr);
      // Codes stay in range.
      EXPECT_LE(layer.input_codes(x).max().item<int>(), max_code(bits, c.signed_input));
      EXPECT_LE(layer.weight_codes().abs().max().item<int>(), max_code(bits, true));
    }
  }
}

TEST(QuantLayer, MacsPerImageCountsPaddedPositions) {
  QuantLayer conv(3, 4, ConvGeometry{3, 2, 1, 1}, false, false, true);
  torch::NoGradGuard no_grad;
  conv.forward(torch::randn({1, 3, 8, 8}));
  EXPECT_EQ(conv.macs_per_image(), 4 * 3 * 9 * 4 * 4);
  QuantLayer fc(10, 6, ConvGeometry{}, true, true, false);
  fc.forward(torch::rand({2, 10}));
  EXPECT_EQ(fc.macs_per_image(), 60);
}

TEST(QuantLayer, BitsOutOfRangeIsAnError) {
  QuantLayer conv(3, 4, ConvGeometry{}, false, false, false);
  EXPECT_THROW(conv.set_bits(1, 4), Error);
  EXPECT_THROW(conv.set_bits(4, 9), Error);
}

TEST(Zoo, EveryArchitectureRunsAndRoundTripsThroughACheckpoint) {
  for (const auto& arch : models::known_architectures()) {
    SCOPED_TRACE(arch);
    models::ModelSpec spec;
    spec.arch = arch;
    spec.width = 0.125;
    if (arch == "lenet5") {
      spec.in_channels = 1;
      spec.image_size = 28;
    }
    auto model = models::build_model(spec);
    apply_bits(*model, "4");
    torch::NoGradGuard no_grad;
    model->eval();
    const torch::Tensor x = torch::randn({2, spec.in_channels, spec.image_size, spec.image_size});
    const torch::Tensor y = models::run_model(*model, x);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 10}));
    const std::string path = testing::TempDir() + "/fames_zoo_" + arch + ".pt";
    models::save_model(path, *model, spec, {{"dataset", "test"}});
    auto loaded = models::load_model(path);
    EXPECT_EQ(loaded.spec.arch, arch);
    loaded.module->eval();
    EXPECT_TRUE(torch::allclose(models::run_model(*loaded.module, x), y));
    EXPECT_THROW(models::load_model(path, arch == "lenet5" ? "resnet20" : "lenet5"), Error);
  }
}

TEST(Checkpoint, CorruptOrMissingFileIsAClearError) {
  EXPECT_THROW(models::load_model("/nonexistent/model.pt"), Error);
  const std::string path = testing::TempDir() + "/fames_corrupt.pt";
  FILE* f = fopen(path.c_str(), "wb");
  fputs("not a checkpoint", f);
  fclose(f);
  try {
    models::load_model(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
}

}  // namespace
}  // namespace fames::quant
