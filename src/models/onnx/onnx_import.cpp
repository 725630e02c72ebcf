#include "models/onnx/onnx_import.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "models/onnx/layer_names.h"
#include "models/onnx/onnx_reader.h"
#include "models/onnx/ops.h"
#include "models/onnx/qdq_export.h"
#include "models/onnx/qdq_import.h"
#include "quant/fake_quant.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::models::onnx {
namespace {

struct LayerWeights {
  torch::Tensor weight, bias;  // bias undefined when the layer has none
  // From a QDQ model: the quantizers of the weight and of the input (both or neither).
  std::optional<detail::WeightQuant> weight_quant;
  std::optional<detail::ActQuant> act_quant;
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
  void note_quantizers(const Node& node, Node& q, LayerWeights& lw, double alpha, int64_t out_axis);
  int metadata_bits(const std::string& layer) const;
  void apply_quantizers(const std::string& name, const LayerWeights& lw, quant::QuantLayer& layer) const;
  std::vector<Node> live_nodes() const;
  void lower_conv(const Node& node);
  void lower_gemm(const Node& node);
  void lower_matmul(const Node& node);

  std::string path_;
  OnnxFile file_;
  std::vector<Node> nodes_;
  std::set<std::string> non_negative_;
  LayerNames names_;
  std::map<std::string, LayerWeights> weights_;
  std::map<std::string, Node> producers_;     // every node of the file, by output
  std::set<std::string> dequantized_consts_;  // outputs of DequantizeLinear nodes of constants
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
  LayerWeights lw{w, node.input(2).empty() ? torch::Tensor() : constant_input(node, 2, "bias"), std::nullopt, std::nullopt};
  q.attrs["bias"] = lw.bias.defined() ? 1 : 0;
  note_quantizers(node, q, lw, 1.0, 0);
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
  LayerWeights lw{w, torch::Tensor(), std::nullopt, std::nullopt};
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
  note_quantizers(node, q, lw, alpha, node.attr_int("transB", 0) != 0 ? 0 : 1);
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
  LayerWeights lw{b.t().to(torch::kFloat), torch::Tensor(), std::nullopt, std::nullopt};
  note_quantizers(node, q, lw, 1.0, 1);
  weights_[q.attrs["layer"].get<std::string>()] = lw;
  nodes_.push_back(std::move(q));
}

void Lowering::run() {
  for (const Node& node : file_.graph.nodes) {
    for (const auto& output : node.outputs) producers_[output] = node;
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
      if (node.op == "DequantizeLinear") dequantized_consts_.insert(node.outputs.at(0));
      fold(node);
      continue;
    } else {
      nodes_.push_back(node);
    }
    note_sign(node);
  }
}

// QDQ: the weight's DequantizeLinear and the input's QuantizeLinear -> DequantizeLinear become the
// layer's quantizers (qdq_import.h); the layer then reads the quantizer's input.
void Lowering::note_quantizers(const Node& node, Node& q, LayerWeights& lw, double alpha, int64_t out_axis) {
  const std::string where = "'" + path_ + "'";
  auto node_of = [this](const std::string& v) -> const Node* {
    const auto it = producers_.find(v);
    return it == producers_.end() ? nullptr : &it->second;
  };
  auto constant_of = [this](const std::string& v) { return is_constant(v) ? file_.constants.at(v) : torch::Tensor(); };
  lw.act_quant = detail::act_quant(node.input(0), node_of, constant_of, file_.graph.opset, where);
  if (dequantized_consts_.count(node.input(1))) {
    const Node& dq = producers_.at(node.input(1));
    lw.weight_quant = detail::weight_quant(dq, constant_of(dq.input(0)), constant_of(dq.input(1)),
                                           constant_of(dq.input(2)), out_axis, where);
    lw.weight_quant->step = lw.weight_quant->step * static_cast<float>(alpha);
  }
  if (lw.act_quant.has_value() != lw.weight_quant.has_value())
    fail("{}: {} has a quantized {} but a float {}; fames imports layers whose weight and input are both quantized "
         "(QDQ) or both float", where, node.describe(), lw.act_quant ? "input" : "weight", lw.act_quant ? "weight" : "input");
  if (!lw.act_quant) return;
  q.inputs[0] = lw.act_quant->source;
  q.attrs["signed"] = lw.act_quant->is_signed ? 1 : 0;
}

