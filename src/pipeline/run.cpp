#include "pipeline/run.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "appmul/library/library_cache.h"
#include "dist/process_group.h"
#include "pipeline/run_manifest.h"
#include "pipeline/run_stages.h"
#include "util/error.h"

namespace fames::pipeline {
namespace {

// What decides the held-out images and the estimation samples that most stages measure on.
nlohmann::json data_options(const RunContext& run, nlohmann::json more) {
  const RunOptions& o = run.options;
  nlohmann::json j = {{"data", run.data_spec}, {"holdout", o.holdout}, {"seed", o.seed},
                      {"samples", o.estimate_samples}, {"bias_correction", o.bias_correction},
                      {"holdout_split", run.judged_on}, {"validation_images", run.samples.validation_excluded}};
  j.update(more);
  return j;
}

// Every stage after load, with what decides its result: the options it reads and its input files.
std::vector<Stage> plan_stages(RunContext& run, const StageRunner& runner) {
  const RunOptions& o = run.options;
  using Input = std::pair<std::string, std::string>;
  const Input model{"model", o.model}, library{"library", o.library};
  const auto in = [&](const std::string& name) { return Input{name, run.path(name)}; };
  std::vector<Stage> stages;
  stages.push_back({"exact_eval", data_options(run, nlohmann::json::object()), {model}, {files::part("exact_eval")},
                    [&run] { exact_eval_stage(run); }});
  stages.push_back({"estimate",
                    data_options(run, {{"hessian", o.hessian},
                                       {"first_order", o.first_order},
                                       {"estimate_temperature", o.estimate_temperature}}),
                    {model, library}, {files::kEstimate}, [&run] { estimate_stage(run); }});
  stages.push_back({"select", data_options(run, {{"sweep", o.sweep_steps}}),
                    {model, library, in(files::kEstimate)}, {files::kSweep},
                    [&run] { select_stage(run); }});
  Stage calibrate{"calibrate",
                  data_options(run, {{"calibrate", o.calibrate},
                                     {"calibration_samples", o.calibration_samples},
                                     {"calibration_epochs", o.calibration_epochs},
                                     {"calibration_patience", o.calibration_patience},
                                     {"finetune_weights", o.finetune_weights},
                                     {"calibrate_on", o.calibrate_on_top1 ? "top1" : "loss"}}),
                  {model, library, in(files::kEstimate)},
                  {files::kCalibratedModel, files::part("calibrate")},
                  [&run, &runner] { calibrate_stage(run, runner.fingerprint()); }};
  if (o.energy_reduction) {
    stages.push_back({"assign", {{"energy_reduction", *o.energy_reduction}}, {in(files::kEstimate)},
                      {files::kAssignment}, [&run] { assign_stage(run); }});
    calibrate.options["energy_reduction"] = *o.energy_reduction;
    calibrate.inputs.push_back(in(files::kAssignment));
  } else {  // the choice is made by calibrating configurations of the sweep
    calibrate.options["max_accuracy_loss"] = o.max_accuracy_loss;
    if (o.bound_confidence > 0) {
      calibrate.options["bound_confidence"] = o.bound_confidence;
      calibrate.inputs.push_back(in(files::part("exact_eval")));
    }
    calibrate.inputs.push_back(in(files::kSweep));
    calibrate.outputs.push_back(files::kAssignment);
  }
  stages.push_back(std::move(calibrate));
  stages.push_back({"final_eval", data_options(run, nlohmann::json::object()),
                    {model, library, in(files::part("exact_eval")), in(files::kAssignment), in(files::kCalibratedModel)},
                    {files::part("final_eval")}, [&run] { final_eval_stage(run); }});
  const std::vector<Input> measured = {model, library, in(files::kEstimate)};
  stages.push_back({"layer_measure", data_options(run, {{"measure_layers", o.measure_layers}}),
                    {model, library, in(files::kEstimate), in(files::kAssignment)},
                    {files::part("layer_measure")}, [&run] { layer_measure_stage(run); }});
  if (o.ga_seconds > 0)
    stages.push_back({"ga", data_options(run, {{"ga_seconds", o.ga_seconds}}), measured,
                      {files::part("ga")}, [&run] { ga_stage(run); }});
  if (o.uniform_baseline)
    stages.push_back({"uniform", data_options(run, nlohmann::json::object()), measured, {files::part("uniform")},
                      [&run] { uniform_stage(run); }});
  return stages;
}

}  // namespace

report::RunReport run(const RunOptions& options) {
  if (options.out_dir.empty()) fail("--out: a report folder is required");
  // A rebuilt fames keeps nothing: its code may compute differently.
  StageRunner runner(options.out_dir, fmt::format("{} {:016x}", options.fames_version, executable_hash()),
                     options.force);
  std::unique_ptr<RunContext> context;
  runner.run_unrecorded("load", [&] { context = std::make_unique<RunContext>(options); });
  for (const Stage& stage : plan_stages(*context, runner)) runner.run(stage);
  // Kept probes matter only until the manifest records the calibrate stage; removing them in the
  // stage itself would leave a kill between the two to redo every probe.
  if (dist::is_root()) std::filesystem::remove_all(context->path(files::kProbes));
  return report_stage(*context, runner.seconds());
}

}  // namespace fames::pipeline
