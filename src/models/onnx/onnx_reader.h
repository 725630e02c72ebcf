// Reading .onnx files (ModelProto) and serialized TensorProto files (.pb, ONNX's test data) with
// the protobuf classes of Debian's libonnx. This is the only place that sees protobuf types.
//
// Contract:
// - read_onnx_file returns the graph as in the file, in fames's form (graph.h): the ai.onnx opset,
//   the dynamic inputs (graph inputs without an initializer) with their declared shapes, the
//   outputs and the nodes in file order, with Constant nodes removed and their values put among the
//   constants next to the initializers.
// - It throws fames::Error naming the file when: the file is missing; it does not parse as a
//   ModelProto or has no graph (truncated files and files of other formats); the ai.onnx opset is
//   outside kMinOpset..kMaxOpset; a node uses an operator fames does not import (the message names
//   the node, the operator, its domain if not ai.onnx, and the opset); a tensor is stored as
//   external data or in a type fames does not read (strings, float16, complex).
// - Nothing is written.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>

#include "models/onnx/graph.h"

namespace fames::models::onnx {

struct OnnxFile {
  Graph graph;                                     // constants list left empty (see importer)
  std::map<std::string, torch::Tensor> constants;  // initializers and Constant node values
  std::string producer;                            // "pytorch 1.13.1", or "" when not recorded
};

OnnxFile read_onnx_file(const std::string& path);

// A serialized TensorProto, as in ONNX's test_data_set_*/input_N.pb. Throws fames::Error naming
// the file if it does not parse or holds a type fames does not read.
torch::Tensor read_tensor_file(const std::string& path);

// Operators an ONNX graph may use: those ops.h executes, plus Conv, Gemm (which become quantized
// layers) and Constant (folded at import).
bool is_importable_op(const std::string& op);

}  // namespace fames::models::onnx
