#include "models/onnx/qdq_export.h"

#include <cstring>
#include <set>

#include "models/onnx/graph_model.h"
#include "models/onnx/network_graph.h"
#include "models/onnx/onnx_proto.h"
#include "quant/fake_quant.h"
#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::models::onnx {
namespace {

ElementType element_type(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat: return ElementType::kFloat32;
    case torch::kDouble: return ElementType::kFloat64;
    case torch::kLong: return ElementType::kInt64;
    case torch::kInt: return ElementType::kInt32;
    case torch::kShort: return ElementType::kInt16;
    case torch::kChar: return ElementType::kInt8;
    case torch::kByte: return ElementType::kUInt8;
    case torch::kBool: return ElementType::kBool;
    default: fail("tensor type {} has no ONNX equivalent in fames", c10::toString(type));
  }
}

TensorData tensor_data(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
  TensorData data{element_type(t.scalar_type()), t.sizes().vec(), std::string(t.nbytes(), '\0')};
  if (t.nbytes() > 0) std::memcpy(data.bytes.data(), t.data_ptr(), t.nbytes());
  return data;
}

// The graph outputs' shapes with a symbolic batch, from one forward pass on a zero image.
std::map<std::string, std::vector<int64_t>> output_shapes(torch::nn::Module& model, const ModelSpec& spec,
                                                          const Graph& graph) {
  const torch::Tensor x = torch::zeros({1, spec.in_channels, spec.image_size, spec.image_size});
  auto* imported = dynamic_cast<GraphModel*>(&model);
  const std::vector<torch::Tensor> ys = imported ? imported->run({x}) : std::vector<torch::Tensor>{run_model(model, x)};
  std::map<std::string, std::vector<int64_t>> shapes;
  for (size_t i = 0; i < ys.size() && i < graph.outputs.size(); ++i) {
    std::vector<int64_t> shape = ys[i].sizes().vec();
    if (!shape.empty()) shape[0] = -1;
    shapes[graph.outputs[i]] = shape;
  }
  return shapes;
}

// Builds the QDQ graph: float nodes copied, QuantLayer nodes expanded.
class QdqWriter {
 public:
  QdqWriter(NetworkGraph source, const std::string& path) : source_(std::move(source)), path_(path) {}
  OnnxModel write(torch::nn::Module& model, const ModelSpec& spec);

 private:
  std::string add_constant(const std::string& name, const torch::Tensor& value);
  std::string quantized_input(const std::string& p, const std::string& x, const quant::QuantLayer& layer);
  std::string dequantized_weight(const std::string& p, const quant::QuantLayer& layer, bool matmul);
  void emit_layer(const Node& node, const quant::QuantLayer& layer);

  NetworkGraph source_;
  std::string path_;
  OnnxModel out_;
};

std::string QdqWriter::add_constant(const std::string& name, const torch::Tensor& value) {
  out_.constants[name] = tensor_data(value);
  return name;
}

std::string QdqWriter::quantized_input(const std::string& p, const std::string& x, const quant::QuantLayer& layer) {
  const int ba = layer.act_bits();
  const bool is_signed = layer.signed_input();
  const torch::Tensor step = layer.act_step().detach().to(torch::kFloat).reshape({});
  const double hi = quant::max_code(ba, is_signed);
  std::string clipped = x;
  if (is_signed || ba < 8) {  // the 8-bit types reach -128 and 255; fames's codes stop short of that
    const torch::Tensor lo_value = is_signed ? -hi * step : torch::zeros({});
    clipped = p + ".input_clipped";
    out_.graph.nodes.push_back(Node{p + ".input_clip", "Clip",
                                    {x, add_constant(p + ".input_min", lo_value), add_constant(p + ".input_max", hi * step)},
                                    {clipped}});
  }
  const std::string scale = add_constant(p + ".input_scale", step);
  const std::string zero = add_constant(p + ".input_zero_point", torch::zeros({}, is_signed ? torch::kChar : torch::kByte));
  out_.graph.nodes.push_back(Node{p + ".input_quantize", "QuantizeLinear", {clipped, scale, zero}, {p + ".input_quantized"}});
  out_.graph.nodes.push_back(
      Node{p + ".input_dequantize", "DequantizeLinear", {p + ".input_quantized", scale, zero}, {p + ".input_dequantized"}});
  return p + ".input_dequantized";
}

