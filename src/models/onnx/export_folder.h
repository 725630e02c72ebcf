// `fames export`'s output folder: the QDQ ONNX model and, with an assignment, what a hardware flow
// needs to build the approximate design (docs/onnx.md, "Export"; docs/formats.md).
//
//   OUT/model.onnx        the quantized model as QDQ ONNX (qdq_export.h)
//   OUT/verilog/<m>.v     with an assignment: each chosen AppMul m's circuit (appmul/io/verilog.h),
//                         module name m; AppMuls that came from tables have no circuit (manifest)
//   OUT/manifest.json     with an assignment: {"format": "fames-export", "model", "library",
//                         "layers": [{layer, appmul, signature, bw, ba, signed_a, macs (per image),
//                         energy_fj (per multiplication), energy_fj_per_image, exact, er, med, nmed,
//                         mred, wce, mse, bias, verilog (path in OUT or null)}], "energy_fj_per_image"}
//                         Layers the assignment leaves out use their exact multiplier ("appmul" null).
//
// The folder is built beside OUT under a temporary name and renamed to OUT when complete; an
// existing OUT is replaced only if it holds a previous export (model.onnx), else fames::Error.
// Errors name the flag or file: an assignment naming a layer the model lacks or an AppMul the
// library lacks, an AppMul whose signature is not its layer's, and qdq_export.h's errors.
#pragma once
#include <torch/torch.h>

#include <optional>
#include <string>

#include "core/assignment.h"
#include "models/zoo.h"

namespace fames::models::onnx {

struct ExportRequest {
  std::string model_path;               // for the manifest and messages
  std::optional<Assignment> assignment;  // none: model.onnx only
  std::string library;                  // AppMul library folder of the assignment
  std::string out;
};

// Returns the manifest written (an empty object without an assignment).
nlohmann::json write_export_folder(torch::nn::Module& model, const ModelSpec& spec, const ExportRequest& request);

}  // namespace fames::models::onnx
