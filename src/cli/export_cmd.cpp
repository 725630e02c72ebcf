// fames export: a quantized model as QDQ ONNX, with its assignment's AppMuls as Verilog and a
// manifest (models/onnx/export_folder.h).
#include <fmt/core.h>

#include "cli/command.h"
#include "cli/common.h"
#include "models/checkpoint.h"
#include "models/onnx/export_folder.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::cli {
namespace {

struct ExportArgs {
  std::string model, assign, library, out;
  bool json = false;
};

void run_export(const ExportArgs& args) {
  auto loaded = models::load_model(args.model);
  if (!loaded.meta.value("quantized", false))
    fail("--model '{}' is a float checkpoint; export takes a quantized one (from `fames quantize` or a QDQ import)", args.model);
  models::onnx::ExportRequest request{args.model, std::nullopt, args.library, args.out};
  if (const std::string assign = assignment_for(args.model, loaded.meta, args.assign, "exporting");
      !assign.empty()) {
    request.assignment = Assignment::load(assign);
    if (request.library.empty()) request.library = request.assignment->library;
  } else if (!args.library.empty()) {
    fail("--lib needs --assign: it is the library of the assignment");
  }
  const nlohmann::json manifest = models::onnx::write_export_folder(*loaded.module, loaded.spec, request);
  if (args.json) return print_json({{"out", args.out}, {"manifest", manifest}});
  fmt::print("wrote {}/model.onnx (QDQ, {} quantized layers)\n", args.out, quant::quant_layers(*loaded.module).size());
  if (manifest.contains("layers"))
    fmt::print("wrote {}/manifest.json and the Verilog of the assigned AppMuls in {}/verilog\n", args.out, args.out);
}

void setup_export(CLI::App& root) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd = root.add_subcommand("export", "Write a quantized model as QDQ ONNX (and its AppMuls as Verilog)");
  cmd->footer(
      "Writes OUT/model.onnx; with an assignment (--assign, or the one a calibrated checkpoint records)\n"
      "also OUT/verilog/<appmul>.v and OUT/manifest.json (docs/onnx.md).\n"
      "Example: fames export --model q.pt --assign assign.json --out design");
  cmd->add_option("--model", args->model, "Quantized fames checkpoint")->required();
  cmd->add_option("--assign", args->assign, "Assignment (assign.json) of AppMuls to layers (default: the one a calibrated checkpoint records)");
  cmd->add_option("--lib", args->library, "AppMul library folder (default: the one the assignment names)");
  cmd->add_option("--out", args->out, "Output folder")->required();
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->callback([args] { run_export(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("export", fames::cli::setup_export);
