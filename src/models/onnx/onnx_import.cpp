#include "models/onnx/onnx_import.h"

#include <cctype>
#include <set>

#include "models/onnx/layer_names.h"
#include "models/onnx/onnx_reader.h"
#include "models/onnx/ops.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::models::onnx {
namespace {

struct LayerWeights {
  torch::Tensor weight, bias;  // bias undefined when the layer has none
};

// The state of one import: constants by name, the nodes kept so far, the layers made.
class Lowering {
 public:
  Lowering(std::string path, OnnxFile file) : path_(std::move(path)), file_(std::move(file)) {}

  void bind_inputs(const std::map<std::string, torch::Tensor>& bound);
  void run();
  Imported finish();

 private:
  bool is_constant(const std::string& name) const { return !name.empty() && file_.constants.count(name); }
  const torch::Tensor& constant_input(const Node& node, size_t i, const char* role) const;
  bool non_negative(const std::string& name) const;
  void note_sign(const Node& node);
  void fold(const Node& node);
  Node layer_node(const Node& node, const std::string& weight_name, bool linear);
  void lower_conv(const Node& node);
  void lower_gemm(const Node& node);
  void lower_matmul(const Node& node);

  std::string path_;
  OnnxFile file_;
  std::vector<Node> nodes_;
  std::set<std::string> non_negative_;
  LayerNames names_;
  std::map<std::string, LayerWeights> weights_;
};

void Lowering::bind_inputs(const std::map<std::string, torch::Tensor>& bound) {
  for (const auto& [name, value] : bound) {
    auto& inputs = file_.graph.inputs;
    const auto it = std::find_if(inputs.begin(), inputs.end(), [&](const ValueInfo& v) { return v.name == name; });
    if (it == inputs.end()) fail("'{}' has no graph input '{}' to bind", path_, name);
    inputs.erase(it);
    file_.constants[name] = value;
  }
}

const torch::Tensor& Lowering::constant_input(const Node& node, size_t i, const char* role) const {
  const std::string& name = node.input(i);
  if (!is_constant(name))
    fail("'{}': {} has a dynamic {} '{}' (computed in the graph, not stored in the model); fames needs "
         "Conv and Gemm weights as initializers or constants",
         path_, node.describe(), role, name);
  return file_.constants.at(name);
}

bool Lowering::non_negative(const std::string& name) const {
  if (is_constant(name)) {
    const torch::Tensor& t = file_.constants.at(name);
    return t.numel() == 0 || t.to(torch::kDouble).min().item<double>() >= 0;
  }
  return non_negative_.count(name) != 0;
}

// Records which outputs of `node` are provably >= 0, so that the layers reading them use unsigned
// activation codes (one more level for the same bits), as the zoo's post-ReLU layers do.
void Lowering::note_sign(const Node& node) {
  static const std::set<std::string> always = {"Relu", "Sigmoid", "HardSigmoid", "Softmax", "Shape"};
  static const std::set<std::string> keeps_first = {"MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape",
                                                     "Transpose", "Identity", "Dropout", "Squeeze", "Unsqueeze",
                                                     "Slice", "Split", "Gather", "Cast", "ReduceMean"};
  static const std::set<std::string> keeps_all = {"Concat", "Add", "Mul", "Div"};
  bool result = false;
  if (always.count(node.op)) {
    result = true;
  } else if (node.op == "Clip") {  // bounds: inputs from opset 11, attributes before
    result = (is_constant(node.input(1)) && non_negative(node.input(1))) ||
             (file_.graph.opset < 11 && node.attr_float("min", -1.0) >= 0);
  } else if (node.op == "Pad") {
    result = non_negative(node.input(0)) && (node.input(2).empty() || non_negative(node.input(2))) &&
             node.attr_float("value", 0.0) >= 0;
  } else if (keeps_first.count(node.op)) {
    result = non_negative(node.input(0));
  } else if (keeps_all.count(node.op)) {
    result = true;
    for (const auto& input : node.inputs) result = result && (input.empty() || non_negative(input));
  }
  if (result)
    for (const auto& output : node.outputs) non_negative_.insert(output);
}

void Lowering::fold(const Node& node) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> inputs;
  for (const auto& name : node.inputs) inputs.push_back(name.empty() ? torch::Tensor() : file_.constants.at(name));
  const auto outputs = run_op(node, inputs, file_.graph.opset);
  for (size_t i = 0; i < node.outputs.size(); ++i)
    if (!node.outputs[i].empty() && outputs[i].defined()) file_.constants[node.outputs[i]] = outputs[i];
}

