#include "quant/quant_layer.h"

#include "emulate/table_layer.h"
#include "quant/fake_quant.h"
#include "util/error.h"

namespace fames::quant {
namespace {

// Clip value in `candidates_fraction * max|x|` that minimises the mean squared quantization error.
torch::Tensor best_clip(const torch::Tensor& x, int bits, bool is_signed, int64_t dim_keep) {
  torch::NoGradGuard no_grad;
  // x: [rows, n] (per-row clips) when dim_keep == 0; a flat tensor otherwise (one clip).
  const torch::Tensor flat = dim_keep == 0 ? x : x.reshape({1, -1});
  const torch::Tensor max_abs = flat.abs().amax(1, true).clamp_min(1e-8);
  torch::Tensor best = max_abs.clone();
  torch::Tensor best_err = torch::full_like(max_abs, std::numeric_limits<float>::infinity());
  for (int i = 1; i <= 40; ++i) {
    const torch::Tensor clip = max_abs * (i / 40.0);
    const torch::Tensor step = clip / max_code(bits, is_signed);
    const torch::Tensor err = (fake_quantize(flat, step, bits, is_signed) - flat).pow(2).mean(1, true);
    const torch::Tensor better = err < best_err;
    best = torch::where(better, clip, best);
    best_err = torch::where(better, err, best_err);
  }
  return dim_keep == 0 ? best.squeeze(1) : best.reshape({});
}

}  // namespace

QuantLayer::QuantLayer(int64_t in_channels, int64_t out_channels, ConvGeometry geometry, bool is_linear,
                       bool has_bias, bool signed_input)
    : in_channels_(in_channels), out_channels_(out_channels), geometry_(geometry), is_linear_(is_linear),
      signed_input_(signed_input) {
  if (is_linear) {
    geometry_ = ConvGeometry{1, 1, 0, 1};
    weight = register_parameter("weight", torch::empty({out_channels, in_channels}));
  } else {
    weight = register_parameter(
        "weight", torch::empty({out_channels, in_channels / geometry.groups, geometry.kernel, geometry.kernel}));
  }
  const int64_t fan_in = weight.numel() / out_channels;
  torch::nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);
  if (is_linear) torch::nn::init::normal_(weight, 0.0, 1.0 / std::sqrt(static_cast<double>(fan_in)));
  if (has_bias) bias = register_parameter("bias", torch::zeros({out_channels}));
  weight_clip = register_parameter("weight_clip", torch::ones({out_channels}));
  act_clip = register_parameter("act_clip", torch::ones({}) * 4.0);
  bits = register_buffer("bits", torch::tensor({8, 8}, torch::kInt32));
  clip_ready = register_buffer("clip_ready", torch::zeros({}, torch::kInt32));
}

void QuantLayer::set_bits(int bw, int ba) {
  if (bw < 2 || bw > 8 || ba < 2 || ba > 8) fail("bits out of range: bw={} ba={} (each must be 2..8)", bw, ba);
  if (bw != weight_bits() || ba != act_bits()) clip_ready.fill_(0);  // clips must fit the new grid
  bits[0] = bw;
  bits[1] = ba;
}
int QuantLayer::weight_bits() const { return bits[0].item<int>(); }
int QuantLayer::act_bits() const { return bits[1].item<int>(); }

Signature QuantLayer::signature() const {
  return Signature{weight_bits(), act_bits(), !asymmetric_weights(), signed_input_};
}

torch::Tensor QuantLayer::weight_step() const {
  return weight_clip.abs().clamp_min(1e-8) / max_code(weight_bits(), !asymmetric_weights());
}

torch::Tensor QuantLayer::per_channel(const torch::Tensor& t) const {
  std::vector<int64_t> shape(weight.dim(), 1);
  shape[0] = out_channels_;
  return t.view(shape);
}

void QuantLayer::set_asymmetric_weights() {
  if (asymmetric_weights()) return;
  weight_zero = register_buffer("weight_zero", torch::zeros({out_channels_}, torch::kInt32));
  clip_ready.fill_(0);
}

void QuantLayer::load_asymmetric_weights(const torch::Tensor& codes, const torch::Tensor& scale,
                                         const torch::Tensor& zero, int bits) {
  torch::NoGradGuard no_grad;
  const int64_t levels = max_code(bits, false);
  if (codes.sizes() != weight.sizes())
    fail("asymmetric weights: codes have shape [{}], the layer's weight [{}]", fmt::join(codes.sizes(), ", "),
         fmt::join(weight.sizes(), ", "));
  if (scale.numel() != out_channels_ || zero.numel() != out_channels_)
    fail("asymmetric weights: {} scales and {} zero points for {} output channels", scale.numel(), zero.numel(),
         out_channels_);
  const torch::Tensor q = codes.to(torch::kDouble), z = zero.reshape({-1}).to(torch::kDouble);
  const torch::Tensor s = scale.reshape({-1}).to(torch::kFloat);
  if (q.min().item<double>() < 0 || q.max().item<double>() > levels || !torch::equal(q, q.round()))
    fail("asymmetric weights: codes must be whole numbers in 0..{}", levels);
  if (z.min().item<double>() < 0 || z.max().item<double>() > levels || !torch::equal(z, z.round()))
    fail("asymmetric weights: zero points must be whole numbers in 0..{}", levels);
  if (!(s.min().item<float>() > 0) || !torch::isfinite(s).all().item<bool>())
    fail("asymmetric weights: scales must be positive and finite");
  set_bits(bits, act_bits());
  set_asymmetric_weights();
  weight_zero.copy_(z.to(torch::kInt32));
  weight_clip.copy_(s * static_cast<float>(levels));
  weight.copy_(per_channel(s) * (q - per_channel(z)).to(torch::kFloat));
  clip_ready.fill_(1);
}
torch::Tensor QuantLayer::act_step() const {
  return act_clip.abs().clamp_min(1e-8) / max_code(act_bits(), signed_input_);
}

