// Arithmetic, activations, normalization and pooling: Add, Sub, Mul, Div, MatMul (of two
// activations), Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Softmax,
// BatchNormalization, MaxPool, AveragePool, GlobalAveragePool, ReduceMean.
#include <limits>

#include "models/onnx/ops.h"
#include "models/onnx/ops_table.h"
#include "util/error.h"

namespace fames::models::onnx {
namespace {

using Tensors = std::vector<torch::Tensor>;

// The second operand of an arithmetic node. Opset 6 and earlier broadcast only with broadcast=1,
// aligning B's dimensions at `axis` of A (default: the trailing ones, as numpy does).
torch::Tensor second_operand(const OpCall& c) {
  torch::Tensor b = c.in(1);
  if (c.opset >= 7 || c.node.attr_int("broadcast", 0) == 0 || !c.node.has_attr("axis")) return b;
  const int64_t rank = c.in(0).dim(), axis = normalize_axis(c.node.attr_int("axis", 0), rank, c.node);
  std::vector<int64_t> shape = b.sizes().vec();
  while (static_cast<int64_t>(shape.size()) < rank - axis) shape.push_back(1);
  return b.reshape(shape);
}

Tensors add(const OpCall& c) { return {c.in(0) + second_operand(c)}; }
Tensors sub(const OpCall& c) { return {c.in(0) - second_operand(c)}; }
Tensors mul(const OpCall& c) { return {c.in(0) * second_operand(c)}; }
Tensors div(const OpCall& c) {
  const torch::Tensor a = c.in(0), b = second_operand(c);
  if (!a.is_floating_point() && !b.is_floating_point()) return {torch::div(a, b, "trunc").to(a.scalar_type())};
  return {a / b};
}
Tensors matmul(const OpCall& c) { return {torch::matmul(c.in(0), c.in(1))}; }

Tensors relu(const OpCall& c) { return {torch::relu(c.in(0))}; }
Tensors leaky_relu(const OpCall& c) { return {torch::leaky_relu(c.in(0), c.node.attr_float("alpha", 0.01))}; }
Tensors sigmoid(const OpCall& c) { return {torch::sigmoid(c.in(0))}; }
Tensors hard_sigmoid(const OpCall& c) {
  const double alpha = c.node.attr_float("alpha", 0.2), beta = c.node.attr_float("beta", 0.5);
  return {(c.in(0) * alpha + beta).clamp(0.0, 1.0)};
}
Tensors hard_swish(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  return {x * (x / 6.0 + 0.5).clamp(0.0, 1.0)};
}

// Bounds are inputs from opset 11, attributes before.
Tensors clip(const OpCall& c) {
  c10::optional<c10::Scalar> low, high;
  if (c.opset < 11) {
    if (c.node.has_attr("min")) low = c.node.attr_float("min", 0);
    if (c.node.has_attr("max")) high = c.node.attr_float("max", 0);
  }
  if (c.in(1).defined()) low = c.in(1).item();
  if (c.in(2).defined()) high = c.in(2).item();
  if (!low && !high) return {c.in(0)};
  return {torch::clamp(c.in(0), low, high)};
}

// Opset < 13 coerces the input to 2-D at `axis` (default 1); 13 and later take one axis (default -1).
Tensors softmax(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  if (c.opset >= 13) return {torch::softmax(x, normalize_axis(c.node.attr_int("axis", -1), x.dim(), c.node))};
  const int64_t axis = normalize_axis(c.node.attr_int("axis", 1), x.dim(), c.node);
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.size(i);
  return {torch::softmax(x.reshape({outer, -1}), 1).reshape(x.sizes())};
}

Tensors batch_norm(const OpCall& c) {
  if (c.node.attr_int("training_mode", 0) != 0 || (c.opset < 7 && c.node.attr_int("is_test", 0) == 0))
    fail("{} runs in training mode, which is not supported (export the model in eval mode)", c.node.describe());
  if (c.node.attr_int("spatial", 1) == 0) fail("{} normalizes per element (spatial=0), which is not supported", c.node.describe());
  const double epsilon = c.node.attr_float("epsilon", 1e-5);
  return {torch::batch_norm(c.in(0), c.in(1), c.in(2), c.in(3), c.in(4), false, 0.0, epsilon, false)};
}

void require_2d_pool(const OpCall& c, const torch::Tensor& x) {
  if (x.dim() != 4)
    fail("{} pools a rank-{} tensor, which is not supported (only 2-D pooling of NCHW tensors)", c.node.describe(), x.dim());
}

struct PoolWindow {
  std::vector<int64_t> kernel, stride, dilation;
  ConvPads pads;
  bool ceil_mode = false;
  // torch pools pad symmetrically, by at most half the kernel; anything else is padded explicitly.
  bool torch_pads() const {
    return pads.top == pads.bottom && pads.left == pads.right && 2 * pads.top <= kernel[0] && 2 * pads.left <= kernel[1];
  }
};

PoolWindow pool_window(const OpCall& c, const torch::Tensor& x) {
  PoolWindow p;
  p.kernel = c.node.attr_ints("kernel_shape");
  if (p.kernel.size() != 2) fail("{} has a {}-D kernel_shape, which is not supported (only 2-D pooling)", c.node.describe(), p.kernel.size());
  p.stride = c.node.attr_ints("strides", {1, 1});
  p.dilation = c.node.attr_ints("dilations", {1, 1});
  p.ceil_mode = c.node.attr_int("ceil_mode", 0) != 0;
  p.pads = resolve_pads(c.node, x.size(2), x.size(3), p.kernel, p.stride, p.dilation);
  return p;
}

Tensors max_pool(const OpCall& c) {
  torch::Tensor x = c.in(0);
  require_2d_pool(c, x);
  if (c.node.outputs.size() > 1 && !c.node.outputs[1].empty())
    fail("{} asks for MaxPool's index output, which is not supported", c.node.describe());
  const PoolWindow p = pool_window(c, x);
  const auto type = x.scalar_type();
  if (!x.is_floating_point()) x = x.to(torch::kFloat);
  torch::Tensor y;
  if (p.torch_pads()) {
    y = torch::max_pool2d(x, p.kernel, p.stride, {p.pads.top, p.pads.left}, p.dilation, p.ceil_mode);
  } else {
    const torch::Tensor padded = torch::constant_pad_nd(x, p.pads.torch_order(), -std::numeric_limits<double>::infinity());
    y = torch::max_pool2d(padded, p.kernel, p.stride, {0, 0}, p.dilation, p.ceil_mode);
  }
  return {y.to(type)};
}

Tensors average_pool(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  require_2d_pool(c, x);
  const PoolWindow p = pool_window(c, x);
  if (p.dilation[0] != 1 || p.dilation[1] != 1) fail("{} has dilations, which is not supported", c.node.describe());
  const bool include_pad = c.node.attr_int("count_include_pad", 0) != 0;
  if (p.torch_pads())
    return {torch::avg_pool2d(x, p.kernel, p.stride, {p.pads.top, p.pads.left}, p.ceil_mode, include_pad)};
  const torch::Tensor padded = torch::constant_pad_nd(x, p.pads.torch_order(), 0.0);
  const torch::Tensor sum_mean = torch::avg_pool2d(padded, p.kernel, p.stride, {0, 0}, p.ceil_mode, true);
  if (include_pad) return {sum_mean};
  // Mean over the real pixels only: divide by the pooled indicator of real pixels.
  const torch::Tensor ones = torch::constant_pad_nd(torch::ones({1, 1, x.size(2), x.size(3)}, x.options()), p.pads.torch_order(), 0.0);
  return {sum_mean / torch::avg_pool2d(ones, p.kernel, p.stride, {0, 0}, p.ceil_mode, true)};
}

Tensors global_average_pool(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  std::vector<int64_t> dims;
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return {x.mean(dims, true)};
}

// Axes from the attribute (opset < 18); none means every axis.
Tensors reduce_mean(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  std::vector<int64_t> axes = c.node.attr_ints("axes");
  for (auto& a : axes) a = normalize_axis(a, x.dim(), c.node);
  if (axes.empty())
    for (int64_t d = 0; d < x.dim(); ++d) axes.push_back(d);
  return {x.mean(axes, c.node.attr_int("keepdims", 1) != 0)};
}

}  // namespace

void add_nn_ops(OpTable& table) {
  table["Add"] = add;
  table["Sub"] = sub;
  table["Mul"] = mul;
  table["Div"] = div;
  table["MatMul"] = matmul;
  table["Relu"] = relu;
  table["LeakyRelu"] = leaky_relu;
  table["Sigmoid"] = sigmoid;
  table["HardSigmoid"] = hard_sigmoid;
  table["HardSwish"] = hard_swish;
  table["Clip"] = clip;
  table["Softmax"] = softmax;
  table["BatchNormalization"] = batch_norm;
  table["MaxPool"] = max_pool;
  table["AveragePool"] = average_pool;
  table["GlobalAveragePool"] = global_average_pool;
  table["ReduceMean"] = reduce_mean;
}

}  // namespace fames::models::onnx
