// QuantLayer::emulated_forward: the layer computed through its ProductTable, bit-exact (emulate/).
// Gradients are straight-through: the backward pass is that of the fake-quant layer (METHOD.md §4),
// written as y = y_fq + (y_table - y_fq).detach() so autograd needs no custom function.
#include "emulate/table_conv.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::quant {
namespace {

torch::Tensor raw_patterns(const torch::Tensor& codes, int bits) {
  return codes.bitwise_and((1 << bits) - 1).to(torch::kUInt8).contiguous();
}

}  // namespace

torch::Tensor QuantLayer::emulated_forward(const torch::Tensor& x) {
  const ProductTable& table = *multiplier_;
  const Signature sig = signature();
  const torch::Tensor act = raw_patterns(input_codes(x), sig.ba);
  const torch::Tensor wgt = raw_patterns(weight_codes(), sig.bw);
  torch::Tensor sums;
  if (is_linear_) {
    const int64_t batch = x.size(0);
    sums = torch::empty({batch, out_channels_}, torch::kInt32);
    table_linear(batch, in_channels_, out_channels_, act.data_ptr<uint8_t>(), wgt.data_ptr<uint8_t>(), table,
                 sums.data_ptr<int32_t>());
  } else {
    ConvShape shape;
    shape.n = x.size(0);
    shape.c = x.size(1);
    shape.h = x.size(2);
    shape.w = x.size(3);
    shape.o = out_channels_;
    shape.kh = shape.kw = geometry_.kernel;
    shape.stride_h = shape.stride_w = static_cast<int>(geometry_.stride);
    shape.pad_h = shape.pad_w = static_cast<int>(geometry_.padding);
    shape.groups = static_cast<int>(geometry_.groups);
    sums = torch::empty({shape.n, shape.o, shape.out_h(), shape.out_w()}, torch::kInt32);
    table_conv2d(shape, act.data_ptr<uint8_t>(), wgt.data_ptr<uint8_t>(), table, sums.data_ptr<int32_t>());
  }
  std::vector<int64_t> channel_shape(sums.dim(), 1);
  channel_shape[1] = out_channels_;
  const torch::Tensor scale = (weight_step() * act_step()).detach().view(channel_shape);
  torch::Tensor y = sums.to(torch::kFloat) * scale;
  if (bias.defined()) y = y + bias.detach().view(channel_shape);
  if (correction_.defined()) y = y - correction_.view(channel_shape);
  if (!torch::GradMode::is_enabled()) return y;
  const torch::Tensor y_fq = apply(fake_quant_input(x), fake_quant_weight());
  return y_fq + (y - y_fq).detach();
}

}  // namespace fames::quant
