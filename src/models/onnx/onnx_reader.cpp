#include "models/onnx/onnx_reader.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <set>

#include "models/onnx/ops.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::models::onnx {
namespace {

namespace pb = ::onnx;

torch::ScalarType torch_type(int data_type, const std::string& what) {
  switch (data_type) {
    case pb::TensorProto_DataType_FLOAT: return torch::kFloat;
    case pb::TensorProto_DataType_DOUBLE: return torch::kDouble;
    case pb::TensorProto_DataType_INT64: return torch::kLong;
    case pb::TensorProto_DataType_INT32: return torch::kInt;
    case pb::TensorProto_DataType_INT16: return torch::kShort;
    case pb::TensorProto_DataType_INT8: return torch::kChar;
    case pb::TensorProto_DataType_UINT8: return torch::kByte;
    case pb::TensorProto_DataType_BOOL: return torch::kBool;
    default: fail("{} has ONNX element type {}, which fames does not read", what, data_type);
  }
}

// Values stored in a typed repeated field (not raw_data), copied element by element.
template <class Field>
torch::Tensor from_field(const Field& field, int64_t n, torch::ScalarType type, const std::string& what) {
  if (static_cast<int64_t>(field.size()) != n) fail("{} holds {} values for {} elements", what, field.size(), n);
  std::vector<double> values(field.begin(), field.end());
  if (type == torch::kLong) {  // int64 through double would lose precision beyond 2^53
    std::vector<int64_t> ints(field.begin(), field.end());
    return torch::tensor(ints, torch::kLong);
  }
  return torch::tensor(values, torch::kDouble).to(type);
}

torch::Tensor tensor_from_proto(const pb::TensorProto& proto, const std::string& what) {
  if (proto.data_location() == pb::TensorProto_DataLocation_EXTERNAL)
    fail("{} is stored as external data, which fames does not read (save the model with its weights inside)", what);
  const torch::ScalarType type = torch_type(proto.data_type(), what);
  std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) fail("{} has a negative dimension", what);
    n *= d;
  }
  torch::Tensor flat;
  if (proto.has_raw_data()) {
    flat = torch::empty({n}, type);
    const std::string& raw = proto.raw_data();
    if (raw.size() != static_cast<size_t>(n) * flat.element_size())
      fail("{} has {} bytes of data for {} elements", what, raw.size(), n);
    if (n > 0) std::memcpy(flat.data_ptr(), raw.data(), raw.size());  // little-endian, as on x86
  } else if (type == torch::kFloat) {
    flat = from_field(proto.float_data(), n, type, what);
  } else if (type == torch::kDouble) {
    flat = from_field(proto.double_data(), n, type, what);
  } else if (type == torch::kLong) {
    flat = from_field(proto.int64_data(), n, type, what);
  } else {
    flat = from_field(proto.int32_data(), n, type, what);
  }
  return flat.reshape(dims);
}

nlohmann::json attribute_value(const pb::AttributeProto& a, const std::string& what) {
  switch (a.type()) {
    case pb::AttributeProto_AttributeType_INT: return a.i();
    case pb::AttributeProto_AttributeType_FLOAT: return static_cast<double>(a.f());
    case pb::AttributeProto_AttributeType_STRING: return a.s();
    case pb::AttributeProto_AttributeType_INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case pb::AttributeProto_AttributeType_FLOATS: return std::vector<double>(a.floats().begin(), a.floats().end());
    case pb::AttributeProto_AttributeType_STRINGS: return std::vector<std::string>(a.strings().begin(), a.strings().end());
    default: fail("{} has attribute '{}' of a kind (tensor or graph) fames does not read", what, a.name());
  }
}

// The value of a Constant node (one of value, value_float(s), value_int(s)).
torch::Tensor constant_value(const pb::NodeProto& node, const std::string& what) {
  for (const auto& a : node.attribute()) {
    if (a.name() == "value") return tensor_from_proto(a.t(), what);
    if (a.name() == "value_float") return torch::tensor(a.f(), torch::kFloat);
    if (a.name() == "value_int") return torch::tensor(a.i(), torch::kLong);
    if (a.name() == "value_floats") return torch::tensor(std::vector<float>(a.floats().begin(), a.floats().end()), torch::kFloat);
    if (a.name() == "value_ints") return torch::tensor(std::vector<int64_t>(a.ints().begin(), a.ints().end()), torch::kLong);
  }
  fail("{} has no value fames reads (value, value_float(s) or value_int(s))", what);
}

