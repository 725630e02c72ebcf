#include "models/onnx/onnx_proto.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <limits>

#include "util/error.h"

namespace fames::models::onnx {
namespace {

namespace pb = ::onnx;

ElementType element_type(int data_type, const std::string& what) {
  switch (data_type) {
    case pb::TensorProto_DataType_FLOAT: return ElementType::kFloat32;
    case pb::TensorProto_DataType_DOUBLE: return ElementType::kFloat64;
    case pb::TensorProto_DataType_INT64: return ElementType::kInt64;
    case pb::TensorProto_DataType_INT32: return ElementType::kInt32;
    case pb::TensorProto_DataType_INT16: return ElementType::kInt16;
    case pb::TensorProto_DataType_INT8: return ElementType::kInt8;
    case pb::TensorProto_DataType_UINT8: return ElementType::kUInt8;
    case pb::TensorProto_DataType_BOOL: return ElementType::kBool;
    default: fail("{} has ONNX element type {}, which fames does not read", what, data_type);
  }
}

// The product of `dims`, refusing negative dimensions and products beyond int64.
int64_t element_count(const std::vector<int64_t>& dims, const std::string& what) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) fail("{} has a negative dimension", what);
    if (d > 0 && n > std::numeric_limits<int64_t>::max() / d)
      fail("{} has dimensions whose product exceeds 2^63", what);
    n *= d;
  }
  return n;
}

// Values stored in a typed repeated field (not raw_data): one per element, each converted to T.
template <class T, class Field>
std::string pack(const Field& field, int64_t n, const std::string& what) {
  if (static_cast<int64_t>(field.size()) != n) fail("{} holds {} values for {} elements", what, field.size(), n);
  std::string bytes(field.size() * sizeof(T), '\0');
  for (int i = 0; i < field.size(); ++i) {
    const T value = static_cast<T>(field.Get(i));
    std::memcpy(&bytes[static_cast<size_t>(i) * sizeof(T)], &value, sizeof(T));
  }
  return bytes;
}

// ONNX keeps int8..int32 and bool values in int32_data.
std::string pack_int32_field(const pb::TensorProto& proto, ElementType type, int64_t n, const std::string& what) {
  const auto& field = proto.int32_data();
  switch (type) {
    case ElementType::kInt32: return pack<int32_t>(field, n, what);
    case ElementType::kInt16: return pack<int16_t>(field, n, what);
    case ElementType::kInt8: return pack<int8_t>(field, n, what);
    case ElementType::kUInt8: return pack<uint8_t>(field, n, what);
    default: break;
  }
  pack<int32_t>(field, n, what);  // the count check
  std::string bytes(field.size(), '\0');  // bool: any non-zero value is true
  for (int i = 0; i < field.size(); ++i) bytes[static_cast<size_t>(i)] = field.Get(i) != 0;
  return bytes;
}

TensorData tensor_from_proto(const pb::TensorProto& proto, const std::string& what) {
  if (proto.data_location() == pb::TensorProto_DataLocation_EXTERNAL)
    fail("{} is stored as external data, which fames does not read (save the model with its weights inside)", what);
  TensorData t;
  t.type = element_type(proto.data_type(), what);
  t.dims.assign(proto.dims().begin(), proto.dims().end());
  const int64_t n = element_count(t.dims, what);
  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    const size_t size = element_size(t.type);
    if (raw.size() % size != 0 || static_cast<uint64_t>(raw.size() / size) != static_cast<uint64_t>(n))
      fail("{} has {} bytes of data for {} elements", what, raw.size(), n);
    t.bytes = raw;  // little-endian, as on x86
  } else if (t.type == ElementType::kFloat32) {
    t.bytes = pack<float>(proto.float_data(), n, what);
  } else if (t.type == ElementType::kFloat64) {
    t.bytes = pack<double>(proto.double_data(), n, what);
  } else if (t.type == ElementType::kInt64) {
    t.bytes = pack<int64_t>(proto.int64_data(), n, what);
  } else {
    t.bytes = pack_int32_field(proto, t.type, n, what);
  }
  return t;
}

template <class T, class Values>
TensorData list_tensor(ElementType type, const Values& values) {
  TensorData t{type, {static_cast<int64_t>(values.size())}, {}};
  t.bytes = pack<T>(values, values.size(), "a Constant");
  return t;
}

template <class T>
TensorData scalar_tensor(ElementType type, T value) {
  TensorData t{type, {}, std::string(sizeof(T), '\0')};
  std::memcpy(t.bytes.data(), &value, sizeof(T));
  return t;
}

