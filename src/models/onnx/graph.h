// The graph of an imported ONNX model, in fames's own form: what a checkpoint stores and what
// GraphModel executes. It holds no tensors and no protobuf types, so a checkpoint loads without
// libonnx.
//
// Contract:
// - `nodes` are in topological order. Each input and output is a value name; "" is an omitted
//   optional input or output. Every input is a graph input, a constant or an earlier node's output.
// - Node::op is an ONNX operator type (ai.onnx domain, the graph's `opset`), or "QuantLayer": a
//   Conv, Gemm or MatMul whose weight was constant, now a quant::QuantLayer at the dotted module
//   path attrs["layer"] (see onnx_import.h for its other attributes).
// - Node::attrs maps attribute names to numbers, strings or arrays of them (ONNX INT/INTS become
//   integers, FLOAT/FLOATS floating point). Tensor-valued attributes were turned into constants.
// - `constants` names every constant value, with its dtype; their tensors live in the model (as
//   buffers "constants.c<i>", in this order).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fames::models::onnx {

// The opsets of the ai.onnx domain fames imports (ops.h executes them).
constexpr int64_t kMinOpset = 6, kMaxOpset = 17;

struct Node {
  std::string name;  // the ONNX node name (may be empty)
  std::string op;
  std::vector<std::string> inputs, outputs;
  nlohmann::json attrs = nlohmann::json::object();

  // Attribute accessors with defaults; a present attribute of the wrong kind throws fames::Error
  // naming the node and attribute.
  int64_t attr_int(const std::string& key, int64_t fallback) const;
  double attr_float(const std::string& key, double fallback) const;
  std::string attr_string(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& key, std::vector<int64_t> fallback = {}) const;
  std::vector<double> attr_floats(const std::string& key) const;
  bool has_attr(const std::string& key) const { return attrs.contains(key); }
  // Input i, or "" when the node has fewer inputs.
  const std::string& input(size_t i) const;
  // "node 'NAME' (OP)" for messages; the first output's name when the node has no name.
  std::string describe() const;
};

struct ValueInfo {
  std::string name;
  std::vector<int64_t> shape;  // -1 for a symbolic or unknown dimension; empty if unknown rank
};

struct Constant {
  std::string name;
  std::string dtype;           // "float32", "float64", "int64", "int32", "int8", "uint8", "bool", ...
  std::vector<int64_t> shape;  // so that a checkpoint's tensors can be checked against the record
};

struct Graph {
  int64_t opset = 0;  // version of the default (ai.onnx) domain
  std::vector<ValueInfo> inputs;  // dynamic inputs, in ONNX order
  std::vector<std::string> outputs;
  std::vector<Node> nodes;
  std::vector<Constant> constants;
  int64_t input_map_channels = 0;  // channels of GraphModel's input map (0: none)

  nlohmann::json to_json() const;
  // Throws fames::Error (mentioning `what`) if the record is malformed.
  static Graph from_json(const nlohmann::json& record, const std::string& what);
};

}  // namespace fames::models::onnx