std::string QdqWriter::dequantized_weight(const std::string& p, const quant::QuantLayer& layer, bool matmul) {
  // Asymmetric weights: uint8 codes with their per-channel zero points; symmetric: int8, zero 0.
  const bool asymmetric = layer.asymmetric_weights();
  const auto type = asymmetric ? torch::kByte : torch::kChar;
  torch::Tensor codes = layer.weight_codes().to(type);
  if (matmul) codes = codes.t().contiguous();  // MatMul's B is [in, out]
  const std::string q = add_constant(p + ".weight_quantized", codes);
  const std::string scale = add_constant(p + ".weight_scale", layer.weight_step().detach().to(torch::kFloat));
  const std::string zero = add_constant(
      p + ".weight_zero_point", asymmetric ? layer.weight_zero.to(type) : torch::zeros({layer.out_channels()}, type));
  out_.graph.nodes.push_back(Node{p + ".weight_dequantize", "DequantizeLinear", {q, scale, zero}, {p + ".weight"},
                                  {{"axis", matmul ? 1 : 0}}});
  return p + ".weight";
}

void QdqWriter::emit_layer(const Node& node, const quant::QuantLayer& layer) {
  const std::string p = node.attr_string("layer", "");
  if (!layer.quantized() || layer.clip_ready.item<int>() == 0)
    fail("'{}': layer '{}' is not quantized yet (export takes a model from `fames quantize`)", path_, p);
  const bool matmul = node.attr_string("source_op", "") == "MatMul";
  const std::string x = quantized_input(p, node.input(0), layer);
  const std::string w = dequantized_weight(p, layer, matmul);
  std::vector<std::string> inputs = {x, w};
  if (layer.bias.defined()) inputs.push_back(add_constant(p + ".bias", layer.bias.detach().to(torch::kFloat)));
  Node op{p, "Conv", inputs, node.outputs};
  if (matmul) {
    op.op = "MatMul";
  } else if (layer.is_linear()) {
    op.op = "Gemm";
    op.attrs["transB"] = 1;
    if (node.attr_int("transpose_input", 0) != 0) op.attrs["transA"] = 1;
  } else {
    const auto& g = layer.geometry();
    op.attrs = {{"kernel_shape", {g.kernel, g.kernel}}, {"strides", {g.stride, g.stride}}, {"group", g.groups}};
    op.attrs["pads"] = node.has_attr("pads") ? node.attrs["pads"] : nlohmann::json({g.padding, g.padding, g.padding, g.padding});
    if (node.attr_string("auto_pad", "NOTSET") != "NOTSET") {
      op.attrs.erase("pads");
      op.attrs["auto_pad"] = node.attr_string("auto_pad", "");
    }
  }
  out_.graph.nodes.push_back(std::move(op));
}

OnnxModel QdqWriter::write(torch::nn::Module& model, const ModelSpec& spec) {
  if (source_.graph.opset < 13)
    fail("'{}': the imported graph is opset {}; QDQ export needs opset 13 or later (per-channel scales), and raising "
         "the opset would change what its operators mean",
         path_, source_.graph.opset);
  out_.graph.opset = source_.graph.opset;
  out_.graph.inputs = source_.graph.inputs;
  for (auto& input : out_.graph.inputs)  // the checker wants every input's shape
    if (input.shape.empty()) input.shape = {-1, spec.in_channels, spec.image_size, spec.image_size};
  out_.graph.outputs = source_.graph.outputs;
  for (const auto& [name, value] : source_.constants) add_constant(name, value);
  const auto layers = quant::quant_layers(model);
  nlohmann::json bits = nlohmann::json::object();
  for (const Node& node : source_.graph.nodes) {
    if (node.op != "QuantLayer") {
      out_.graph.nodes.push_back(node);
      continue;
    }
    const auto& layer = quant::find_quant_layer(layers, node.attr_string("layer", ""), "the graph names");
    emit_layer(node, *layer);
    bits[node.attr_string("layer", "")] = {layer->weight_bits(), layer->act_bits()};
  }
  out_.metadata[kBitsMetadataKey] = bits.dump();
  model.eval();
  out_.output_shapes = output_shapes(model, spec, out_.graph);
  return std::move(out_);
}

}  // namespace

void write_qdq_onnx(torch::nn::Module& model, const ModelSpec& spec, const std::string& path) {
  torch::NoGradGuard no_grad;
  QdqWriter writer(network_graph(model, spec), path);
  write_file_atomic(path, serialize_onnx_model(writer.write(model, spec)));
}

}  // namespace fames::models::onnx
