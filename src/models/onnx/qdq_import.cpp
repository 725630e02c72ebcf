#include "models/onnx/qdq_import.h"

#include <cmath>
#include <limits>

#include "quant/fake_quant.h"
#include "util/error.h"

namespace fames::models::onnx::detail {
namespace {

// The smallest bit width 2..8 whose codes (signed: +-(2^(b-1)-1); unsigned: 0..2^b-1) reach `hi`.
int bits_for(int64_t hi, bool is_signed) {
  for (int b = 2; b < 8; ++b)
    if (hi <= quant::max_code(b, is_signed)) return b;
  return 8;
}

bool all_zero(const torch::Tensor& t) { return !t.defined() || t.numel() == 0 || t.count_nonzero().item<int64_t>() == 0; }

// The constant bounds of a Clip node (inputs from opset 11, attributes before); NaN where absent.
std::pair<double, double> clip_bounds(const Node& clip, const ConstantOf& constant_of, int64_t opset) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (opset < 11) return {clip.attr_float("min", nan), clip.attr_float("max", nan)};
  auto bound = [&](size_t i) {
    if (clip.input(i).empty()) return nan;
    const torch::Tensor t = constant_of(clip.input(i));
    return t.defined() && t.numel() == 1 ? t.to(torch::kDouble).item<double>() : nan;
  };
  return {bound(1), bound(2)};
}

// Checks Q and DQ agree and returns the scale and zero point.
std::pair<torch::Tensor, torch::Tensor> quantizer_params(const Node& q, const Node& dq, const ConstantOf& constant_of,
                                                         const std::string& where) {
  const torch::Tensor scale = constant_of(q.input(1)), zp = q.input(2).empty() ? torch::zeros({}, torch::kByte) : constant_of(q.input(2));
  const torch::Tensor dq_scale = constant_of(dq.input(1)), dq_zp = dq.input(2).empty() ? torch::zeros({}, torch::kByte) : constant_of(dq.input(2));
  if (!scale.defined() || !zp.defined() || !dq_scale.defined() || !dq_zp.defined())
    fail("{}: {} has a scale or zero point computed in the graph; fames needs them stored", where, q.describe());
  if (scale.numel() != 1) fail("{}: {} has per-channel activation scales, which fames does not support (one scale per tensor)", where, q.describe());
  if (dq_scale.numel() != 1 || dq_scale.to(torch::kFloat).item<float>() != scale.to(torch::kFloat).item<float>() ||
      dq_zp.scalar_type() != zp.scalar_type() || dq_zp.numel() != 1 || dq_zp.to(torch::kLong).item<int64_t>() != zp.to(torch::kLong).item<int64_t>())
    fail("{}: {} dequantizes with another scale or zero point than {} quantized with", where, dq.describe(), q.describe());
  if (!all_zero(zp))
    fail("{}: {} has activation zero point {}; fames imports zero point 0 only (uint8 after ReLU, or int8)", where,
         q.describe(), zp.to(torch::kLong).item<int64_t>());
  if (zp.scalar_type() != torch::kByte && zp.scalar_type() != torch::kChar)
    fail("{}: {} quantizes to {}; fames imports uint8 and int8", where, q.describe(), c10::toString(zp.scalar_type()));
  return {scale.to(torch::kFloat).reshape({}), zp};
}

}  // namespace

WeightQuant weight_quant(const Node& dq, const torch::Tensor& codes, const torch::Tensor& scale,
                         const torch::Tensor& zero_point, int64_t out_axis, const std::string& where) {
  if (codes.scalar_type() != torch::kChar && codes.scalar_type() != torch::kByte)
    fail("{}: {} dequantizes {} weights; fames imports int8 and uint8", where, dq.describe(), c10::toString(codes.scalar_type()));
  const bool asymmetric = codes.scalar_type() == torch::kByte || !all_zero(zero_point);
  if (!asymmetric && codes.numel() > 0 && codes.min().item<int>() == -128)
    fail("{}: {} has weight code -128, outside fames's symmetric range -127..127 (quantize weights with a narrow "
         "range, e.g. quant_min=-127)", where, dq.describe());
  const int64_t outputs = codes.size(out_axis);
  WeightQuant w;
  if (scale.numel() == 1) {
    w.step = scale.to(torch::kFloat).reshape({1}).expand({outputs}).contiguous();
  } else {
    const int64_t axis = dq.attr_int("axis", 1) < 0 ? dq.attr_int("axis", 1) + codes.dim() : dq.attr_int("axis", 1);
    if (axis != out_axis || scale.numel() != outputs)
      fail("{}: {} has per-channel weight scales along axis {}, but the layer's outputs are axis {}; fames needs one scale "
           "per output channel", where, dq.describe(), axis, out_axis);
    w.step = scale.to(torch::kFloat).reshape({-1}).contiguous();
  }
  if ((w.step <= 0).any().item<bool>()) fail("{}: {} has a scale that is not positive", where, dq.describe());
  if (!asymmetric) {
    w.bits = bits_for(codes.numel() ? codes.abs().max().item<int64_t>() : 1, true);
    return w;
  }
  // Unsigned-weight layers (w<b>u): int8 codes and zero points move up by 128 to the same values.
  const int64_t shift = codes.scalar_type() == torch::kChar ? 128 : 0;
  const torch::Tensor zero = (zero_point.defined() && zero_point.numel() > 0 ? zero_point : torch::zeros({1}))
                                 .to(torch::kLong).reshape({-1}) + shift;
  if (zero.numel() != 1 && zero.numel() != outputs)
    fail("{}: {} has {} weight zero points for {} output channels", where, dq.describe(), zero.numel(), outputs);
  w.zero = zero.expand({outputs}).contiguous();
  const int64_t hi = std::max(codes.numel() ? codes.to(torch::kLong).max().item<int64_t>() + shift : 0,
                              w.zero.max().item<int64_t>());
  w.bits = bits_for(std::max<int64_t>(hi, 1), false);
  return w;
}

