// Uniform quantizers with learnable clipping (METHOD.md §1, §4).
//
// Weights: signed codes in [-(2^(bw-1)-1), 2^(bw-1)-1], per-output-channel clip beta_o,
//   step s_w(o) = beta_o / (2^(bw-1)-1).
// Activations: unsigned codes in [0, 2^ba-1], step s_a = alpha / (2^ba-1); or, for a layer whose
//   input can be negative, signed codes in [-(2^(ba-1)-1), 2^(ba-1)-1], s_a = alpha / (2^(ba-1)-1).
// Asymmetric weights (the *_zero functions): unsigned codes q in [0, 2^bw-1] with an integer zero
//   point z(o) per output channel, standing for s_w(o) * (q - z(o)) (TFLite's convention), where
//   s_w(o) = range_o / (2^bw-1).
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

// Asymmetric codes (as float tensor holding whole numbers): clamp(round(x / step) + zero, 0, 2^bits-1).
// `zero` broadcasts like `step` and holds whole numbers in 0 .. 2^bits-1.
torch::Tensor quantize_codes_zero(const torch::Tensor& x, const torch::Tensor& step, const torch::Tensor& zero,
                                  int bits);

// Straight-through asymmetric fake quantization: step * (q - zero), q as quantize_codes_zero with a
// rounding that is the identity in the backward pass (gradients reach x inside the range and step).
torch::Tensor fake_quantize_zero(const torch::Tensor& x, const torch::Tensor& step, const torch::Tensor& zero,
                                 int bits);

// Range and zero point of asymmetric codes from the min/max of each row of `rows` [R, n], the range
// widened to hold 0 (so that 0 is a code): range = max(hi, 0) - min(lo, 0) (at least 1e-8) and
// zero = clamp(round(-min(lo, 0) / step), 0, 2^bits-1), step = range / (2^bits-1). Both [R]; zero int32.
std::pair<torch::Tensor, torch::Tensor> minmax_range_and_zero(const torch::Tensor& rows, int bits);

}  // namespace fames::quant
