#include "models/onnx/graph_model.h"

#include <set>
#include <unordered_map>

#include "models/onnx/ops.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::models::onnx {
namespace {

const std::vector<std::pair<std::string, torch::ScalarType>>& dtype_names() {
  static const std::vector<std::pair<std::string, torch::ScalarType>> names = {
      {"float32", torch::kFloat}, {"float64", torch::kDouble}, {"int64", torch::kLong}, {"int32", torch::kInt},
      {"int16", torch::kShort},   {"int8", torch::kChar},      {"uint8", torch::kByte}, {"bool", torch::kBool}};
  return names;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (true) {
    const size_t dot = path.find('.', begin);
    parts.push_back(path.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin));
    if (dot == std::string::npos) return parts;
    begin = dot + 1;
  }
}

// Registers `layer` under `root` at the dotted `path`, creating plain container modules for the
// path's prefixes, so that named_modules() reports the layer as `path`.
void register_at(torch::nn::Module& root, const std::string& path, std::shared_ptr<quant::QuantLayer> layer,
                 const std::string& what) {
  const std::vector<std::string> parts = split_path(path);
  torch::nn::Module* parent = &root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto children = parent->named_children();
    if (auto* child = children.find(parts[i])) {
      if (std::dynamic_pointer_cast<quant::QuantLayer>(*child)) fail("{}: layer path '{}' runs through a layer", what, path);
      parent = child->get();
    } else {
      parent = parent->register_module(parts[i], std::make_shared<torch::nn::Module>()).get();
    }
  }
  if (parent->named_children().find(parts.back())) fail("{}: two layers at path '{}'", what, path);
  parent->register_module(parts.back(), std::move(layer));
}

std::shared_ptr<quant::QuantLayer> make_layer(const Node& node) {
  const bool linear = node.attr_int("linear", 0) != 0;
  quant::ConvGeometry geometry{node.attr_int("kernel", 1), node.attr_int("stride", 1), node.attr_int("padding", 0),
                               node.attr_int("groups", 1)};
  return std::make_shared<quant::QuantLayer>(node.attr_int("in", 0), node.attr_int("out", 0), geometry, linear,
                                             node.attr_int("bias", 0) != 0, node.attr_int("signed", 1) != 0);
}

}  // namespace

std::string dtype_name(torch::ScalarType type) {
  for (const auto& [name, t] : dtype_names())
    if (t == type) return name;
  fail("tensor type {} has no ONNX equivalent in fames", c10::toString(type));
}

torch::ScalarType dtype_from_name(const std::string& name) {
  for (const auto& [n, t] : dtype_names())
    if (n == name) return t;
  fail("unknown tensor type '{}'", name);
}

GraphModel::GraphModel(Graph graph, const std::string& what) : graph_(std::move(graph)) {
  auto constants = register_module("constants", std::make_shared<torch::nn::Module>());
  for (size_t i = 0; i < graph_.constants.size(); ++i)
    constants_.push_back(constants->register_buffer(
        fmt::format("c{}", i), torch::zeros(graph_.constants[i].shape, dtype_from_name(graph_.constants[i].dtype))));
  input_scale_ = register_buffer("input_scale", torch::ones({graph_.input_map_channels}));
  input_shift_ = register_buffer("input_shift", torch::zeros({graph_.input_map_channels}));
  std::unordered_map<std::string, size_t> last_read;
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    const Node& node = graph_.nodes[i];
    for (const auto& input : node.inputs) last_read[input] = i;
    if (node.op != "QuantLayer") continue;
    if (node.attr_int("in", 0) <= 0 || node.attr_int("out", 0) <= 0 || node.attr_string("layer", "").empty())
      fail("{}: {} has no layer geometry", what, node.describe());
    auto layer = make_layer(node);
    register_at(*this, node.attr_string("layer", ""), layer, what);
    layers_[node.attr_string("layer", "")] = layer;
  }
  for (const auto& output : graph_.outputs) last_read.erase(output);
  last_readers_.resize(graph_.nodes.size());
  for (const auto& [value, node] : last_read) last_readers_[node].push_back(value);
}

const std::shared_ptr<quant::QuantLayer>& GraphModel::layer(const std::string& path) const {
  const auto it = layers_.find(path);
  if (it == layers_.end()) fail("the imported model has no layer '{}'", path);
  return it->second;
}

