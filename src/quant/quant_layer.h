// Quantized conv and linear layers: the only layer types the FAMES stages need to know.
//
// Every QuantLayer quantizes its INPUT activations (ba bits, unsigned after ReLU or signed where the
// layer says so) and its weights (bw bits per output channel), both with learnable clipping values
// (METHOD.md §1, §4). Weights are symmetric (signed codes, signature w<b>s) unless the layer was
// switched to asymmetric weights (unsigned codes q in 0..2^bw-1 with an integer zero point z(o) per
// output channel, signature w<b>u; fake_quant.h). It hands out exactly what the hardware computes with:
//   weight_codes()   integer weight codes, same shape as the weight, as int32 (asymmetric: q)
//   weight_zero      z(o) [O] int32 (asymmetric only; undefined for symmetric weights)
//   input_codes(x)   integer activation codes of an input batch, as int32
//   weight_step()    s_w(o) per output channel [O];  act_step()  s_a (scalar tensor)
//   macs_per_image() multiplications per image (from the last input seen; conv counts padding)
// and output = s_w(o) * s_a * (sum(code products) - z(o) * sum(activation codes)) + bias, where the
// zero-point term is exact whatever multiplier serves the products.
//
// Modes: float (quantization off, for full-precision pretraining), fake-quant (training/eval), or
// emulated, where a ProductTable replaces the multiplier (set_multiplier, see emulate/).
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>

#include "core/product_table.h"

namespace fames {
class TableLayer;  // emulate/table_layer.h
}

namespace fames::quant {

struct ConvGeometry {
  int64_t kernel = 3, stride = 1, padding = 0, groups = 1;
};

class QuantLayer : public torch::nn::Module {
 public:
  // `out_channels` x `in_channels/groups` x k x k weights (k = 1 and 2-D weight for linear layers).
  QuantLayer(int64_t in_channels, int64_t out_channels, ConvGeometry geometry, bool is_linear, bool bias,
             bool signed_input);

  torch::Tensor forward(const torch::Tensor& x);

  // Bits: bw (weights) and ba (activations), each 2..8. Throws fames::Error otherwise.
  void set_bits(int bw, int ba);
  int weight_bits() const;
  int act_bits() const;
  Signature signature() const;
  bool signed_input() const { return signed_input_; }
  bool is_linear() const { return is_linear_; }
  const ConvGeometry& geometry() const { return geometry_; }
  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }

  // Quantization on/off (off = plain float layer, for pretraining).
  void set_quantized(bool on) { quantized_ = on; }
  bool quantized() const { return quantized_; }

  // Sets the clipping values from data: weights per channel and activations from `sample_input`,
  // each by a small grid search minimising the quantization MSE.
  void init_clipping(const torch::Tensor& sample_input);
  void init_weight_clipping();

  // Switches the weights to asymmetric quantization: registers the buffer "weight_zero" and resets
  // the clipping, so the next forward (or init_weight_clipping) sets range and zero point from each
  // channel's min/max. One way: an asymmetric layer stays asymmetric. Needed before loading a
  // checkpoint that holds asymmetric weights (models/checkpoint.cpp does it from the record).
  void set_asymmetric_weights();
  bool asymmetric_weights() const { return weight_zero.defined(); }
  // Makes the layer hold given asymmetric weights exactly (an imported uint8 QDQ weight): bw = bits,
  // weight = scale(o) * (codes - zero(o)), so that weight_codes() == codes and weight_step() is
  // scale to float rounding. codes: uint8/int tensor of the weight's shape, each in 0..2^bits-1;
  // scale: [O] positive; zero: [O] whole numbers in 0..2^bits-1. Throws fames::Error on anything
  // else. Marks the clipping as set: set act_clip (and the activation bits) before the first forward.
  void load_asymmetric_weights(const torch::Tensor& codes, const torch::Tensor& scale, const torch::Tensor& zero,
                               int bits);

