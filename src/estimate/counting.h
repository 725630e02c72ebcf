// Weighted counting matrices (METHOD.md §2).
//
// For a quantized layer with output gradient u (one vector per sample), the weighted counting
// matrix of sample x is
//     G(x)[w][a] = sum_o u_o(x) s_w(o) s_a C_o(x)[w][a],
// where C_o(x)[w][a] counts the multiplications of output o with weight pattern w and activation
// pattern a (padding counts as activation 0). Then the first-order output change of using a
// multiplier with error matrix E is <G(x), E> (in loss units when u = dL/dY).
//
// Computed per sample without enumerating multiplications: for every weight pattern w, the input
// gradient of <u, conv(x, s_w s_a [W == w])> (one transposed convolution for all w at once) says how
// much each input pixel contributes through taps whose weight is w; summing those contributions by
// the pixel's activation pattern (scatter-add) gives row w of G.
#pragma once
#include <torch/torch.h>

#include "quant/quant_layer.h"

namespace fames::estimate {

// input: the layer's float input batch [N, ...] (as captured); grad_output: u, shaped like the
// layer's output [N, O, H', W'] or [N, O]. Returns G as float [N, 2^bw * 2^ba], indexed
// w_raw * 2^ba + a_raw (the ProductTable layout). REQUIRES groups == 1 (fames::Error otherwise).
torch::Tensor weighted_counting(const quant::QuantLayer& layer, const torch::Tensor& input,
                                const torch::Tensor& grad_output);

// Plain reference: enumerates every multiplication (slow; tests only).
torch::Tensor weighted_counting_ref(const quant::QuantLayer& layer, const torch::Tensor& input,
                                    const torch::Tensor& grad_output);

}  // namespace fames::estimate
