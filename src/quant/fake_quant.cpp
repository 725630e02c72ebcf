#include "quant/fake_quant.h"

namespace fames::quant {

torch::Tensor quantize_codes(const torch::Tensor& x, const torch::Tensor& step, int bits, bool is_signed) {
  const double hi = max_code(bits, is_signed);
  const double lo = is_signed ? -hi : 0.0;
  return torch::clamp(torch::round(x / step), lo, hi);
}

torch::Tensor fake_quantize(const torch::Tensor& x, const torch::Tensor& step, int bits, bool is_signed) {
  const double hi = max_code(bits, is_signed);
  const double lo = is_signed ? -hi : 0.0;
  const torch::Tensor scaled = torch::clamp(x / step, lo, hi);
  // Round in the forward pass, identity in the backward pass.
  const torch::Tensor rounded = scaled + (torch::round(scaled) - scaled).detach();
  return rounded * step;
}

torch::Tensor quantize_codes_zero(const torch::Tensor& x, const torch::Tensor& step, const torch::Tensor& zero,
                                  int bits) {
  return torch::clamp(torch::round(x / step) + zero, 0.0, max_code(bits, false));
}

torch::Tensor fake_quantize_zero(const torch::Tensor& x, const torch::Tensor& step, const torch::Tensor& zero,
                                 int bits) {
  const torch::Tensor scaled = x / step;
  // Round first and add the integer zero point after: round-half-even is not shift invariant, so
  // this order is the one quantize_codes_zero (and so the integer path) uses.
  const torch::Tensor rounded = scaled + (torch::round(scaled) - scaled).detach();
  const torch::Tensor zero_f = zero.to(x.scalar_type());
  return (torch::clamp(rounded + zero_f, 0.0, max_code(bits, false)) - zero_f) * step;
}

std::pair<torch::Tensor, torch::Tensor> minmax_range_and_zero(const torch::Tensor& rows, int bits) {
  torch::NoGradGuard no_grad;
  const torch::Tensor lo = rows.amin(1).clamp_max(0.0), hi = rows.amax(1).clamp_min(0.0);
  const torch::Tensor range = (hi - lo).clamp_min(1e-8);
  const double levels = max_code(bits, false);
  const torch::Tensor zero = torch::clamp(torch::round(-lo / (range / levels)), 0.0, levels);
  return {range, zero.to(torch::kInt32)};
}

}  // namespace fames::quant
