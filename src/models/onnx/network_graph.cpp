#include "models/onnx/network_graph.h"

#include <limits>

#include "models/onnx/graph_model.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::models::onnx {
namespace {

// Appends nodes to a NetworkGraph, reading tensors from the network's modules by path.
class ZooWriter {
 public:
  explicit ZooWriter(torch::nn::Module& model) : model_(model) {
    for (const auto& item : model.named_modules("", false)) modules_[item.key()] = item.value();
  }

  bool has(const std::string& path) const { return modules_.count(path) != 0; }
  std::string layer(const std::string& path, const std::string& x);
  std::string batch_norm(const std::string& path, const std::string& x);
  std::string op(const std::string& op, std::vector<std::string> inputs, nlohmann::json attrs = nlohmann::json::object());
  std::string relu(const std::string& x) { return op("Relu", {x}); }
  std::string max_pool(const std::string& x, int64_t k, int64_t s, int64_t p);
  std::string pool_flatten(const std::string& x);
  std::string constant(const std::string& name, torch::Tensor value);
  const quant::QuantLayer& quant_layer(const std::string& path) const;
  NetworkGraph finish(const ModelSpec& spec, const std::string& x, const std::string& logits);

 private:
  torch::nn::Module& model_;
  std::map<std::string, std::shared_ptr<torch::nn::Module>> modules_;
  NetworkGraph out_;
  int count_ = 0;
};

std::string ZooWriter::op(const std::string& type, std::vector<std::string> inputs, nlohmann::json attrs) {
  Node node{fmt::format("{}_{}", type, count_), type, std::move(inputs), {fmt::format("t{}", count_)}, std::move(attrs)};
  ++count_;
  out_.graph.nodes.push_back(node);
  return node.outputs[0];
}

std::string ZooWriter::constant(const std::string& name, torch::Tensor value) {
  out_.constants[name] = value.detach().contiguous();
  return name;
}

const quant::QuantLayer& ZooWriter::quant_layer(const std::string& path) const {
  const auto it = modules_.find(path);
  const auto* layer = it == modules_.end() ? nullptr : dynamic_cast<const quant::QuantLayer*>(it->second.get());
  if (!layer) fail("the model has no quantized layer '{}' where its architecture has one", path);
  return *layer;
}

std::string ZooWriter::layer(const std::string& path, const std::string& x) {
  quant_layer(path);
  Node node{path, "QuantLayer", {x}, {path + ".out"}, {{"layer", path}}};
  out_.graph.nodes.push_back(node);
  return node.outputs[0];
}

std::string ZooWriter::batch_norm(const std::string& path, const std::string& x) {
  const auto it = modules_.find(path);
  const auto* bn = it == modules_.end() ? nullptr : dynamic_cast<torch::nn::BatchNorm2dImpl*>(it->second.get());
  if (!bn) fail("the model has no batch norm '{}' where its architecture has one", path);
  return op("BatchNormalization",
            {x, constant(path + ".weight", bn->weight), constant(path + ".bias", bn->bias),
             constant(path + ".running_mean", bn->running_mean), constant(path + ".running_var", bn->running_var)},
            {{"epsilon", bn->options.eps()}});
}

std::string ZooWriter::max_pool(const std::string& x, int64_t k, int64_t s, int64_t p) {
  return op("MaxPool", {x}, {{"kernel_shape", {k, k}}, {"strides", {s, s}}, {"pads", {p, p, p, p}}});
}

std::string ZooWriter::pool_flatten(const std::string& x) { return op("Flatten", {op("GlobalAveragePool", {x})}, {{"axis", 1}}); }

NetworkGraph ZooWriter::finish(const ModelSpec& spec, const std::string& x, const std::string& logits) {
  out_.graph.opset = 13;
  out_.graph.inputs = {{x, {-1, spec.in_channels, spec.image_size, spec.image_size}}};
  out_.graph.outputs = {logits};
  return std::move(out_);
}

// ResNet-20 option A: every other pixel, then zero channels appended.
std::string option_a_shortcut(ZooWriter& w, const std::string& x, int64_t stride, int64_t in, int64_t out) {
  const int64_t end = std::numeric_limits<int64_t>::max();
  const std::string id = std::to_string(in) + "_" + std::to_string(out);
  const std::string sliced = w.op("Slice", {x, w.constant("shortcut_starts", torch::tensor({int64_t{0}, int64_t{0}})),
                                            w.constant("shortcut_ends", torch::tensor({end, end})),
                                            w.constant("shortcut_axes", torch::tensor({int64_t{2}, int64_t{3}})),
                                            w.constant("shortcut_steps_" + std::to_string(stride), torch::tensor({stride, stride}))});
  return w.op("Pad", {sliced, w.constant("shortcut_pads_" + id, torch::tensor({int64_t{0}, int64_t{0}, int64_t{0}, int64_t{0},
                                                                                int64_t{0}, out - in, int64_t{0}, int64_t{0}}))});
}

std::string basic_block(ZooWriter& w, const std::string& path, const std::string& x) {
  const auto& conv1 = w.quant_layer(path + ".conv1");
  std::string y = w.relu(w.batch_norm(path + ".bn1", w.layer(path + ".conv1", x)));
  y = w.batch_norm(path + ".bn2", w.layer(path + ".conv2", y));
  std::string s = x;
  const int64_t stride = conv1.geometry().stride, in = conv1.in_channels(), out = conv1.out_channels();
  if (w.has(path + ".shortcut")) s = w.batch_norm(path + ".shortcut_bn", w.layer(path + ".shortcut", x));
  else if (stride != 1 || in != out) s = option_a_shortcut(w, x, stride, in, out);
  return w.relu(w.op("Add", {y, s}));
}

std::string resnet(ZooWriter& w, const ModelSpec& spec, std::string x) {
  x = w.relu(w.batch_norm("bn1", w.layer("conv1", x)));
  if (spec.image_size >= 128) x = w.max_pool(x, 3, 2, 1);
  for (int stage = 1; w.has(fmt::format("layer{}", stage)); ++stage)
    for (int b = 0; w.has(fmt::format("layer{}.{}", stage, b)); ++b) x = basic_block(w, fmt::format("layer{}.{}", stage, b), x);
  return w.layer("fc", w.pool_flatten(x));
}

std::string vgg19(ZooWriter& w, std::string x) {
  const std::set<int> pool_after = {1, 3, 7, 11, 15};  // zoo.cpp's configuration
  for (int i = 0; w.has(fmt::format("conv{}", i)); ++i) {
    x = w.relu(w.batch_norm(fmt::format("bn{}", i), w.layer(fmt::format("conv{}", i), x)));
    if (pool_after.count(i)) x = w.max_pool(x, 2, 2, 0);
  }
  return w.layer("classifier", w.pool_flatten(x));
}

std::string fire(ZooWriter& w, const std::string& path, const std::string& x) {
  const std::string s = w.relu(w.batch_norm(path + ".squeeze_bn", w.layer(path + ".squeeze", x)));
  const std::string e1 = w.relu(w.batch_norm(path + ".expand1x1_bn", w.layer(path + ".expand1x1", s)));
  const std::string e3 = w.relu(w.batch_norm(path + ".expand3x3_bn", w.layer(path + ".expand3x3", s)));
  return w.op("Concat", {e1, e3}, {{"axis", 1}});
}

std::string squeezenet(ZooWriter& w, std::string x) {
  x = w.relu(w.batch_norm("bn1", w.layer("conv1", x)));
  for (int i = 2; w.has(fmt::format("fire{}", i)); ++i) {
    x = fire(w, fmt::format("fire{}", i), x);
    if (i == 3 || i == 5) x = w.max_pool(x, 2, 2, 0);
  }
  return w.pool_flatten(w.layer("conv10", x));
}

std::string lenet5(ZooWriter& w, std::string x) {
  x = w.max_pool(w.relu(w.layer("conv1", x)), 2, 2, 0);
  x = w.op("Flatten", {w.max_pool(w.relu(w.layer("conv2", x)), 2, 2, 0)}, {{"axis", 1}});
  x = w.relu(w.layer("fc1", x));
  return w.layer("fc3", w.relu(w.layer("fc2", x)));
}

NetworkGraph zoo_graph(torch::nn::Module& model, const ModelSpec& spec) {
  ZooWriter w(model);
  const std::string x = "input";
  std::string logits;
  if (spec.arch == "resnet20" || spec.arch == "resnet18") logits = resnet(w, spec, x);
  else if (spec.arch == "vgg19") logits = vgg19(w, x);
  else if (spec.arch == "squeezenet") logits = squeezenet(w, x);
  else if (spec.arch == "lenet5") logits = lenet5(w, x);
  else fail("architecture '{}' cannot be written as ONNX", spec.arch);
  return w.finish(spec, x, logits);
}

// The imported graph with its constants; an input map becomes Mul and Add nodes.
NetworkGraph imported_graph(GraphModel& model) {
  NetworkGraph out{model.graph(), {}};
  for (size_t i = 0; i < out.graph.constants.size(); ++i) out.constants[out.graph.constants[i].name] = model.constant(i);
  out.graph.constants.clear();
  torch::Tensor scale, shift;
  for (const auto& item : model.named_buffers(false)) {
    if (item.key() == "input_scale") scale = item.value();
    if (item.key() == "input_shift") shift = item.value();
  }
  if (!scale.defined() || scale.numel() == 0) return out;
  const std::string x = out.graph.inputs.at(0).name, mapped = x + "/mapped";
  for (Node& node : out.graph.nodes)
    for (auto& input : node.inputs)
      if (input == x) input = mapped;
  out.constants[x + "/scale"] = scale.reshape({1, -1, 1, 1});
  out.constants[x + "/shift"] = shift.reshape({1, -1, 1, 1});
  out.graph.nodes.insert(out.graph.nodes.begin(), {Node{x + "/map_scale", "Mul", {x, x + "/scale"}, {x + "/scaled"}},
                                                   Node{x + "/map_shift", "Add", {x + "/scaled", x + "/shift"}, {mapped}}});
  return out;
}

}  // namespace

NetworkGraph network_graph(torch::nn::Module& model, const ModelSpec& spec) {
  if (auto* imported = dynamic_cast<GraphModel*>(&model)) return imported_graph(*imported);
  return zoo_graph(model, spec);
}

}  // namespace fames::models::onnx
