// Private to src/models/onnx: the operator table that ops.cpp dispatches on, filled by
// ops_tensor.cpp (data movement and shapes), ops_nn.cpp (arithmetic, activations, pooling) and
// ops_quant.cpp (QuantizeLinear, DequantizeLinear).
#pragma once
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/onnx/graph.h"

namespace fames::models::onnx {

struct OpCall {
  const Node& node;
  const std::vector<torch::Tensor>& inputs;
  int64_t opset;
  // Input i, or an undefined tensor when omitted.
  torch::Tensor in(size_t i) const { return i < inputs.size() ? inputs[i] : torch::Tensor(); }
};

using OpFunction = std::function<std::vector<torch::Tensor>(const OpCall&)>;
using OpTable = std::map<std::string, OpFunction>;

void add_tensor_ops(OpTable& table);
void add_nn_ops(OpTable& table);
void add_quant_ops(OpTable& table);  // ops_quant.cpp: QuantizeLinear, DequantizeLinear

}  // namespace fames::models::onnx