void GraphModel::set_input_affine(const torch::Tensor& scale, const torch::Tensor& shift) {
  torch::NoGradGuard no_grad;
  input_scale_.set_(scale.defined() ? scale.to(torch::kFloat).reshape({-1}).clone() : torch::empty({0}));
  input_shift_.set_(shift.defined() ? shift.to(torch::kFloat).reshape({-1}).clone() : torch::empty({0}));
  graph_.input_map_channels = input_scale_.numel();
}

torch::Tensor GraphModel::forward(torch::Tensor x) {
  if (input_scale_.numel() > 0) {
    if (x.dim() != 4 || x.size(1) != input_scale_.numel())
      fail("the imported model's input map has {} channels but the input is {}", input_scale_.numel(), shape_string(x));
    x = x * input_scale_.view({1, -1, 1, 1}) + input_shift_.view({1, -1, 1, 1});
  }
  return run({x}).at(0);
}

std::vector<torch::Tensor> GraphModel::run(const std::vector<torch::Tensor>& inputs) {
  if (inputs.size() != graph_.inputs.size())
    fail("the imported model takes {} inputs, got {}", graph_.inputs.size(), inputs.size());
  std::unordered_map<std::string, torch::Tensor> values;
  for (size_t i = 0; i < constants_.size(); ++i) values[graph_.constants[i].name] = constants_[i];
  for (size_t i = 0; i < inputs.size(); ++i) values[graph_.inputs[i].name] = inputs[i];
  std::vector<torch::Tensor> args;
  for (size_t n = 0; n < graph_.nodes.size(); ++n) {
    const Node& node = graph_.nodes[n];
    args.clear();
    for (const auto& name : node.inputs) {
      if (name.empty()) {
        args.emplace_back();
        continue;
      }
      const auto it = values.find(name);
      if (it == values.end() || !it->second.defined()) fail("{} reads '{}', which nothing computed", node.describe(), name);
      args.push_back(it->second);
    }
    std::vector<torch::Tensor> outputs;
    try {
      if (node.op == "QuantLayer") outputs = {run_layer(node, args.at(0))};
      else outputs = run_op(node, args, graph_.opset);
    } catch (const c10::Error& e) {  // shapes or types the graph's own metadata got wrong
      fail("{}: {}", node.describe(), e.what_without_backtrace());
    }
    for (size_t o = 0; o < node.outputs.size() && o < outputs.size(); ++o)
      if (!node.outputs[o].empty()) values[node.outputs[o]] = outputs[o];
    for (const auto& name : last_readers_[n]) values.erase(name);
  }
  std::vector<torch::Tensor> results;
  for (const auto& name : graph_.outputs) {
    const auto it = values.find(name);
    if (it == values.end()) fail("the imported model's output '{}' was not computed", name);
    results.push_back(it->second);
  }
  return results;
}

// Conv: explicit zero padding where the layer's own symmetric padding does not cover it (asymmetric
// pads, auto_pad). Linear (Gemm, MatMul): optional transpose of A, then [..., K] -> [..., N].
torch::Tensor GraphModel::run_layer(const Node& node, torch::Tensor x) {
  const auto& quant_layer = layer(node.attr_string("layer", ""));
  if (quant_layer->is_linear()) {
    if (node.attr_int("transpose_input", 0) != 0) x = x.t();
    std::vector<int64_t> shape = x.sizes().vec();
    if (shape.empty() || shape.back() != quant_layer->in_channels())
      fail("{} expects inputs of {} features, got shape {}", node.describe(), quant_layer->in_channels(), shape_string(x));
    shape.back() = quant_layer->out_channels();
    return quant_layer->forward(x.reshape({-1, quant_layer->in_channels()})).reshape(shape);
  }
  if (x.dim() != 4 || x.size(1) != quant_layer->in_channels())
    fail("{} expects NCHW inputs of {} channels, got shape {}", node.describe(), quant_layer->in_channels(), shape_string(x));
  const int64_t k = quant_layer->geometry().kernel, s = quant_layer->geometry().stride;
  const ConvPads pads = resolve_pads(node, x.size(2), x.size(3), {k, k}, {s, s}, {1, 1});
  if (!pads.zero()) x = torch::constant_pad_nd(x, pads.torch_order(), 0.0);
  return quant_layer->forward(x);
}

}  // namespace fames::models::onnx
