// QDQ ONNX: import of a model quantized elsewhere (tests/fixtures/onnx/qdq_*, written by
// scripts/qdq_fixtures.py) against its own QDQ arithmetic, export of fames models (valid under
// ONNX's C++ checker) and the export -> import round trip, which must keep every code and output.
#include <onnx/checker.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "../error_message.h"
#include "models/onnx/npy_tensor.h"
#include "models/onnx/onnx_import.h"
#include "models/onnx/onnx_reader.h"
#include "models/onnx/qdq_export.h"
#include "quant/quant_layer.h"

namespace fames::models::onnx {
namespace {

std::string fixture(const std::string& name) { return std::string(FAMES_SOURCE_DIR) + "/tests/fixtures/onnx/" + name; }

using LayerList = std::vector<std::pair<std::string, std::shared_ptr<quant::QuantLayer>>>;

// The value of the constant `name` of an imported graph.
torch::Tensor graph_constant(GraphModel& model, const std::string& name) {
  for (size_t i = 0; i < model.graph().constants.size(); ++i)
    if (model.graph().constants[i].name == name) return model.constant(i);
  ADD_FAILURE() << "no constant " << name;
  return torch::ones({});
}

// The step of the DequantizeLinear that computes the graph's output.
double output_step(GraphModel& model) {
  for (const Node& node : model.graph().nodes)
    if (node.op == "DequantizeLinear" && node.outputs.at(0) == model.graph().outputs.at(0))
      return graph_constant(model, node.input(1)).item<double>();
  ADD_FAILURE() << "the output is not dequantized";
  return 0;
}

void use_exact_tables(const LayerList& layers) {
  for (const auto& [name, layer] : layers)
    layer->set_multiplier(std::make_shared<const ProductTable>(ProductTable::exact(layer->signature())));
}

struct QdqFixture {
  std::string name;
  std::vector<std::array<int, 3>> layers;  // bw, ba, signed input: what the fixture script wrote
};

class QdqFixtures : public ::testing::TestWithParam<QdqFixture> {};

TEST_P(QdqFixtures, ImportMatchesTheQdqArithmeticWithinOneCode) {
  const QdqFixture& f = GetParam();
  Imported imported = import_onnx(fixture(f.name + ".onnx"));
  const auto layers = quant::quant_layers(*imported.model);
  ASSERT_EQ(layers.size(), f.layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& layer = layers[i].second;
    EXPECT_TRUE(layer->quantized()) << layers[i].first;
    EXPECT_EQ(layer->weight_bits(), f.layers[i][0]) << layers[i].first;
    EXPECT_EQ(layer->act_bits(), f.layers[i][1]) << layers[i].first;
    EXPECT_EQ(layer->signed_input(), f.layers[i][2] != 0) << layers[i].first;
  }
  const torch::Tensor x = read_npy_tensor(fixture(f.name + ".input.npy"));
  const torch::Tensor ref = read_npy_tensor(fixture(f.name + ".output.npy"));
  const double step = output_step(*imported.model);
  torch::NoGradGuard no_grad;
  imported.model->eval();
  const double fake_quant_codes = (imported.model->forward(x) - ref).abs().max().item<double>() / step;
  use_exact_tables(layers);  // the integer forward: code products summed exactly, then scaled
  const double integer_codes = (imported.model->forward(x) - ref).abs().max().item<double>() / step;
  std::cout << f.name << ": max output difference " << fake_quant_codes << " codes (fake-quant), " << integer_codes
            << " codes (integer forward)\n";
  EXPECT_LE(fake_quant_codes, 1.001);
  EXPECT_LE(integer_codes, 1.001);
  EXPECT_GT(ref.abs().max().item<double>(), 10 * step);  // the outputs are not all zero
}

// scripts/qdq_fixtures.py. qdq_cnn: conv1 int8 input clipped to +-127 with 4-bit weight codes,
// conv2 uint8 input clipped to 0..15 with 6-bit codes, fc uint8 input over the full range.
// qdq_torch (PyTorch's fake quantization): 8-bit weights; int8 input, uint8 0..127 (a Clip of the
// codes), uint8 0..255.
INSTANTIATE_TEST_SUITE_P(Fixtures, QdqFixtures,
                         ::testing::Values(QdqFixture{"qdq_cnn", {{4, 8, 1}, {6, 4, 0}, {8, 8, 0}}},
                                           QdqFixture{"qdq_torch", {{8, 8, 1}, {8, 7, 0}, {8, 8, 0}}}),
                         [](const auto& info) { return info.param.name; });

TEST(QdqImport, UnsupportedPatternsNameTheNode) {
  const std::string channel = testing::error_message([] { import_onnx(fixture("qdq_error_channel_act.onnx")); });
  EXPECT_NE(channel.find("conv.in.q"), std::string::npos) << channel;
  EXPECT_NE(channel.find("per-channel activation"), std::string::npos) << channel;
  const std::string mixed = testing::error_message([] { import_onnx(fixture("qdq_error_mixed.onnx")); });
  EXPECT_NE(mixed.find("layer 'conv' is QDQ-quantized but layer 'float_conv' is not"), std::string::npos) << mixed;
}

// uint8 weights with a zero point import as an unsigned-weight layer holding the file's codes.
TEST(QdqImport, Uint8WeightsBecomeAnUnsignedWeightLayer) {
  Imported imported = import_onnx(fixture("qdq_uint8_weight.onnx"));
  const auto layers = quant::quant_layers(*imported.model);
  ASSERT_EQ(layers.size(), 1u);
  const quant::QuantLayer& conv = *layers[0].second;
  EXPECT_TRUE(conv.asymmetric_weights());
  EXPECT_EQ(conv.signature().key(), "w8u_a8u");
  EXPECT_TRUE(torch::equal(conv.weight_zero, torch::full({4}, 128, torch::kInt32)));
  const torch::Tensor stored = read_onnx_file(fixture("qdq_uint8_weight.onnx")).constants.at("conv.weight_q");
  EXPECT_TRUE(torch::equal(conv.weight_codes(), stored.to(torch::kInt32)));
}

// A LeNet-5 with mixed bit widths and clipping values set from random data (asymmetric: every
// layer's weights with zero points).
std::shared_ptr<torch::nn::Module> mixed_precision_lenet(const ModelSpec& spec, bool asymmetric = false) {
  torch::manual_seed(3);
  auto model = build_model(spec);
  const std::vector<std::pair<int, int>> bits = {{4, 8}, {6, 5}, {7, 7}, {3, 4}, {8, 2}};
  const auto layers = quant::quant_layers(*model);
  for (size_t i = 0; i < layers.size(); ++i) {
    if (asymmetric) layers[i].second->set_asymmetric_weights();
    layers[i].second->set_bits(bits[i].first, bits[i].second);
  }
  torch::NoGradGuard no_grad;
  model->eval();
  run_model(*model, torch::randn({8, spec.in_channels, spec.image_size, spec.image_size}));
  return model;
}

// Symmetric weights come back bit for bit; asymmetric ones with the same codes and zero points,
// their steps to float rounding (the import sets the range from the file's scale).
void expect_round_trip(bool asymmetric) {
  ModelSpec spec;
  spec.arch = "lenet5";
  spec.in_channels = 1;
  spec.image_size = 28;
  auto model = mixed_precision_lenet(spec, asymmetric);
  const std::string path = ::testing::TempDir() + "/fames_qdq_lenet_" + std::to_string(::getpid()) + ".onnx";
  write_qdq_onnx(*model, spec, path);
  EXPECT_NO_THROW(::onnx::checker::check_model(path));
  Imported imported = import_onnx(path);
  std::remove(path.c_str());
  const auto before = quant::quant_layers(*model), after = quant::quant_layers(*imported.model);
  ASSERT_EQ(before.size(), after.size());
  auto same = [asymmetric](const torch::Tensor& a, const torch::Tensor& b) {
    return asymmetric ? torch::allclose(a, b, 1e-6, 0) : torch::equal(a, b);
  };
  for (size_t i = 0; i < before.size(); ++i) {
    const auto &a = *before[i].second, &b = *after[i].second;
    EXPECT_EQ(before[i].first, after[i].first);
    EXPECT_EQ(a.signature(), b.signature()) << before[i].first;
    EXPECT_EQ(b.asymmetric_weights(), asymmetric) << before[i].first;
    EXPECT_TRUE(torch::equal(a.weight_codes(), b.weight_codes())) << before[i].first;
    if (asymmetric) {
      EXPECT_TRUE(torch::equal(a.weight_zero, b.weight_zero)) << before[i].first;
    }
    EXPECT_TRUE(same(a.weight_step(), b.weight_step())) << before[i].first;
    EXPECT_TRUE(torch::equal(a.act_step(), b.act_step())) << before[i].first;
  }
  torch::NoGradGuard no_grad;
  imported.model->eval();
  const torch::Tensor x = torch::randn({16, 1, 28, 28});
  auto close = [asymmetric](const torch::Tensor& a, const torch::Tensor& b) {
    return asymmetric ? torch::allclose(a, b, 1e-4, 1e-5) : torch::equal(a, b);
  };
  EXPECT_TRUE(close(run_model(*model, x), imported.model->forward(x)));
  use_exact_tables(before);
  use_exact_tables(after);
  EXPECT_TRUE(close(run_model(*model, x), imported.model->forward(x)));
}

TEST(QdqRoundTrip, LeNetKeepsBitsCodesStepsAndOutputs) { expect_round_trip(false); }
TEST(QdqRoundTrip, AsymmetricLeNetKeepsBitsCodesZeroPointsAndOutputs) { expect_round_trip(true); }

TEST(QdqExport, ZooResNetPassesTheChecker) {
  ModelSpec spec;  // ResNet-20: BatchNorm, option-A shortcuts (Slice + Pad), global pooling
  torch::manual_seed(5);
  auto model = build_model(spec);
  {
    torch::NoGradGuard no_grad;
    model->eval();
    run_model(*model, torch::randn({2, 3, 32, 32}));
  }
  const std::string path = ::testing::TempDir() + "/fames_qdq_resnet_" + std::to_string(::getpid()) + ".onnx";
  write_qdq_onnx(*model, spec, path);
  EXPECT_NO_THROW(::onnx::checker::check_model(path));
  Imported imported = import_onnx(path);
  std::remove(path.c_str());
  EXPECT_EQ(quant::quant_layers(*imported.model).size(), quant::quant_layers(*model).size());
}

TEST(QdqExport, FloatModelIsRefused) {
  ModelSpec spec;
  spec.arch = "lenet5";
  auto model = build_model(spec);
  for (const auto& [name, layer] : quant::quant_layers(*model)) layer->set_quantized(false);
  const std::string message = testing::error_message([&] { write_qdq_onnx(*model, spec, "/tmp/never.onnx"); });
  EXPECT_NE(message.find("not quantized"), std::string::npos) << message;
}

}  // namespace
}  // namespace fames::models::onnx
