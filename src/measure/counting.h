// Weighted counting matrices (METHOD.md §2).
//
// For a quantized layer with output gradient u (one vector per sample), the weighted counting
// matrix of sample x is
//     G(x)[w][a] = sum_o u_o(x) s_w(o) s_a C_o(x)[w][a],
// where C_o(x)[w][a] counts the multiplications of output o with weight pattern w and activation
// pattern a (padding counts as activation 0). Then the first-order output change of using a
// multiplier with error matrix E is <G(x), E> (in loss units when u = dL/dY).
//
// Two fast ways to compute G, chosen per layer by a rule fitted to measurements
// (bench/estimate_counting_torch_bench): "scatter" walks every multiplication with a nonzero
// activation once, tap by tap, adding the gradients of all output channels into a small [activation
// pattern x channel] buffer and then into G by weight pattern (about MACs x nonzero share work,
// independent of the bit widths); "conv" runs one transposed convolution for all weight patterns at
// once (2^bw x MACs dense FLOPs) and scatter-adds the input-pixel contributions by activation
// pattern; it wins only for 2-bit weights on wide layers.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "quant/quant_layer.h"

namespace fames::measure {

enum class CountingMethod { kAuto, kScatter, kConv };

// input: the layer's float input batch [N, ...] (as captured); grad_outputs: V weightings u, each
// shaped like the layer's output [N, O, H', W'] or [N, O]. Returns G as float [V, N, 2^bw * 2^ba],
// indexed w_raw * 2^ba + a_raw (the ProductTable layout). With `tap_hist`, also stores there what
// tap_histogram(layer, input) returns (the scatter walk counts it on the way). REQUIRES groups == 1
// (fames::Error otherwise) and V >= 1.
torch::Tensor weighted_counting(const quant::QuantLayer& layer, const torch::Tensor& input,
                                const std::vector<torch::Tensor>& grad_outputs,
                                CountingMethod method = CountingMethod::kAuto, torch::Tensor* tap_hist = nullptr);

// One weighting: returns float [N, 2^bw * 2^ba].
torch::Tensor weighted_counting(const quant::QuantLayer& layer, const torch::Tensor& input,
                                const torch::Tensor& grad_output,
                                CountingMethod method = CountingMethod::kAuto);

// Plain reference: enumerates every multiplication (slow; tests only). Returns [N, T].
torch::Tensor weighted_counting_ref(const quant::QuantLayer& layer, const torch::Tensor& input,
                                    const torch::Tensor& grad_output);

// Histogram of the activation patterns each weight tap sees: int64 [J, 2^ba] with J = C*k*k taps
// (index c*k*k + ky*k + kx, the weight layout; J = C for linear layers), counted over the batch and
// every output position (padding counts as pattern 0). Row sums are N * output positions.
torch::Tensor tap_histogram(const quant::QuantLayer& layer, const torch::Tensor& input);

// The mean counting matrix of every output channel, scaled: B [O, 2^bw * 2^ba] double with
//     B_o[w][a] = s_w(o) s_a / (images * P) * sum_{taps j : W_oj = w} hist_j[a]
// (P = output positions per image), so that B e (e = vec(E)) is the mean output error of channel o
// over those images and positions. `hist` is tap_histogram summed over the images (the row sums give
// images * P). Throws fames::Error if `hist` does not fit the layer or is empty.
torch::Tensor mean_counting(const quant::QuantLayer& layer, const torch::Tensor& hist);

// How many multiplications of the layer had each (weight pattern, activation pattern) pair over
// the images `hist` (tap_histogram, summed over them) was counted on: double [2^bw * 2^ba] in
// ProductTable layout, counts[w][a] = sum over taps j of #{o : W_oj = w} * hist_j[a] (padding counts
// as pattern 0). REQUIRES groups == 1; throws fames::Error if `hist` does not fit the layer.
torch::Tensor pair_counts(const quant::QuantLayer& layer, const torch::Tensor& hist);

}  // namespace fames::measure