// The weight bit width the file's "fames.bits" metadata records for `layer` (0 if none).
int Lowering::metadata_bits(const std::string& layer) const {
  const auto it = file_.metadata.find(kBitsMetadataKey);
  if (it == file_.metadata.end()) return 0;
  const nlohmann::json bits = nlohmann::json::parse(it->second, nullptr, false);
  if (bits.is_discarded() || !bits.is_object()) fail("'{}': metadata '{}' is not a JSON object", path_, kBitsMetadataKey);
  if (!bits.contains(layer) || !bits[layer].is_array() || bits[layer].empty() || !bits[layer][0].is_number_integer()) return 0;
  return std::clamp(bits[layer][0].get<int>(), 2, 8);
}

// A QDQ layer gets its bit widths and steps (bit-exact clipping values) and quantization on; a
// float layer stays float.
void Lowering::apply_quantizers(const std::string& name, const LayerWeights& lw, quant::QuantLayer& layer) const {
  if (!lw.weight_quant) return layer.set_quantized(false);
  const int bw = std::max(lw.weight_quant->bits, metadata_bits(name)), ba = lw.act_quant->bits;
  layer.set_bits(bw, ba);
  if (lw.weight_quant->zero.defined()) {
    // Asymmetric: the codes come back from the dequantized weight, w / s + z, exactly.
    const torch::Tensor& step = lw.weight_quant->step;
    std::vector<int64_t> channel_shape(static_cast<size_t>(layer.weight.dim()), 1);
    channel_shape[0] = -1;
    const torch::Tensor codes = torch::round(layer.weight.detach() / step.reshape(channel_shape)) +
                                lw.weight_quant->zero.reshape(channel_shape).to(torch::kFloat);
    layer.load_asymmetric_weights(codes, step, lw.weight_quant->zero, bw);
  } else {
    layer.weight_clip.copy_(detail::clip_for_step(lw.weight_quant->step, quant::max_code(bw, true)));
  }
  layer.act_clip.copy_(detail::clip_for_step(lw.act_quant->step, quant::max_code(ba, lw.act_quant->is_signed)).reshape({}));
  layer.clip_ready.fill_(1);
  layer.set_quantized(true);
}

// The nodes something reads (a graph output or a later live node), and every layer.
std::vector<Node> Lowering::live_nodes() const {
  std::set<std::string> needed(file_.graph.outputs.begin(), file_.graph.outputs.end());
  std::vector<Node> kept;
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    bool used = it->op == "QuantLayer";
    for (const auto& output : it->outputs) used = used || needed.count(output) != 0;
    if (!used) continue;
    needed.insert(it->inputs.begin(), it->inputs.end());
    kept.push_back(*it);
  }
  std::reverse(kept.begin(), kept.end());
  return kept;
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
  for (const Node& node : live_nodes()) {
    for (const auto& input : node.inputs) use(input, node.describe());
    for (const auto& output : node.outputs) known.insert(output);
  }
  for (const auto& output : graph.outputs) use(output, "graph output");
  graph.nodes = live_nodes();
  Imported imported{std::make_shared<GraphModel>(graph, "'" + path_ + "'"), file_.producer};
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < graph.constants.size(); ++i)
    imported.model->constant(i).set_(file_.constants.at(graph.constants[i].name).contiguous().clone());
  // A checkpoint is quantized or float as a whole (checkpoint.h): a QDQ model quantizes every layer.
  for (const auto& [name, lw] : weights_)
    if (lw.weight_quant.has_value() != weights_.begin()->second.weight_quant.has_value())
      fail("'{}': layer '{}' is {} but layer '{}' is not; fames imports QDQ models whose Conv, Gemm and MatMul layers "
           "are all quantized", path_, lw.weight_quant ? name : weights_.begin()->first, "QDQ-quantized",
           lw.weight_quant ? weights_.begin()->first : name);
  for (const auto& [name, lw] : weights_) {
    const auto& layer = imported.model->layer(name);
    layer->weight.copy_(lw.weight.to(torch::kFloat).reshape(layer->weight.sizes()));
    if (lw.bias.defined()) layer->bias.copy_(lw.bias.to(torch::kFloat).reshape({-1}));
    apply_quantizers(name, lw, *layer);
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
