// The graph executor's operators on hand-computed cases (ONNX specification examples), the pads
// that auto_pad implies, and the naming of imported layers.
#include <gtest/gtest.h>

#include "models/onnx/graph.h"
#include "models/onnx/layer_names.h"
#include "models/onnx/ops.h"
#include "util/error.h"

namespace fames::models::onnx {
namespace {

Node node(const std::string& op, nlohmann::json attrs = nlohmann::json::object(), size_t outputs = 1) {
  Node n;
  n.name = "n";
  n.op = op;
  n.attrs = std::move(attrs);
  for (size_t i = 0; i < outputs; ++i) n.outputs.push_back("y" + std::to_string(i));
  return n;
}

torch::Tensor ints(std::vector<int64_t> v) { return torch::tensor(v, torch::kLong); }

TEST(OnnxOps, SliceWithNegativeStepAndClampedEnds) {
  // Specification example "slice_neg_steps": x[20:10:-1, 10:-1 ... ] style on one axis.
  const torch::Tensor x = torch::arange(10, torch::kFloat);
  const auto y = run_op(node("Slice"), {x, ints({-2}), ints({INT64_MIN}), ints({0}), ints({-3})}, 13);
  EXPECT_TRUE(torch::equal(y[0], torch::tensor({8.0f, 5.0f, 2.0f})));
  const auto z = run_op(node("Slice"), {x, ints({3}), ints({1000})}, 13);
  EXPECT_EQ(z[0].numel(), 7);
}

TEST(OnnxOps, ReshapeCopiesZeroDimsUnlessAllowZero) {
  const torch::Tensor x = torch::zeros({2, 3, 4});
  EXPECT_EQ(run_op(node("Reshape"), {x, ints({0, -1})}, 13)[0].sizes(), (std::vector<int64_t>{2, 12}));
  const torch::Tensor empty = torch::zeros({0, 3});
  EXPECT_EQ(run_op(node("Reshape", {{"allowzero", 1}}), {empty, ints({3, 0})}, 14)[0].sizes(), (std::vector<int64_t>{3, 0}));
}

TEST(OnnxOps, SplitTakesSizesFromAttributeBeforeOpset13AndInputAfter) {
  const torch::Tensor x = torch::arange(6, torch::kFloat);
  const auto old_style = run_op(node("Split", {{"split", {2, 4}}}, 2), {x}, 11);
  EXPECT_EQ(old_style[1].numel(), 4);
  const auto new_style = run_op(node("Split", nlohmann::json::object(), 2), {x, ints({5, 1})}, 13);
  EXPECT_EQ(new_style[0].numel(), 5);
  const auto equal = run_op(node("Split", nlohmann::json::object(), 3), {x}, 13);
  EXPECT_EQ(equal[2].numel(), 2);
}

TEST(OnnxOps, SoftmaxCoercesTo2dBeforeOpset13) {
  const torch::Tensor x = torch::randn({2, 3, 4});
  const auto old_style = run_op(node("Softmax"), {x}, 11)[0];  // axis 1: over the last 12 values
  EXPECT_NEAR(old_style[0].sum().item<double>(), 1.0, 1e-5);
  const auto new_style = run_op(node("Softmax"), {x}, 13)[0];  // axis -1: over 4 values
  EXPECT_NEAR(new_style[0][0].sum().item<double>(), 1.0, 1e-5);
}

TEST(OnnxOps, GatherKeepsIndexShapeAndWrapsNegativeIndices) {
  const torch::Tensor data = torch::arange(12, torch::kFloat).reshape({3, 4});
  const auto y = run_op(node("Gather", {{"axis", 1}}), {data, ints({-1})}, 13)[0];
  EXPECT_TRUE(torch::equal(y, torch::tensor({{3.0f}, {7.0f}, {11.0f}})));
  const auto scalar = run_op(node("Gather"), {ints({5, 6, 7}), torch::tensor(int64_t{1})}, 13)[0];
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_EQ(scalar.item<int64_t>(), 6);
}

TEST(OnnxOps, AveragePoolWithAsymmetricPadsExcludesPadding) {
  const torch::Tensor x = torch::ones({1, 1, 3, 3});
  const auto y = run_op(node("AveragePool", {{"kernel_shape", {2, 2}}, {"pads", {1, 1, 0, 0}}}), {x}, 13)[0];
  EXPECT_TRUE(torch::allclose(y, torch::ones({1, 1, 3, 3})));  // padded zeros are not counted
  const auto with_pad = run_op(node("AveragePool", {{"kernel_shape", {2, 2}}, {"pads", {1, 1, 0, 0}}, {"count_include_pad", 1}}), {x}, 13)[0];
  EXPECT_FLOAT_EQ(with_pad[0][0][0][0].item<float>(), 0.25f);
}

TEST(OnnxOps, AutoPadSplitsTheOddPixel) {
  const Node upper = node("Conv", {{"auto_pad", "SAME_UPPER"}});
  const ConvPads p = resolve_pads(upper, 5, 6, {4, 4}, {1, 2}, {1, 1});
  EXPECT_EQ(p.top, 1);     // total 3 rows: 1 before, 2 after
  EXPECT_EQ(p.bottom, 2);
  EXPECT_EQ(p.left + p.right, 2);  // out 3 cols: (3-1)*2 + 4 - 6 = 2
  const ConvPads lower = resolve_pads(node("Conv", {{"auto_pad", "SAME_LOWER"}}), 5, 6, {4, 4}, {1, 2}, {1, 1});
  EXPECT_EQ(lower.top, 2);
}

TEST(OnnxOps, UnsupportedValuesSayNotSupported) {
  try {
    run_op(node("Pad", {{"mode", "reflect"}}), {torch::zeros({1, 1, 2, 2}), ints({0, 0, 1, 1, 0, 0, 1, 1})}, 13);
    FAIL() << "reflect padding was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not supported"), std::string::npos) << e.what();
  }
}

TEST(OnnxLayerNames, FromWeightsThenNodePathsThenOpCounter) {
  LayerNames names;
  Node conv = node("Conv");
  conv.name = "/layer1/layer1.0/conv1/Conv";
  EXPECT_EQ(names.claim(conv, "layer1.0.conv1.weight"), "layer1.0.conv1");
  EXPECT_EQ(names.claim(conv, "onnx::Conv_193"), "layer1.0.conv1_2");  // same path again
  conv.name = "/features/features.3/features.3.0/Conv";
  EXPECT_EQ(names.claim(conv, "onnx::Conv_200"), "features.3.0");
  EXPECT_EQ(names.claim(conv, "features.weight"), "features_2");  // "features" is a taken prefix
  Node gemm = node("Gemm");
  gemm.name = "";
  EXPECT_EQ(names.claim(gemm, "onnx::Gemm_7"), "gemm_5");
  EXPECT_EQ(names.claim(gemm, "constants.weight"), "constants_2");  // reserved top-level name
}

}  // namespace
}  // namespace fames::models::onnx
