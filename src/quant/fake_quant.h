// Uniform symmetric quantizers with learnable clipping (METHOD.md §1, §4).
//
// Weights: signed codes in [-(2^(bw-1)-1), 2^(bw-1)-1], per-output-channel clip beta_o,
//   step s_w(o) = beta_o / (2^(bw-1)-1).
// Activations: unsigned codes in [0, 2^ba-1], step s_a = alpha / (2^ba-1); or, for a layer whose
//   input can be negative, signed codes in [-(2^(ba-1)-1), 2^(ba-1)-1], s_a = alpha / (2^(ba-1)-1).
// Fake quantization returns code * step with straight-through rounding, so autograd yields the
// LSQ/PACT gradients for the input and for the clip parameter.
#pragma once
#include <torch/torch.h>

namespace fames::quant {

// Largest code magnitude for `bits`: 2^(bits-1)-1 signed, 2^bits-1 unsigned.
inline int max_code(int bits, bool is_signed) { return is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1; }

// Integer codes (as float tensor holding whole numbers): clamp(round(x / step), lo, hi).
// `step` broadcasts against x (scalar, or [O,1,1,1] per channel).
torch::Tensor quantize_codes(const torch::Tensor& x, const torch::Tensor& step, int bits, bool is_signed);

// Straight-through fake quantization: step * round_ste(clamp(x / step, lo, hi)).
torch::Tensor fake_quantize(const torch::Tensor& x, const torch::Tensor& step, int bits, bool is_signed);

}  // namespace fames::quant