pb::ModelProto parse_model(const std::string& path) {
  if (!file_exists(path)) fail("ONNX model '{}' does not exist", path);
  const std::string bytes = read_file(path);
  pb::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes) || !model.has_graph() || model.graph().node_size() == 0 ||
      model.opset_import_size() == 0)
    fail("'{}' is not an ONNX model (it does not parse as a ModelProto with a graph; truncated or another format)", path);
  return model;
}

int64_t default_opset(const pb::ModelProto& model, const std::string& path) {
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") {
      if (o.version() < kMinOpset || o.version() > kMaxOpset)
        fail("'{}' uses opset {} of ai.onnx; fames imports opsets {}-{} (convert it, e.g. with onnx.version_converter)",
             path, o.version(), kMinOpset, kMaxOpset);
      return o.version();
    }
  fail("'{}' imports no ai.onnx opset: its operators all come from other domains, which fames does not import", path);
}

std::vector<int64_t> declared_shape(const pb::ValueInfoProto& info) {
  std::vector<int64_t> shape;
  if (!info.type().has_tensor_type() || !info.type().tensor_type().has_shape()) return shape;
  for (const auto& d : info.type().tensor_type().shape().dim()) shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return shape;
}

std::string supported_list() {
  std::vector<std::string> ops = supported_ops();
  for (const char* op : {"Conv", "Gemm", "Constant"}) ops.push_back(op);
  std::sort(ops.begin(), ops.end());
  std::string list;
  for (const auto& op : ops) list += (list.empty() ? "" : " ") + op;
  return list;
}

Node convert_node(const pb::NodeProto& proto, int64_t opset, const std::string& path) {
  Node node;
  node.name = proto.name();
  node.op = proto.op_type();
  node.inputs.assign(proto.input().begin(), proto.input().end());
  node.outputs.assign(proto.output().begin(), proto.output().end());
  const bool default_domain = proto.domain().empty() || proto.domain() == "ai.onnx";
  if (!default_domain || !is_importable_op(node.op)) {
    const std::string op = default_domain ? node.op : proto.domain() + "::" + node.op;
    fail("'{}': {} uses operator {} (opset {}), which fames does not import; supported: {}", path,
         Node{node.name, op, {}, node.outputs}.describe(), op, opset, supported_list());
  }
  if (node.op == "Constant") return node;  // its value is read by constant_value()
  for (const auto& a : proto.attribute()) node.attrs[a.name()] = attribute_value(a, fmt::format("'{}': {}", path, node.describe()));
  return node;
}

}  // namespace

bool is_importable_op(const std::string& op) {
  return op == "Conv" || op == "Gemm" || op == "Constant" || is_supported_op(op);
}

OnnxFile read_onnx_file(const std::string& path) {
  const pb::ModelProto model = parse_model(path);
  OnnxFile file;
  file.graph.opset = default_opset(model, path);
  file.producer = model.producer_name() + (model.producer_version().empty() ? "" : " " + model.producer_version());
  const pb::GraphProto& g = model.graph();
  for (const auto& init : g.initializer())
    file.constants[init.name()] = tensor_from_proto(init, fmt::format("'{}': initializer '{}'", path, init.name()));
  for (const auto& input : g.input())
    if (!file.constants.count(input.name())) file.graph.inputs.push_back({input.name(), declared_shape(input)});
  for (const auto* list : {&g.input(), &g.output()})
    for (const auto& value : *list)
      if (value.has_type() && !value.type().has_tensor_type())
        fail("'{}': graph input or output '{}' is not a tensor (sequences, maps and optionals are not supported)", path,
             value.name());
  for (const auto& output : g.output()) file.graph.outputs.push_back(output.name());
  for (const auto& proto : g.node()) {
    Node node = convert_node(proto, file.graph.opset, path);
    if (node.op != "Constant") {
      file.graph.nodes.push_back(std::move(node));
      continue;
    }
    if (node.outputs.size() != 1) fail("'{}': {} has {} outputs", path, node.describe(), node.outputs.size());
    file.constants[node.outputs[0]] = constant_value(proto, fmt::format("'{}': {}", path, node.describe()));
  }
  return file;
}

torch::Tensor read_tensor_file(const std::string& path) {
  if (!file_exists(path)) fail("tensor file '{}' does not exist", path);
  pb::TensorProto proto;
  if (!proto.ParseFromString(read_file(path))) fail("'{}' is not a serialized ONNX TensorProto", path);
  return tensor_from_proto(proto, fmt::format("tensor file '{}'", path));
}

}  // namespace fames::models::onnx
