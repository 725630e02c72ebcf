// Private to src/models/onnx (the importer): reading QDQ quantizers (QuantizeLinear /
// DequantizeLinear) as fames quantization parameters. docs/onnx.md, "QDQ import".
//
// - A weight is a DequantizeLinear of constant int8 codes with zero point 0, per tensor or per
//   output channel; its bit width is the smallest that holds its codes (fames's symmetric codes
//   +-(2^(b-1)-1)), unless the file's "fames.bits" metadata names a wider one. Refused, naming the
//   node: uint8 codes or a non-zero zero point (asymmetric weights need unsigned-weight layers),
//   code -128 (outside fames's symmetric range), scales along another axis than the outputs.
// - An activation is QuantizeLinear -> DequantizeLinear with one scale and zero point 0 (uint8:
//   unsigned codes, int8: signed), optionally after a Clip with constant bounds, which narrows the
//   code range and so the bit width. The layer then reads the Clip's input when the Clip only
//   restates its code range, else the Clip's output. A Clip of the codes between Q and DQ (as
//   PyTorch exports quant_max 127) narrows the range too, and must be a fames code range.
//   Refused, naming the node: per-channel activation scales, non-zero activation zero points, Q
//   and DQ that disagree, a DQ of a value no QuantizeLinear made, other code Clips.
// - The importer (onnx_import.cpp) refuses a model in which some layers are QDQ and others float. An int8 code -128 (no Clip) becomes -127 in fames (docs/onnx.md).
#pragma once
#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>

#include "models/onnx/graph.h"

namespace fames::models::onnx::detail {

struct WeightQuant {
  torch::Tensor step;  // [out] per output channel, float32
  int bits = 8;
  torch::Tensor zero;  // asymmetric (uint8, or int8 with a zero point): [out] zero points of the
                       // unsigned codes (int8 codes shifted by 128); undefined for symmetric weights
};

struct ActQuant {
  torch::Tensor step;  // 0-D float32
  bool is_signed = false;
  int bits = 8;
  std::string source;  // the value the layer quantizes
};

// `codes`, `scale`, `zero_point` are the DequantizeLinear's constant inputs (zero_point may be
// undefined); `out_axis` the axis of the dequantized weight that holds the layer's outputs.
// `where` prefixes messages ("'file.onnx'").
WeightQuant weight_quant(const Node& dq, const torch::Tensor& codes, const torch::Tensor& scale,
                         const torch::Tensor& zero_point, int64_t out_axis, const std::string& where);

// Looks up the node that computes a value (nullptr if none) and a constant (undefined if not one).
using NodeOf = std::function<const Node*(const std::string&)>;
using ConstantOf = std::function<torch::Tensor(const std::string&)>;

// The activation quantizer whose DequantizeLinear computes `value`, or nothing when `value` does
// not come from a DequantizeLinear.
std::optional<ActQuant> act_quant(const std::string& value, const NodeOf& node_of, const ConstantOf& constant_of,
                                  int64_t opset, const std::string& where);

// Clipping values whose fames step (|clip| / max_code, in float32 as quant::QuantLayer computes
// it) equals `step` exactly where such a float exists, so that imported scales are bit-exact.
torch::Tensor clip_for_step(const torch::Tensor& step, int max_code);

}  // namespace fames::models::onnx::detail
