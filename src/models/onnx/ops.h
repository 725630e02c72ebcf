// The ONNX operators GraphModel executes with LibTorch (ai.onnx domain, opsets 6-17: 11-17 as
// exported today, 6-10 through their older attribute forms: Clip and Pad bounds and pads as
// attributes, Slice's starts/ends/axes attributes, opset 6's broadcast/axis on arithmetic), apart from
// the Conv, Gemm and MatMul nodes that became quantized layers (graph_model.h runs those).
//
// Contract:
// - run_op(node, inputs, opset) computes one node. `inputs` holds one tensor per node input, an
//   undefined tensor for an omitted optional input. It returns one tensor per node output (an
//   undefined tensor for an optional output nobody reads). Semantics follow the ONNX operator
//   specification of `opset`; inputs that hold attributes (shapes, axes, pads, bounds) may be any
//   integer or float tensor on the CPU.
// - Attribute values fames does not implement (3-D pooling, Pad modes other than constant,
//   training-mode BatchNormalization or Dropout, MaxPool's index output) throw fames::Error naming
//   the node and the value; the message contains "not supported".
// - Thread-safe: no state.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/onnx/graph.h"

namespace fames::models::onnx {

// Operators run_op executes, sorted by name.
std::vector<std::string> supported_ops();
bool is_supported_op(const std::string& op);

std::vector<torch::Tensor> run_op(const Node& node, const std::vector<torch::Tensor>& inputs, int64_t opset);

// Padding of a 2-D window in pixels on each side.
struct ConvPads {
  int64_t top = 0, left = 0, bottom = 0, right = 0;
  bool symmetric() const { return top == bottom && left == right; }
  bool zero() const { return top == 0 && left == 0 && bottom == 0 && right == 0; }
  // torch::constant_pad_nd's order for the last two dimensions: left, right, top, bottom.
  std::vector<int64_t> torch_order() const { return {left, right, top, bottom}; }
};

// The pads of a 2-D Conv/MaxPool/AveragePool node for an h x w input: from its `pads` attribute
// ([top, left, bottom, right]) or its `auto_pad` (VALID, SAME_UPPER, SAME_LOWER). Throws
// fames::Error naming the node for malformed values.
ConvPads resolve_pads(const Node& node, int64_t h, int64_t w, const std::vector<int64_t>& kernel,
                      const std::vector<int64_t>& stride, const std::vector<int64_t>& dilation);

// "2x3x32x32" (or "scalar") for messages.
std::string shape_string(const torch::Tensor& t);

// The integers of a 0-D or 1-D tensor (any numeric dtype).
std::vector<int64_t> tensor_ints(const torch::Tensor& t);
// An axis in [-rank, rank) made non-negative; throws fames::Error naming `node` otherwise.
int64_t normalize_axis(int64_t axis, int64_t rank, const Node& node);

}  // namespace fames::models::onnx
