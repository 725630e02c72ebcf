#include "models/onnx/ops.h"

#include "models/onnx/ops_table.h"
#include "util/error.h"

namespace fames::models::onnx {
namespace {

const OpTable& op_table() {
  static const OpTable table = [] {
    OpTable t;
    add_tensor_ops(t);
    add_nn_ops(t);
    add_quant_ops(t);
    return t;
  }();
  return table;
}

}  // namespace

std::vector<std::string> supported_ops() {
  std::vector<std::string> names;
  for (const auto& [name, fn] : op_table()) names.push_back(name);
  return names;
}

bool is_supported_op(const std::string& op) { return op_table().count(op) != 0; }

std::vector<torch::Tensor> run_op(const Node& node, const std::vector<torch::Tensor>& inputs, int64_t opset) {
  const auto it = op_table().find(node.op);
  if (it == op_table().end()) fail("{} uses an operator fames does not execute", node.describe());
  std::vector<torch::Tensor> outputs = it->second(OpCall{node, inputs, opset});
  if (outputs.size() < node.outputs.size()) {
    // Optional outputs that the operator does not produce stay undefined; reading one is an error
    // at the consumer.
    outputs.resize(node.outputs.size());
  }
  return outputs;
}

std::string shape_string(const torch::Tensor& t) {
  if (t.dim() == 0) return "scalar";
  std::string text;
  for (int64_t d : t.sizes()) text += (text.empty() ? "" : "x") + std::to_string(d);
  return text;
}

std::vector<int64_t> tensor_ints(const torch::Tensor& t) {
  const torch::Tensor flat = t.to(torch::kCPU).to(torch::kLong).reshape({-1}).contiguous();
  return std::vector<int64_t>(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
}

ConvPads resolve_pads(const Node& node, int64_t h, int64_t w, const std::vector<int64_t>& kernel,
                      const std::vector<int64_t>& stride, const std::vector<int64_t>& dilation) {
  if (kernel.size() != 2 || stride.size() != 2 || dilation.size() != 2)
    fail("{} has kernel, strides or dilations that are not 2-D", node.describe());
  const std::string mode = node.attr_string("auto_pad", "NOTSET");
  ConvPads pads;
  if (mode == "NOTSET") {
    const std::vector<int64_t> p = node.attr_ints("pads", {0, 0, 0, 0});
    if (p.size() != 4) fail("{} has {} pads; a 2-D window needs 4", node.describe(), p.size());
    return ConvPads{p[0], p[1], p[2], p[3]};
  }
  if (mode == "VALID") return pads;
  if (mode != "SAME_UPPER" && mode != "SAME_LOWER") fail("{} has auto_pad '{}', which is not an ONNX value", node.describe(), mode);
  // Output size ceil(in / stride); the total padding that needs, split with the odd pixel at the
  // end (SAME_UPPER) or the beginning (SAME_LOWER).
  int64_t begin[2], end[2];
  const int64_t size[2] = {h, w};
  for (int i = 0; i < 2; ++i) {
    const int64_t out = (size[i] + stride[i] - 1) / stride[i];
    const int64_t total = std::max<int64_t>(0, (out - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 - size[i]);
    begin[i] = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
    end[i] = total - begin[i];
  }
  return ConvPads{begin[0], begin[1], end[0], end[1]};
}

int64_t normalize_axis(int64_t axis, int64_t rank, const Node& node) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1)) fail("{} has axis {} outside a rank-{} tensor", node.describe(), axis, rank);
  return axis < 0 ? axis + rank : axis;
}

}  // namespace fames::models::onnx
