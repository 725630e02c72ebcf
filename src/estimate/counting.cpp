#include "estimate/counting.h"

#include "util/error.h"

namespace fames::estimate {
namespace {

// Raw activation patterns of the input, zero-padded like the convolution pads it, as int64.
torch::Tensor padded_act_patterns(const quant::QuantLayer& layer, const torch::Tensor& input) {
  const int ba = layer.act_bits();
  torch::Tensor raw = layer.input_codes(input).bitwise_and((1 << ba) - 1).to(torch::kInt64);
  if (layer.is_linear()) return raw;
  const int64_t p = layer.geometry().padding;
  return torch::constant_pad_nd(raw, {p, p, p, p}, 0);
}

// [O, 2^bw, rest...] one-hot of the raw weight patterns times s_w(o) * s_a.
torch::Tensor scaled_weight_masks(const quant::QuantLayer& layer) {
  const int bw = layer.weight_bits();
  const torch::Tensor raw = layer.weight_codes().bitwise_and((1 << bw) - 1).to(torch::kInt64);
  torch::Tensor onehot = torch::one_hot(raw, int64_t{1} << bw).to(torch::kFloat);  // [O, ..., Sw]
  onehot = onehot.movedim(-1, 1);                                                  // [O, Sw, ...]
  std::vector<int64_t> shape(onehot.dim(), 1);
  shape[0] = layer.out_channels();
  const torch::Tensor scale = (layer.weight_step() * layer.act_step()).detach().view(shape);
  return onehot * scale;
}

}  // namespace

torch::Tensor weighted_counting(const quant::QuantLayer& layer, const torch::Tensor& input,
                                const torch::Tensor& grad_output) {
  torch::NoGradGuard no_grad;
  if (layer.geometry().groups != 1) fail("estimation supports ungrouped layers only");
  const int64_t sw = int64_t{1} << layer.weight_bits(), sa = int64_t{1} << layer.act_bits();
  const int64_t n = input.size(0);
  const torch::Tensor acts = padded_act_patterns(layer, input);
  const torch::Tensor masks = scaled_weight_masks(layer);  // [O, Sw, C(, k, k)]
  const torch::Tensor u = grad_output.detach().to(torch::kFloat).contiguous();
  torch::Tensor contributions;  // [N, Sw, C(, Hc, Wc)]: input-pixel contributions per weight pattern
  torch::Tensor patterns;       // [N, 1, C(, Hc, Wc)]
  if (layer.is_linear()) {
    contributions = torch::matmul(u, masks.reshape({layer.out_channels(), -1})).view({n, sw, -1});
    patterns = acts.view({n, 1, -1});
  } else {
    const int64_t c = layer.in_channels(), k = layer.geometry().kernel, s = layer.geometry().stride;
    const torch::Tensor weight = masks.reshape({layer.out_channels(), sw * c, k, k});
    contributions = torch::conv_transpose2d(u, weight, {}, s);  // [N, Sw*C, Hc, Wc]
    const int64_t hc = contributions.size(2), wc = contributions.size(3);
    contributions = contributions.view({n, sw, c, hc, wc});
    // Rows/columns of the padded input that no tap reaches (stride remainder) contribute nothing.
    patterns = acts.slice(2, 0, hc).slice(3, 0, wc).unsqueeze(1);
  }
  const torch::Tensor index =
      (torch::arange(sw, torch::kInt64).view({1, sw, 1}) * sa + patterns.reshape({n, 1, -1})).reshape({n, -1});
  torch::Tensor g = torch::zeros({n, sw * sa});
  g.scatter_add_(1, index, contributions.reshape({n, -1}));
  return g;
}

torch::Tensor weighted_counting_ref(const quant::QuantLayer& layer, const torch::Tensor& input,
                                    const torch::Tensor& grad_output) {
  torch::NoGradGuard no_grad;
  const int64_t sa = int64_t{1} << layer.act_bits();
  const torch::Tensor acts = padded_act_patterns(layer, input);
  const torch::Tensor wraw =
      layer.weight_codes().bitwise_and((1 << layer.weight_bits()) - 1).to(torch::kInt64);
  const torch::Tensor scale = (layer.weight_step() * layer.act_step()).to(torch::kDouble);
  const int64_t n = input.size(0), o_count = layer.out_channels();
  torch::Tensor g = torch::zeros({n, (int64_t{1} << layer.weight_bits()) * sa}, torch::kDouble);
  auto ga = g.accessor<double, 2>();
  auto sc = scale.accessor<double, 1>();
  const torch::Tensor u = grad_output.to(torch::kDouble).contiguous();
  if (layer.is_linear()) {
    auto a = acts.accessor<int64_t, 2>();
    auto w = wraw.accessor<int64_t, 2>();
    auto ua = u.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t o = 0; o < o_count; ++o)
        for (int64_t j = 0; j < layer.in_channels(); ++j) ga[i][w[o][j] * sa + a[i][j]] += ua[i][o] * sc[o];
    return g.to(torch::kFloat);
  }
  auto a = acts.accessor<int64_t, 4>();
  auto w = wraw.accessor<int64_t, 4>();
  auto ua = u.accessor<double, 4>();
  const int64_t k = layer.geometry().kernel, s = layer.geometry().stride;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < o_count; ++o)
      for (int64_t y = 0; y < u.size(2); ++y)
        for (int64_t x = 0; x < u.size(3); ++x)
          for (int64_t c = 0; c < layer.in_channels(); ++c)
            for (int64_t ky = 0; ky < k; ++ky)
              for (int64_t kx = 0; kx < k; ++kx)
                ga[i][w[o][c][ky][kx] * sa + a[i][c][y * s + ky][x * s + kx]] += ua[i][o][y][x] * sc[o];
  return g.to(torch::kFloat);
}

}  // namespace fames::estimate