  // Integer interface (see file comment).
  torch::Tensor weight_codes() const;
  torch::Tensor input_codes(const torch::Tensor& x) const;
  torch::Tensor weight_step() const;
  torch::Tensor act_step() const;
  int64_t macs_per_image() const { return macs_per_image_; }
  // Output spatial size for an input of size h x w (1 x 1 for linear layers).
  std::pair<int64_t, int64_t> output_size(int64_t h, int64_t w) const;

  // Emulation: with a table set, forward() computes the layer through it (bit-exact product
  // table forward, straight-through fake-quant gradient). nullptr restores the exact multiplier.
  void set_multiplier(std::shared_ptr<const ProductTable> table);
  const std::shared_ptr<const ProductTable>& multiplier() const { return multiplier_; }
  // The emulation kernel serving this layer for its last input ("avx512/shuf8 implicit"), or
  // "exact" when no table is set.
  std::string emulation_kernel();
  // Optional per-output-channel correction added after the table forward (bias correction, §4).
  // An undefined tensor removes it.
  void set_output_correction(torch::Tensor correction) {
    correction_ = std::move(correction);
    table_layer_.reset();
  }
  const torch::Tensor& output_correction() const { return correction_; }

  // Capture mode (estimation): forward() keeps its input and its output (still in the autograd
  // graph) so that the output's gradient can be taken afterwards. Off by default.
  void set_capture(bool on) { capture_ = on; captured_input = torch::Tensor(); captured_output = torch::Tensor(); }
  torch::Tensor captured_input, captured_output;

  // Learnable parameters. weight_clip: per channel beta (symmetric: s_w = beta / (2^(bw-1)-1)) or
  // range (asymmetric: s_w = range / (2^bw-1)).
  torch::Tensor weight, bias, weight_clip, act_clip;
  // Buffers saved with the model: [bw, ba], whether clipping was initialised, and the zero points.
  torch::Tensor bits, clip_ready, weight_zero;

  // The linear/conv op on given float weights and inputs (used by fake-quant and float paths).
  torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& w) const;
  // The fake-quantized weights (straight-through gradients), symmetric or asymmetric.
  torch::Tensor fake_quant_weight() const;

 private:
  torch::Tensor fake_quant_input(const torch::Tensor& x) const;
  // Per-channel tensors shaped to broadcast against the weight ([O, 1, ...]).
  torch::Tensor per_channel(const torch::Tensor& t) const;
  torch::Tensor emulated_forward(const torch::Tensor& x);
  torch::Tensor quantized_forward(const torch::Tensor& x);
  // The table, weight codes and scales in emulation form; rebuilt only when a weight, bias, clip,
  // bits, correction or the table has changed since the last call (tensor versions and storage).
  const TableLayer& table_layer();

  int64_t in_channels_, out_channels_;
  ConvGeometry geometry_;
  bool is_linear_, signed_input_;
  bool quantized_ = true;
  bool capture_ = false;
  int64_t macs_per_image_ = 0;
  int64_t last_h_ = 0, last_w_ = 0;  // input size of the last forward
  std::shared_ptr<const ProductTable> multiplier_;
  torch::Tensor correction_;
  std::shared_ptr<const TableLayer> table_layer_;
  std::vector<int64_t> table_layer_key_;
};

// Named quantized layers of a model, in forward order of registration. Names are the module paths
// ("layer1.0.conv1"), stable across save and load.
std::vector<std::pair<std::string, std::shared_ptr<QuantLayer>>> quant_layers(torch::nn::Module& model);

// The layer called `name` among `layers` (from quant_layers). Throws fames::Error
// "<who_names> layer '<name>', which the model does not have" if there is none.
const std::shared_ptr<QuantLayer>& find_quant_layer(
    const std::vector<std::pair<std::string, std::shared_ptr<QuantLayer>>>& layers, const std::string& name,
    const std::string& who_names);

}  // namespace fames::quant
