// Parsing and validating ONNX protobuf bytes (ModelProto, TensorProto) with Debian's libonnx,
// without LibTorch: onnx_reader.h turns the result into tensors, and fuzz/ fuzzes this part. This
// file, onnx_proto.cpp and onnx_proto_write.cpp are the only places that see protobuf types.
//
// Contract:
// - parse_onnx_model returns the graph as in the bytes, in fames's form (graph.h): the ai.onnx
//   opset, the dynamic inputs (graph inputs without an initializer) with their declared shapes, the
//   outputs and the nodes in order, with Constant nodes removed and their values put among the
//   constants next to the initializers (graph.constants is left empty).
// - Every tensor's element count is computed with overflow checks and compared with the data the
//   bytes hold before anything is allocated for it, so memory stays within a small multiple of the
//   input's size.
// - It throws fames::Error naming `path` when: the bytes do not parse as a ModelProto or hold no
//   graph (truncated files and files of other formats); the ai.onnx opset is outside
//   kMinOpset..kMaxOpset; a node uses an operator outside `importable` (the message names the
//   node, the operator, its domain if not ai.onnx, and the opset, and lists `importable`); a tensor
//   is stored as external data, in a type fames does not read (strings, float16, complex), with a
//   negative dimension, or with data that does not match its dimensions.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "models/onnx/graph.h"

namespace fames::models::onnx {

// The element types fames reads, and the bytes of one element.
enum class ElementType { kFloat32, kFloat64, kInt64, kInt32, kInt16, kInt8, kUInt8, kBool };
size_t element_size(ElementType type);

// A tensor's values as stored: `bytes` holds the product of `dims` elements, packed, little-endian.
struct TensorData {
  ElementType type = ElementType::kFloat32;
  std::vector<int64_t> dims;
  std::string bytes;
  int64_t elements() const { return static_cast<int64_t>(bytes.size() / element_size(type)); }
};

struct OnnxModel {
  Graph graph;
  std::map<std::string, TensorData> constants;  // initializers and Constant node values
  std::string producer;                         // "pytorch 1.13.1", or "" when not recorded
  std::map<std::string, std::string> metadata;  // the model's metadata_props
  std::map<std::string, std::vector<int64_t>> output_shapes;  // serialize_onnx_model: declared output shapes
};

OnnxModel parse_onnx_model(const std::string& bytes, const std::string& path,
                           const std::set<std::string>& importable);

// The bytes of a ModelProto holding `model` (producer "fames", IR version 8): its opset, metadata,
// constants as initializers (raw data), dynamic inputs and outputs declared float32 with their
// shapes (graph.inputs, output_shapes; a -1 dimension becomes the symbolic "batch"), nodes in order with their attributes (JSON integers
// become INT(S), other numbers FLOAT(S), strings STRING(S)). Throws fames::Error if an attribute
// has another kind or the model exceeds protobuf's 2 GB.
std::string serialize_onnx_model(const OnnxModel& model);

// A serialized TensorProto (ONNX's test_data_set_*/input_N.pb). Throws fames::Error naming `path`
// if it does not parse or fails the tensor checks above.
TensorData parse_tensor_proto(const std::string& bytes, const std::string& path);

}  // namespace fames::models::onnx
