#include "models/onnx/onnx_reader.h"

#include <cstring>

#include "models/onnx/onnx_proto.h"
#include "models/onnx/ops.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::models::onnx {
namespace {

torch::ScalarType torch_type(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return torch::kFloat;
    case ElementType::kFloat64: return torch::kDouble;
    case ElementType::kInt64: return torch::kLong;
    case ElementType::kInt32: return torch::kInt;
    case ElementType::kInt16: return torch::kShort;
    case ElementType::kInt8: return torch::kChar;
    case ElementType::kUInt8: return torch::kByte;
    case ElementType::kBool: return torch::kBool;
  }
  return torch::kFloat;  // unreachable: every ElementType is listed
}

// The bytes were checked against the dimensions (onnx_proto.h), so this allocates what they hold.
torch::Tensor to_tensor(const TensorData& data) {
  torch::Tensor flat = torch::empty({data.elements()}, torch_type(data.type));
  if (!data.bytes.empty()) std::memcpy(flat.data_ptr(), data.bytes.data(), data.bytes.size());
  return flat.reshape(data.dims);
}

}  // namespace

const std::set<std::string>& importable_ops() {
  static const std::set<std::string> ops = [] {
    std::set<std::string> all = {"Conv", "Gemm", "Constant"};
    for (const std::string& op : supported_ops()) all.insert(op);
    return all;
  }();
  return ops;
}

bool is_importable_op(const std::string& op) { return importable_ops().count(op) != 0; }

OnnxFile read_onnx_file(const std::string& path) {
  if (!file_exists(path)) fail("ONNX model '{}' does not exist", path);
  OnnxModel model = parse_onnx_model(read_file(path), path, importable_ops());
  OnnxFile file{std::move(model.graph), {}, std::move(model.producer), std::move(model.metadata)};
  for (const auto& [name, data] : model.constants) file.constants[name] = to_tensor(data);
  return file;
}

torch::Tensor read_tensor_file(const std::string& path) {
  if (!file_exists(path)) fail("tensor file '{}' does not exist", path);
  return to_tensor(parse_tensor_proto(read_file(path), path));
}

}  // namespace fames::models::onnx
