// Reading .onnx files (ModelProto) and serialized TensorProto files (.pb, ONNX's test data) into
// LibTorch tensors: onnx_proto.h parses and checks the bytes (torch-free); this adds the tensors.
//
// Contract:
// - read_onnx_file returns what parse_onnx_model (onnx_proto.h) does, with each constant as a
//   tensor of its type and dimensions, and the operators fames imports: those ops.h executes, plus
//   Conv, Gemm (which become quantized layers) and Constant (folded at import).
// - It throws fames::Error naming the file when it is missing, or as parse_onnx_model does.
// - Nothing is written.
#pragma once
#include <torch/torch.h>

#include <map>
#include <set>
#include <string>

#include "models/onnx/graph.h"

namespace fames::models::onnx {

struct OnnxFile {
  Graph graph;                                     // constants list left empty (see importer)
  std::map<std::string, torch::Tensor> constants;  // initializers and Constant node values
  std::string producer;                            // "pytorch 1.13.1", or "" when not recorded
  std::map<std::string, std::string> metadata;     // the model's metadata_props
};

OnnxFile read_onnx_file(const std::string& path);

// A serialized TensorProto, as in ONNX's test_data_set_*/input_N.pb. Throws fames::Error naming
// the file if it does not parse or holds a type fames does not read.
torch::Tensor read_tensor_file(const std::string& path);

// Operators an ONNX graph may use: those ops.h executes, plus Conv, Gemm and Constant.
const std::set<std::string>& importable_ops();
bool is_importable_op(const std::string& op);

}  // namespace fames::models::onnx
