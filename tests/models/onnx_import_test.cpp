// ONNX import on real networks: the float forward of every committed fixture (torchvision
// architectures with random weights, exported by scripts/onnx_fixtures.py) against PyTorch's own
// output; layer names, signedness and the checkpoint round trip; the four kinds of bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "models/checkpoint.h"
#include "models/onnx/npy_tensor.h"
#include "models/onnx/onnx_import.h"
#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::models::onnx {
namespace {

std::string fixture(const std::string& name) { return std::string(FAMES_SOURCE_DIR) + "/tests/fixtures/onnx/" + name; }

// max |y - ref| / (max ref - min ref): the fixture tolerance is 1e-4 of the output range.
double range_relative_diff(const torch::Tensor& y, const torch::Tensor& ref) {
  const double range = (ref.max() - ref.min()).item<double>();
  return (y - ref).abs().max().item<double>() / std::max(range, 1e-12);
}

class Fixture : public testing::TestWithParam<std::string> {};

TEST_P(Fixture, FloatForwardMatchesPyTorch) {
  const std::string name = GetParam();
  Imported imported = import_onnx(fixture(name + ".onnx"));
  const torch::Tensor x = read_npy_tensor(fixture(name + ".input.npy"));
  const torch::Tensor ref = read_npy_tensor(fixture(name + ".output.npy"));
  torch::NoGradGuard no_grad;
  imported.model->eval();
  const torch::Tensor y = imported.model->forward(x);
  ASSERT_EQ(y.sizes(), ref.sizes());
  EXPECT_LE(range_relative_diff(y, ref), 1e-4) << name;
  EXPECT_GT(quant::quant_layers(*imported.model).size(), 2u);
  // Batch size is free: the Shape chains run per call. One image gives the first row.
  const torch::Tensor one = imported.model->forward(x.slice(0, 0, 1));
  EXPECT_LE(range_relative_diff(one, ref.slice(0, 0, 1)), 1e-4) << name;
}

INSTANTIATE_TEST_SUITE_P(OnnxFixtures, Fixture,
                         testing::Values("cifar_cnn", "fmnist_cnn", "resnet18_w16", "vgg11_w16", "squeezenet1_1_w4",
                                         "mobilenet_v2_w025", "mobilenet_v3_small_w025", "shufflenet_v2_w",
                                         "efficientnet_b0_w025", "densenet_g8"));

TEST(OnnxImport, LayersAreNamedAfterWeightsAndKnowTheirSign) {
  Imported imported = import_onnx(fixture("cifar_cnn.onnx"));
  const auto layers = quant::quant_layers(*imported.model);
  std::vector<std::string> names;
  for (const auto& [name, layer] : layers) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"features.0", "features.4", "features.8", "fc1", "fc2"}));
  // The first convolution sees normalized pixels (signed); the rest follow a ReLU (and max pooling).
  EXPECT_TRUE(layers[0].second->signed_input());
  for (size_t i = 1; i < layers.size(); ++i) EXPECT_FALSE(layers[i].second->signed_input()) << names[i];
  for (const auto& [name, layer] : layers) EXPECT_FALSE(layer->quantized()) << name;
}

TEST(OnnxImport, CheckpointRoundTripKeepsGraphAndWeights) {
  Imported imported = import_onnx(fixture("shufflenet_v2_w.onnx"));
  const torch::Tensor x = read_npy_tensor(fixture("shufflenet_v2_w.input.npy"));
  torch::NoGradGuard no_grad;
  imported.model->eval();
  const torch::Tensor before = imported.model->forward(x);
  ModelSpec spec;
  spec.arch = kArch;
  spec.image_size = 32;
  const std::string path = testing::TempDir() + "/fames_onnx_roundtrip.pt";
  save_model(path, *imported.model, spec, {{"dataset", "cifar10:/nowhere"}});
  LoadedModel loaded = load_model(path);
  std::remove(path.c_str());
  EXPECT_EQ(loaded.spec.arch, kArch);
  loaded.module->eval();
  const torch::Tensor after = run_model(*loaded.module, x);
  EXPECT_TRUE(torch::equal(before, after));
  EXPECT_EQ(quant::quant_layers(*loaded.module).size(), quant::quant_layers(*imported.model).size());
}

TEST(OnnxImport, QuantizedForwardStaysClose) {
  Imported imported = import_onnx(fixture("resnet18_w16.onnx"));
  const torch::Tensor x = read_npy_tensor(fixture("resnet18_w16.input.npy"));
  torch::NoGradGuard no_grad;
  imported.model->eval();
  const torch::Tensor exact = imported.model->forward(x);
  for (auto& [name, layer] : quant::quant_layers(*imported.model)) layer->set_quantized(true);  // 8/8 bits
  const torch::Tensor quantized = imported.model->forward(x);
  const double diff = range_relative_diff(quantized, exact);
  EXPECT_GT(diff, 0.0);   // quantization happened
  EXPECT_LT(diff, 0.1);   // and 8 bits keep it near the float network
}

std::string error_of(const std::string& path) {
  try {
    import_onnx(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(OnnxImport, UnsupportedOperatorNamesNodeOpAndOpset) {
  const std::string message = error_of(fixture("error_unsupported_op.onnx"));
  EXPECT_NE(message.find("the_erf"), std::string::npos) << message;
  EXPECT_NE(message.find("Erf"), std::string::npos) << message;
  EXPECT_NE(message.find("opset 13"), std::string::npos) << message;
}

TEST(OnnxImport, DynamicWeightIsAnError) {
  const std::string message = error_of(fixture("error_dynamic_weight.onnx"));
  EXPECT_NE(message.find("the_conv"), std::string::npos) << message;
  EXPECT_NE(message.find("dynamic weight 'w'"), std::string::npos) << message;
}

TEST(OnnxImport, TruncatedAndForeignFilesAreErrors) {
  const std::string bytes = read_file(fixture("cifar_cnn.onnx"));
  const std::string truncated = testing::TempDir() + "/fames_truncated.onnx";
  write_file_atomic(truncated, bytes.substr(0, bytes.size() / 2));
  std::string message = error_of(truncated);
  std::remove(truncated.c_str());
  EXPECT_NE(message.find("is not an ONNX model"), std::string::npos) << message;
  for (const std::string& foreign : {fixture("cifar_cnn.input.npy"), std::string(FAMES_SOURCE_DIR) + "/README.md"}) {
    message = error_of(foreign);
    EXPECT_NE(message.find("is not an ONNX model"), std::string::npos) << foreign << ": " << message;
  }
  message = error_of("/nonexistent/model.onnx");
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
}

}  // namespace
}  // namespace fames::models::onnx
