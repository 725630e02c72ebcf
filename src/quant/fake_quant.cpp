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

}  // namespace fames::quant