// The value of a Constant node (one of value, value_float(s), value_int(s)).
TensorData constant_value(const pb::NodeProto& node, const std::string& what) {
  for (const auto& a : node.attribute()) {
    if (a.name() == "value") return tensor_from_proto(a.t(), what);
    if (a.name() == "value_float") return scalar_tensor(ElementType::kFloat32, a.f());
    if (a.name() == "value_int") return scalar_tensor(ElementType::kInt64, int64_t{a.i()});
    if (a.name() == "value_floats") return list_tensor<float>(ElementType::kFloat32, a.floats());
    if (a.name() == "value_ints") return list_tensor<int64_t>(ElementType::kInt64, a.ints());
  }
  fail("{} has no value fames reads (value, value_float(s) or value_int(s))", what);
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

pb::ModelProto parse_model(const std::string& bytes, const std::string& path) {
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

Node convert_node(const pb::NodeProto& proto, int64_t opset, const std::string& path,
                  const std::set<std::string>& importable) {
  Node node;
  node.name = proto.name();
  node.op = proto.op_type();
  node.inputs.assign(proto.input().begin(), proto.input().end());
  node.outputs.assign(proto.output().begin(), proto.output().end());
  const bool default_domain = proto.domain().empty() || proto.domain() == "ai.onnx";
  if (!default_domain || !importable.count(node.op)) {
    const std::string op = default_domain ? node.op : proto.domain() + "::" + node.op;
    std::string list;
    for (const std::string& name : importable) list += (list.empty() ? "" : " ") + name;
    fail("'{}': {} uses operator {} (opset {}), which fames does not import; supported: {}", path,
         Node{node.name, op, {}, node.outputs}.describe(), op, opset, list);
  }
  if (node.op == "Constant") return node;  // its value is read by constant_value()
  for (const auto& a : proto.attribute()) node.attrs[a.name()] = attribute_value(a, fmt::format("'{}': {}", path, node.describe()));
  return node;
}

// Names and string attributes travel in JSON (the checkpoint's graph record), which holds UTF-8 only.
void check_text(const OnnxModel& model, const std::string& path) {
  nlohmann::json names = nlohmann::json::array();
  for (const auto& [name, tensor] : model.constants) names.push_back(name);
  try {
    (void)model.graph.to_json().dump();
    (void)names.dump();
  } catch (const nlohmann::json::type_error&) {
    fail("'{}' has names or string attributes that are not UTF-8 text", path);
  }
}

}  // namespace

size_t element_size(ElementType type) {
  switch (type) {
    case ElementType::kFloat64:
    case ElementType::kInt64: return 8;
    case ElementType::kFloat32:
    case ElementType::kInt32: return 4;
    case ElementType::kInt16: return 2;
    default: return 1;
  }
}

OnnxModel parse_onnx_model(const std::string& bytes, const std::string& path,
                           const std::set<std::string>& importable) {
  const pb::ModelProto model = parse_model(bytes, path);
  OnnxModel out;
  out.graph.opset = default_opset(model, path);
  out.producer = model.producer_name() + (model.producer_version().empty() ? "" : " " + model.producer_version());
  for (const auto& entry : model.metadata_props()) out.metadata[entry.key()] = entry.value();
  const pb::GraphProto& g = model.graph();
  for (const auto& init : g.initializer())
    out.constants[init.name()] = tensor_from_proto(init, fmt::format("'{}': initializer '{}'", path, init.name()));
  for (const auto& input : g.input())
    if (!out.constants.count(input.name())) out.graph.inputs.push_back({input.name(), declared_shape(input)});
  for (const auto* list : {&g.input(), &g.output()})
    for (const auto& value : *list)
      if (value.has_type() && !value.type().has_tensor_type())
        fail("'{}': graph input or output '{}' is not a tensor (sequences, maps and optionals are not supported)", path,
             value.name());
  for (const auto& output : g.output()) out.graph.outputs.push_back(output.name());
  for (const auto& proto : g.node()) {
    Node node = convert_node(proto, out.graph.opset, path, importable);
    if (node.op != "Constant") {
      out.graph.nodes.push_back(std::move(node));
      continue;
    }
    if (node.outputs.size() != 1) fail("'{}': {} has {} outputs", path, node.describe(), node.outputs.size());
    out.constants[node.outputs[0]] = constant_value(proto, fmt::format("'{}': {}", path, node.describe()));
  }
  check_text(out, path);
  return out;
}

TensorData parse_tensor_proto(const std::string& bytes, const std::string& path) {
  pb::TensorProto proto;
  if (!proto.ParseFromString(bytes)) fail("'{}' is not a serialized ONNX TensorProto", path);
  return tensor_from_proto(proto, fmt::format("tensor file '{}'", path));
}

}  // namespace fames::models::onnx
