// QuantLayer::emulated_forward: the layer computed through its ProductTable, bit-exact (emulate/).
// Gradients are straight-through: the backward pass is that of the fake-quant layer (METHOD.md §4),
// written as y = y_fq + (y_table - y_fq).detach() so autograd needs no custom function.
//
// The table path is one fused TableLayer call (emulate/table_layer.h): it reads the float input in
// its own layout (channels-last models need no conversion) and writes a channels-last output. Its
// weight codes, scales and prepared table are cached per layer and rebuilt only when a parameter,
// buffer or the table changed (calibration tunes the clips between forward passes).
#include "emulate/table_layer.h"
#include "quant/fake_quant.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::quant {
namespace {

template <class T>
std::vector<T> to_vector(const torch::Tensor& t, torch::ScalarType type) {
  const torch::Tensor c = t.detach().to(type).contiguous();
  return std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

// Identity and contents version of a tensor: changes when it is replaced, re-pointed (set_data) or
// modified in place (optimizer steps, copy_, fill_ all bump the version counter).
void add_key(std::vector<int64_t>& key, const torch::Tensor& t) {
  if (!t.defined()) {
    key.insert(key.end(), {0, 0, 0});
    return;
  }
  key.push_back(reinterpret_cast<int64_t>(t.unsafeGetTensorImpl()));
  key.push_back(reinterpret_cast<int64_t>(t.data_ptr()));
  key.push_back(static_cast<int64_t>(t._version()));
}

}  // namespace

const TableLayer& QuantLayer::table_layer() {
  std::vector<int64_t> key;
  for (const torch::Tensor* t : {&weight, &bias, &weight_clip, &act_clip, &bits, &correction_, &weight_zero})
    add_key(key, *t);
  key.push_back(reinterpret_cast<int64_t>(multiplier_.get()));
  if (table_layer_ && key == table_layer_key_) return *table_layer_;

  torch::NoGradGuard no_grad;
  const Signature sig = signature();
  TableLayerParams p;
  p.linear = is_linear_;
  p.shape.c = in_channels_;
  p.shape.o = out_channels_;
  p.shape.kh = p.shape.kw = geometry_.kernel;
  p.shape.stride_h = p.shape.stride_w = static_cast<int>(geometry_.stride);
  p.shape.pad_h = p.shape.pad_w = static_cast<int>(geometry_.padding);
  p.shape.groups = static_cast<int>(geometry_.groups);
  p.act_step = act_step().item<float>();
  p.signed_act = signed_input_;
  p.weight_raw = to_vector<uint8_t>(weight_codes().bitwise_and((1 << sig.bw) - 1), torch::kUInt8);
  p.scale = to_vector<float>(weight_step() * act_step(), torch::kFloat);
  if (asymmetric_weights()) p.weight_zero = to_vector<int32_t>(weight_zero, torch::kInt32);
  if (bias.defined()) p.bias = to_vector<float>(bias, torch::kFloat);
  if (correction_.defined()) p.correction = to_vector<float>(correction_.reshape({-1}), torch::kFloat);
  table_layer_ = std::make_shared<const TableLayer>(std::move(p), multiplier_);
  table_layer_key_ = std::move(key);
  return *table_layer_;
}

std::string QuantLayer::emulation_kernel() {
  if (!multiplier_) return "exact";
  return table_layer().kernel(last_h_, last_w_);
}

torch::Tensor QuantLayer::emulated_forward(const torch::Tensor& x) {
  if (x.dim() < 2 || x.size(1) != in_channels_)
    fail("layer with {} input channels got a {}-dim input with {} channels", in_channels_, x.dim(),
         x.dim() < 2 ? 0 : x.size(1));
  const TableLayer& layer = table_layer();
  torch::Tensor input = x.detach().to(torch::kFloat);
  torch::Tensor y;
  if (is_linear_) {
    if (input.dim() != 2) fail("linear layer expects [batch, features] input, got {} dims", input.dim());
    input = input.contiguous();
    y = torch::empty({input.size(0), out_channels_});
    const int64_t strides[4] = {input.stride(0), input.stride(1), 0, 0};
    layer.forward(input.data_ptr<float>(), input.size(0), 1, 1, strides, y.data_ptr<float>());
  } else {
    if (input.dim() != 4) fail("conv layer expects [n, c, h, w] input, got {} dims", input.dim());
    if (!input.is_contiguous() && !input.is_contiguous(at::MemoryFormat::ChannelsLast))
      input = input.contiguous(at::MemoryFormat::ChannelsLast);
    const auto [oh, ow] = output_size(input.size(2), input.size(3));
    y = torch::empty({input.size(0), out_channels_, oh, ow},
                     torch::TensorOptions().memory_format(at::MemoryFormat::ChannelsLast));
    const int64_t strides[4] = {input.stride(0), input.stride(1), input.stride(2), input.stride(3)};
    layer.forward(input.data_ptr<float>(), input.size(0), input.size(2), input.size(3), strides,
                  y.data_ptr<float>());
  }
  if (!torch::GradMode::is_enabled()) return y;
  const torch::Tensor y_fq = apply(fake_quant_input(x), fake_quant_weight());
  return y_fq + (y - y_fq).detach();
}

}  // namespace fames::quant
