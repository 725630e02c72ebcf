// Writing a quantized fames network as a QDQ ONNX model (docs/onnx.md, "Export").
//
// Each quantized layer L (module path P) becomes, in opset max(13, the graph's):
//   weight  P.weight_quantized (int8 codes, L.weight_codes()) -> DequantizeLinear(P.weight_scale
//           [out] = L.weight_step(), P.weight_zero_point int8 zeros, axis 0; axis 1 for a MatMul's
//           [in, out] weight) -> P.weight
//   input   x -> [Clip(x, lo*s, hi*s)] -> QuantizeLinear(P.input_scale = L.act_step(),
//           P.input_zero_point 0: uint8 for unsigned codes, int8 for signed) -> DequantizeLinear
//           -> Conv / Gemm (transB 1) / MatMul with P.weight and the float bias P.bias.
//   The Clip holds the codes to fames's range [lo, hi] = [0, 2^ba-1] or [-(2^(ba-1)-1),
//   2^(ba-1)-1] where that is narrower than the 8-bit type's (every signed input; unsigned ones
//   below 8 bits). Weight bit widths below 8 show only in the codes' range, so the metadata entry
//   "fames.bits" holds {P: [bw, ba]} for the importer.
// Everything else is float ONNX (network_graph.h). The model's outputs are the network's logits.
//
// Errors (fames::Error, naming `path`): a layer that is not quantized (a float checkpoint) or has
// no clipping values yet, an imported graph below opset 13 (its operators would change meaning),
// and network_graph's errors. The file is written atomically.
#pragma once
#include <torch/torch.h>

#include <string>

#include "models/zoo.h"

namespace fames::models::onnx {

// The metadata_props key of the per-layer bit widths.
inline constexpr const char* kBitsMetadataKey = "fames.bits";

void write_qdq_onnx(torch::nn::Module& model, const ModelSpec& spec, const std::string& path);

}  // namespace fames::models::onnx
