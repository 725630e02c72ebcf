// Writing a ModelProto from fames's graph form (onnx_proto.h, serialize_onnx_model).
#include <onnx/onnx_pb.h>

#include "models/onnx/onnx_proto.h"
#include "util/error.h"

namespace fames::models::onnx {
namespace {

namespace pb = ::onnx;

int proto_type(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return pb::TensorProto_DataType_FLOAT;
    case ElementType::kFloat64: return pb::TensorProto_DataType_DOUBLE;
    case ElementType::kInt64: return pb::TensorProto_DataType_INT64;
    case ElementType::kInt32: return pb::TensorProto_DataType_INT32;
    case ElementType::kInt16: return pb::TensorProto_DataType_INT16;
    case ElementType::kInt8: return pb::TensorProto_DataType_INT8;
    case ElementType::kUInt8: return pb::TensorProto_DataType_UINT8;
    case ElementType::kBool: return pb::TensorProto_DataType_BOOL;
  }
  return pb::TensorProto_DataType_UNDEFINED;  // unreachable: every ElementType is listed
}

void set_tensor(pb::TensorProto& proto, const std::string& name, const TensorData& data) {
  proto.set_name(name);
  proto.set_data_type(proto_type(data.type));
  for (int64_t d : data.dims) proto.add_dims(d);
  proto.set_raw_data(data.bytes);
}

// JSON attribute values back to ONNX kinds: integers -> INT(S), other numbers -> FLOAT(S),
// strings -> STRING(S); an empty list is INTS.
void set_attribute(pb::AttributeProto& a, const std::string& name, const nlohmann::json& v, const std::string& what) {
  a.set_name(name);
  if (v.is_number_integer()) {
    a.set_type(pb::AttributeProto_AttributeType_INT);
    a.set_i(v.get<int64_t>());
  } else if (v.is_number()) {
    a.set_type(pb::AttributeProto_AttributeType_FLOAT);
    a.set_f(v.get<float>());
  } else if (v.is_string()) {
    a.set_type(pb::AttributeProto_AttributeType_STRING);
    a.set_s(v.get<std::string>());
  } else if (v.is_array() && (v.empty() || v[0].is_number_integer())) {
    a.set_type(pb::AttributeProto_AttributeType_INTS);
    for (const auto& e : v) a.add_ints(e.get<int64_t>());
  } else if (v.is_array() && v[0].is_number()) {
    a.set_type(pb::AttributeProto_AttributeType_FLOATS);
    for (const auto& e : v) a.add_floats(e.get<float>());
  } else if (v.is_array() && v[0].is_string()) {
    a.set_type(pb::AttributeProto_AttributeType_STRINGS);
    for (const auto& e : v) a.add_strings(e.get<std::string>());
  } else {
    fail("{} has attribute '{}' that ONNX cannot hold", what, name);
  }
}

void set_value_info(pb::ValueInfoProto& info, const std::string& name, const std::vector<int64_t>* shape) {
  info.set_name(name);
  auto* tensor = info.mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(pb::TensorProto_DataType_FLOAT);
  if (!shape) return;
  auto* dims = tensor->mutable_shape();
  for (int64_t d : *shape) {
    if (d >= 0) dims->add_dim()->set_dim_value(d);
    else dims->add_dim()->set_dim_param("batch");
  }
}

}  // namespace

std::string serialize_onnx_model(const OnnxModel& model) {
  pb::ModelProto proto;
  proto.set_ir_version(8);  // what opsets up to 17 need; onnx 1.12 writes it too
  proto.set_producer_name("fames");
  auto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(model.graph.opset);
  for (const auto& [key, value] : model.metadata) {
    auto* entry = proto.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  pb::GraphProto& g = *proto.mutable_graph();
  g.set_name("fames");
  for (const auto& [name, data] : model.constants) set_tensor(*g.add_initializer(), name, data);
  for (const auto& input : model.graph.inputs) set_value_info(*g.add_input(), input.name, &input.shape);
  for (const auto& output : model.graph.outputs) {
    const auto shape = model.output_shapes.find(output);
    set_value_info(*g.add_output(), output, shape == model.output_shapes.end() ? nullptr : &shape->second);
  }
  for (const Node& node : model.graph.nodes) {
    pb::NodeProto& n = *g.add_node();
    n.set_name(node.name);
    n.set_op_type(node.op);
    for (const auto& input : node.inputs) n.add_input(input);
    for (const auto& output : node.outputs) n.add_output(output);
    for (const auto& [key, value] : node.attrs.items()) set_attribute(*n.add_attribute(), key, value, node.describe());
  }
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) fail("the ONNX model could not be serialized (over 2 GB?)");
  return bytes;
}

}  // namespace fames::models::onnx