torch::Tensor QuantLayer::weight_codes() const {
  torch::NoGradGuard no_grad;
  const torch::Tensor step = per_channel(weight_step());
  if (asymmetric_weights())
    return quantize_codes_zero(weight, step, per_channel(weight_zero), weight_bits()).to(torch::kInt32);
  return quantize_codes(weight, step, weight_bits(), true).to(torch::kInt32);
}

torch::Tensor QuantLayer::input_codes(const torch::Tensor& x) const {
  torch::NoGradGuard no_grad;
  return quantize_codes(x, act_step(), act_bits(), signed_input_).to(torch::kInt32);
}

torch::Tensor QuantLayer::fake_quant_input(const torch::Tensor& x) const {
  return fake_quantize(x, act_step(), act_bits(), signed_input_);
}

torch::Tensor QuantLayer::fake_quant_weight() const {
  const torch::Tensor step = per_channel(weight_step());
  if (asymmetric_weights()) return fake_quantize_zero(weight, step, per_channel(weight_zero), weight_bits());
  return fake_quantize(weight, step, weight_bits(), true);
}

torch::Tensor QuantLayer::apply(const torch::Tensor& x, const torch::Tensor& w) const {
  if (is_linear_) return torch::linear(x, w, bias);
  return torch::conv2d(x, w, bias, geometry_.stride, geometry_.padding, 1, geometry_.groups);
}

std::pair<int64_t, int64_t> QuantLayer::output_size(int64_t h, int64_t w) const {
  if (is_linear_) return {1, 1};
  const int64_t k = geometry_.kernel, s = geometry_.stride, p = geometry_.padding;
  return {(h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1};
}

torch::Tensor QuantLayer::forward(const torch::Tensor& x) {
  if (is_linear_) {
    macs_per_image_ = in_channels_ * out_channels_;
  } else {
    const auto [oh, ow] = output_size(x.size(2), x.size(3));
    last_h_ = x.size(2);
    last_w_ = x.size(3);
    macs_per_image_ = out_channels_ * (in_channels_ / geometry_.groups) * geometry_.kernel * geometry_.kernel * oh * ow;
  }
  if (!quantized_) return apply(x, weight);
  if (!capture_) return quantized_forward(x);
  captured_input = x.detach();
  captured_output = quantized_forward(x);
  return captured_output;
}

torch::Tensor QuantLayer::quantized_forward(const torch::Tensor& x) {
  if (clip_ready.item<int>() == 0) init_clipping(x);
  if (multiplier_) return emulated_forward(x);
  return apply(fake_quant_input(x), fake_quant_weight());
}

void QuantLayer::init_weight_clipping() {
  torch::NoGradGuard no_grad;
  const torch::Tensor rows = weight.reshape({out_channels_, -1});
  if (asymmetric_weights()) {  // min/max per channel, as TFLite and onnxruntime's quantizer choose them
    const auto [range, zero] = minmax_range_and_zero(rows, weight_bits());
    weight_clip.copy_(range);
    weight_zero.copy_(zero);
    return;
  }
  weight_clip.copy_(best_clip(rows, weight_bits(), true, 0));
}

void QuantLayer::init_clipping(const torch::Tensor& sample_input) {
  torch::NoGradGuard no_grad;
  init_weight_clipping();
  torch::Tensor sample = sample_input.detach().reshape({-1});
  if (sample.numel() > (1 << 20)) sample = sample.index({torch::randperm(sample.numel()).slice(0, 0, 1 << 20)});
  act_clip.copy_(best_clip(sample, act_bits(), signed_input_, 1));
  clip_ready.fill_(1);
}

void QuantLayer::set_multiplier(std::shared_ptr<const ProductTable> table) {
  if (table && table->signature() != signature())
    fail("multiplier for {} does not fit layer signature {}", table->signature().key(), signature().key());
  multiplier_ = std::move(table);  // the cached TableLayer keys on (and holds) the table
}

const std::shared_ptr<QuantLayer>& find_quant_layer(
    const std::vector<std::pair<std::string, std::shared_ptr<QuantLayer>>>& layers, const std::string& name,
    const std::string& who_names) {
  for (const auto& [layer_name, layer] : layers)
    if (layer_name == name) return layer;
  fail("{} layer '{}', which the model does not have", who_names, name);
}

std::vector<std::pair<std::string, std::shared_ptr<QuantLayer>>> quant_layers(torch::nn::Module& model) {
  std::vector<std::pair<std::string, std::shared_ptr<QuantLayer>>> layers;
  for (const auto& item : model.named_modules("", false)) {
    if (auto layer = std::dynamic_pointer_cast<QuantLayer>(item.value())) layers.emplace_back(item.key(), layer);
  }
  return layers;
}

}  // namespace fames::quant
