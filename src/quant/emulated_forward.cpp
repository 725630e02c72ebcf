// QuantLayer::emulated_forward: the layer computed through its ProductTable, bit-exact (emulate/).
// Gradients are straight-through: the backward pass is that of the fake-quant layer (METHOD.md §4),
// written as y = y_fq + (y_table - y_fq).detach() so autograd needs no custom function.
#include "emulate/table_conv.h"
#include "quant/fake_quant.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::quant {
namespace {

torch::Tensor raw_patterns(const torch::Tensor& codes, int bits) {
  return codes.bitwise_and((1 << bits) - 1).to(torch::kUInt8).contiguous();
}

// Raw activation patterns of x in one pass (NCHW): the same arithmetic as quantize_codes (float
// division, clamp, round half to even), then the two's-complement bit pattern. Avoids the
// intermediate float and int32 tensors of the composed LibTorch ops.
torch::Tensor act_patterns(const torch::Tensor& x, const torch::Tensor& step, int bits, bool is_signed) {
  const torch::Tensor input = x.detach().to(torch::kFloat).contiguous();
  torch::Tensor raw = torch::empty(input.sizes(), torch::kUInt8);
  const float s = step.item<float>();
  const float hi = static_cast<float>(max_code(bits, is_signed)), lo = is_signed ? -hi : 0.0f;
  const unsigned mask = (1u << bits) - 1;
  const float* in = input.data_ptr<float>();
  uint8_t* out = raw.data_ptr<uint8_t>();
  at::parallel_for(0, input.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float code = std::min(hi, std::max(lo, std::nearbyint(in[i] / s)));
      out[i] = static_cast<uint8_t>(static_cast<unsigned>(static_cast<int>(code)) & mask);
    }
  });
  return raw;
}

}  // namespace

torch::Tensor QuantLayer::emulated_forward(const torch::Tensor& x) {
  const ProductTable& table = *multiplier_;
  const Signature sig = signature();
  const torch::Tensor act = act_patterns(x, act_step(), sig.ba, sig.signed_a);
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
