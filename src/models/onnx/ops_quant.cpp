// The ONNX quantization operators, as the specification defines them (opsets 10-17):
// QuantizeLinear  y = saturate(round_half_to_even(x / scale) + zero_point), uint8 unless the zero
//                 point says int8;
// DequantizeLinear y = (x - zero_point) * scale, float32.
// Scale and zero point are scalars (per tensor) or 1-D along `axis` (per channel, opset 13).
#include "models/onnx/ops.h"
#include "models/onnx/ops_table.h"
#include "util/error.h"

namespace fames::models::onnx {
namespace {

using Tensors = std::vector<torch::Tensor>;

// `param` shaped to broadcast against x: as is when per tensor, else along `axis`.
torch::Tensor along_axis(const OpCall& c, const torch::Tensor& param, const torch::Tensor& x) {
  if (param.numel() == 1 && param.dim() <= 1) return param.reshape({});
  if (param.dim() != 1) fail("{} has a {}-D scale or zero point; ONNX allows 0-D or 1-D", c.node.describe(), param.dim());
  const int64_t axis = normalize_axis(c.node.attr_int("axis", 1), x.dim(), c.node);
  if (x.size(axis) != param.numel())
    fail("{} has {} scales for axis {} of size {}", c.node.describe(), param.numel(), axis, x.size(axis));
  std::vector<int64_t> shape(x.dim(), 1);
  shape[axis] = param.numel();
  return param.reshape(shape);
}

Tensors quantize_linear(const OpCall& c) {
  const torch::Tensor x = c.in(0).to(torch::kFloat);
  const torch::Tensor zp = c.in(2).defined() ? c.in(2) : torch::zeros({}, torch::kByte);
  if (zp.scalar_type() != torch::kByte && zp.scalar_type() != torch::kChar)
    fail("{} quantizes to {}, which is not supported (only uint8 and int8)", c.node.describe(), c10::toString(zp.scalar_type()));
  const bool is_signed = zp.scalar_type() == torch::kChar;
  const torch::Tensor scale = along_axis(c, c.in(1).to(torch::kFloat), x);
  const torch::Tensor shift = along_axis(c, zp.to(torch::kFloat), x);
  const torch::Tensor q = torch::round(x / scale) + shift;
  return {q.clamp(is_signed ? -128 : 0, is_signed ? 127 : 255).to(zp.scalar_type())};
}

Tensors dequantize_linear(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  const torch::Tensor zp = c.in(2).defined() ? c.in(2).to(torch::kFloat) : torch::zeros({});
  const torch::Tensor scale = along_axis(c, c.in(1).to(torch::kFloat), x);
  return {(x.to(torch::kFloat) - along_axis(c, zp, x)) * scale};
}

}  // namespace

void add_quant_ops(OpTable& table) {
  table["QuantizeLinear"] = quantize_linear;
  table["DequantizeLinear"] = dequantize_linear;
}

}  // namespace fames::models::onnx