std::optional<ActQuant> act_quant(const std::string& value, const NodeOf& node_of, const ConstantOf& constant_of,
                                  int64_t opset, const std::string& where) {
  const Node* dq = node_of(value);
  if (!dq || dq->op != "DequantizeLinear") return std::nullopt;
  const Node* q = node_of(dq->input(0));
  const Node* code_clip = q && q->op == "Clip" ? q : nullptr;  // PyTorch clips the codes between Q and DQ
  if (code_clip) q = node_of(code_clip->input(0));
  if (!q || q->op != "QuantizeLinear")
    fail("{}: {} dequantizes '{}', which no QuantizeLinear computes; fames imports QuantizeLinear -> DequantizeLinear "
         "pairs on layer inputs", where, dq->describe(), dq->input(0));
  const auto [scale, zp] = quantizer_params(*q, *dq, constant_of, where);
  ActQuant a{scale, zp.scalar_type() == torch::kChar, 8, q->input(0)};
  int64_t lo = a.is_signed ? -128 : 0, hi = a.is_signed ? 127 : 255;
  const Node* clip = node_of(q->input(0));
  std::pair<double, double> bounds{std::nan(""), std::nan("")};
  if (clip && clip->op == "Clip") bounds = clip_bounds(*clip, constant_of, opset);
  const double s = scale.item<float>();
  if (!std::isnan(bounds.first)) lo = std::max<int64_t>(lo, std::llround(std::nearbyint(bounds.first / s)));
  if (!std::isnan(bounds.second)) hi = std::min<int64_t>(hi, std::llround(std::nearbyint(bounds.second / s)));
  if (code_clip) {
    const auto [code_lo, code_hi] = clip_bounds(*code_clip, constant_of, opset);
    if (!std::isnan(code_lo)) lo = std::max<int64_t>(lo, std::llround(code_lo));
    if (!std::isnan(code_hi)) hi = std::min<int64_t>(hi, std::llround(code_hi));
  }
  a.bits = bits_for(a.is_signed ? std::max(hi, -lo) : hi, a.is_signed);
  const int64_t m = quant::max_code(a.bits, a.is_signed);
  const bool clip_restates_range = hi == m && lo == (a.is_signed ? -m : 0);
  if (code_clip && !clip_restates_range)
    fail("{}: {} clips the codes to {}..{}, which is no fames code range (0..2^b-1 or +-(2^(b-1)-1)); clip the "
         "quantizer's input instead", where, code_clip->describe(), lo, hi);
  if (clip && clip->op == "Clip" && clip_restates_range) a.source = clip->input(0);
  return a;
}

torch::Tensor clip_for_step(const torch::Tensor& step, int max_code) {
  auto step_of = [max_code](const torch::Tensor& clip) { return clip.abs().clamp_min(1e-8) / max_code; };
  torch::Tensor best = step * max_code;
  torch::Tensor found = step_of(best) == step;
  torch::Tensor up = best.clone(), down = best.clone();
  const torch::Tensor inf = torch::full_like(best, std::numeric_limits<float>::infinity());
  for (int i = 0; i < 8; ++i) {  // the exact clip, where one exists, lies within an ulp or two
    up = torch::nextafter(up, inf);
    down = torch::nextafter(down, torch::zeros_like(down));
    for (const torch::Tensor& candidate : {up, down}) {
      const torch::Tensor ok = ~found & (step_of(candidate) == step);
      best = torch::where(ok, candidate, best);
      found = found | ok;
    }
  }
  return best;
}

}  // namespace fames::models::onnx::detail