// The QuantLayer node for `node` (geometry attributes are the caller's), its input the node's first.
Node Lowering::layer_node(const Node& node, const std::string& weight_name, bool linear) {
  Node q;
  q.name = node.name;
  q.op = "QuantLayer";
  q.inputs = {node.input(0)};
  q.outputs = {node.outputs.at(0)};
  q.attrs["layer"] = names_.claim(node, weight_name);
  q.attrs["source_op"] = node.op;
  q.attrs["linear"] = linear ? 1 : 0;
  q.attrs["signed"] = non_negative(node.input(0)) ? 0 : 1;
  return q;
}

void Lowering::lower_conv(const Node& node) {
  const torch::Tensor& w = constant_input(node, 1, "weight");
  const std::string where = fmt::format("'{}': {}", path_, node.describe());
  if (w.dim() != 4) fail("{} is a {}-D convolution, which is not supported (only 2-D)", where, w.dim() - 2);
  if (w.size(2) != w.size(3)) fail("{} has a {}x{} kernel, which is not supported (only square kernels)", where, w.size(2), w.size(3));
  const auto strides = node.attr_ints("strides", {1, 1});
  if (strides.size() != 2 || strides[0] != strides[1]) fail("{} has unequal strides, which is not supported", where);
  for (int64_t d : node.attr_ints("dilations", {1, 1}))
    if (d != 1) fail("{} has dilation {}, which is not supported", where, d);
  const int64_t groups = node.attr_int("group", 1);
  Node q = layer_node(node, node.input(1), false);
  q.attrs["in"] = w.size(1) * groups;
  q.attrs["out"] = w.size(0);
  q.attrs["kernel"] = w.size(2);
  q.attrs["stride"] = strides[0];
  q.attrs["groups"] = groups;
  LayerWeights lw{w, node.input(2).empty() ? torch::Tensor() : constant_input(node, 2, "bias")};
  q.attrs["bias"] = lw.bias.defined() ? 1 : 0;
  // Symmetric explicit pads go into the layer; anything else is padded explicitly before it.
  const std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  const auto pads = node.attr_ints("pads", {0, 0, 0, 0});
  q.attrs["padding"] = 0;
  if (auto_pad == "NOTSET" && pads.size() == 4 && pads[0] == pads[1] && pads[0] == pads[2] && pads[0] == pads[3]) {
    q.attrs["padding"] = pads[0];
  } else if (auto_pad != "VALID") {
    if (node.has_attr("pads")) q.attrs["pads"] = pads;
    q.attrs["auto_pad"] = auto_pad;
  }
  weights_[q.attrs["layer"].get<std::string>()] = lw;
  nodes_.push_back(std::move(q));
}

// Gemm: Y = alpha * A' B' + beta * C. The layer computes A' W^T + bias with W = alpha * B'^T; a C
// that is not a per-output vector is added by a separate Add node.
void Lowering::lower_gemm(const Node& node) {
  const torch::Tensor& b = constant_input(node, 1, "weight");
  if (b.dim() != 2) fail("'{}': {} has a {}-D B; Gemm needs a matrix", path_, node.describe(), b.dim());
  const double alpha = node.attr_float("alpha", 1.0), beta = node.attr_float("beta", 1.0);
  const torch::Tensor w = (node.attr_int("transB", 0) != 0 ? b : b.t()).to(torch::kFloat) * alpha;
  Node q = layer_node(node, node.input(1), true);
  q.attrs["in"] = w.size(1);
  q.attrs["out"] = w.size(0);
  if (node.attr_int("transA", 0) != 0) q.attrs["transpose_input"] = 1;
  LayerWeights lw{w, torch::Tensor()};
  Node add;
  if (!node.input(2).empty()) {
    const int64_t n = w.size(0);
    const bool vector_bias = is_constant(node.input(2)) &&
                             (file_.constants.at(node.input(2)).numel() == 1 ||
                              (file_.constants.at(node.input(2)).numel() == n && file_.constants.at(node.input(2)).size(-1) == n));
    if (vector_bias) {
      lw.bias = (file_.constants.at(node.input(2)).to(torch::kFloat) * beta).reshape({-1}).expand({n}).contiguous();
    } else {
      const std::string scaled_c = node.outputs.at(0) + "/beta_c", product = node.outputs.at(0) + "/gemm";
      if (is_constant(node.input(2))) file_.constants[scaled_c] = file_.constants.at(node.input(2)).to(torch::kFloat) * beta;
      else if (beta != 1.0) fail("'{}': {} scales a computed C by beta, which is not supported", path_, node.describe());
      add = Node{node.name + "/bias", "Add", {product, is_constant(node.input(2)) ? scaled_c : node.input(2)}, {node.outputs.at(0)}};
      q.outputs = {product};
    }
  }
  q.attrs["bias"] = lw.bias.defined() ? 1 : 0;
  weights_[q.attrs["layer"].get<std::string>()] = lw;
  nodes_.push_back(std::move(q));
  if (!add.op.empty()) nodes_.push_back(std::move(add));
}

// MatMul with a constant matrix B [K, N]: a linear layer with W = B^T. Other MatMuls (two
// activations, batched B) stay MatMul nodes.
void Lowering::lower_matmul(const Node& node) {
  const torch::Tensor& b = file_.constants.at(node.input(1));
  Node q = layer_node(node, node.input(1), true);
  q.attrs["in"] = b.size(0);
  q.attrs["out"] = b.size(1);
  q.attrs["bias"] = 0;
  weights_[q.attrs["layer"].get<std::string>()] = {b.t().to(torch::kFloat), torch::Tensor()};
  nodes_.push_back(std::move(q));
}

void Lowering::run() {
  for (const Node& node : file_.graph.nodes) {
    bool all_constant = true;
    for (const auto& input : node.inputs) all_constant = all_constant && (input.empty() || is_constant(input));
    if (node.op == "Conv") {
      lower_conv(node);
    } else if (node.op == "Gemm") {
      lower_gemm(node);
    } else if (node.op == "MatMul" && !is_constant(node.input(0)) && is_constant(node.input(1)) &&
               file_.constants.at(node.input(1)).dim() == 2) {
      lower_matmul(node);
    } else if (all_constant) {
      fold(node);
      continue;
    } else {
      nodes_.push_back(node);
    }
    note_sign(node);
  }
}

Imported Lowering::finish() {
  Graph graph;
  graph.opset = file_.graph.opset;
  graph.inputs = file_.graph.inputs;
  graph.outputs = file_.graph.outputs;
  // Constants that something still reads, in order of first use; check every read has a source.
  std::set<std::string> known, listed;
  for (const auto& v : graph.inputs) known.insert(v.name);
  auto use = [&](const std::string& name, const std::string& reader) {
    if (name.empty() || (known.count(name) && !is_constant(name))) return;
    if (!is_constant(name)) fail("'{}': {} reads '{}', which no earlier node computes", path_, reader, name);
    const torch::Tensor& value = file_.constants.at(name);
    if (listed.insert(name).second) graph.constants.push_back({name, dtype_name(value.scalar_type()), value.sizes().vec()});
  };
  for (const Node& node : nodes_) {
    for (const auto& input : node.inputs) use(input, node.describe());
    for (const auto& output : node.outputs) known.insert(output);
  }
  for (const auto& output : graph.outputs) use(output, "graph output");
  graph.nodes = std::move(nodes_);
  Imported imported{std::make_shared<GraphModel>(graph, "'" + path_ + "'"), file_.producer};
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < graph.constants.size(); ++i)
    imported.model->constant(i).set_(file_.constants.at(graph.constants[i].name).contiguous().clone());
  for (const auto& [name, lw] : weights_) {
    const auto& layer = imported.model->layer(name);
    layer->weight.copy_(lw.weight.to(torch::kFloat).reshape(layer->weight.sizes()));
    if (lw.bias.defined()) layer->bias.copy_(lw.bias.to(torch::kFloat).reshape({-1}));
    layer->set_quantized(false);
  }
  return imported;
}

}  // namespace

Imported import_onnx(const std::string& path, const ImportOptions& options) {
  Lowering lowering(path, read_onnx_file(path));
  try {
    lowering.bind_inputs(options.bound_inputs);
    lowering.run();
    return lowering.finish();
  } catch (const c10::Error& e) {  // tensors whose shapes or types do not fit their nodes
    fail("'{}': {}", path, e.what_without_backtrace());
  }
}

}  // namespace fames::models::onnx
