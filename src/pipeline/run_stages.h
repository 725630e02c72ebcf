// The stages of `fames run` (run.h lists them with their files) and what they share within one
// process: the options, the library, the data splits and, made on first use, the emulated
// evaluator. Internal to pipeline/: run.cpp decides which stages run and records them.
//
// Every stage reads what earlier stages produced from their files in the report folder (never from
// memory), so a stage computes the same whether the stage before it ran in this process or in an
// earlier, interrupted one. Every file is written atomically. Errors throw fames::Error.
//
// Data-parallel (dist/): every rank runs every stage, whose measurements are collectives, and rank
// 0 alone writes the report folder; the other ranks read what it wrote (run_manifest.h checks that
// they see it).
#pragma once
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "appmul/library/library.h"
#include "data/dataset.h"
#include "measure/evaluator.h"
#include "models/checkpoint.h"
#include "models/trainer.h"
#include "pipeline/ga_search.h"
#include "pipeline/pareto_sweep.h"
#include "pipeline/run.h"
#include "report/run_report.h"

namespace fames::pipeline {

// File names in the report folder (relative to it).
namespace files {
inline const std::string kEstimate = "est.json", kSweep = "sweep.json", kAssignment = "assign.json",
                         kCalibratedModel = "model-calibrated.pt";
// The calibrate stage's finished probes (calibrate_stage); removed by run() once the stage is recorded.
inline const std::string kProbes = "probes";
inline std::string part(const std::string& stage) { return "parts/" + stage + ".json"; }
}  // namespace files

class RunContext {
 public:
  // The load stage: the library and the data splits (training: held-out part, estimation samples,
  // calibration images, disjoint from the held-out part; test).
  explicit RunContext(const RunOptions& run_options);

  const RunOptions& options;
  Library library;
  std::string data_spec;  // --data, else the model's dataset
  Dataset test, held, samples, calibration;
  std::string judged_on;  // where `held` comes from: "val" (the validation split) or "train"

  std::string path(const std::string& name) const { return options.out_dir + "/" + name; }
  // A new copy of the model as its file holds it, laid out channels-last as every stage uses it:
  // no stage sees what another changed.
  models::LoadedModel fresh_model() const { return model_from(options.model); }
  // The same for another checkpoint (a calibrated model, a kept probe).
  static models::LoadedModel model_from(const std::string& checkpoint);
  // The evaluator on the held-out images over R/est.json (bias-corrected when asked), made on first
  // use over a model copy of its own; model() is that copy.
  measure::EmulatedEvaluator& evaluator();
  torch::nn::Module& evaluator_model();

 private:
  models::LoadedModel evaluator_model_;
  std::unique_ptr<measure::EmulatedEvaluator> evaluator_;
};

// parts/exact_eval.json: the exact model's test top-1 and its per-image records on test and on the
// held-out images, which the later stages pair their own evaluations with.
void exact_eval_stage(RunContext& run);
// The exact model's per-image record on "test" or "holdout", as exact_eval measured it.
models::EvalResult read_exact_record(const RunContext& run, const std::string& split);
void estimate_stage(RunContext& run);       // est.json
void select_stage(RunContext& run);         // sweep.json
void assign_stage(RunContext& run);         // assign.json (energy-reduction mode)
// model-calibrated.pt, parts/calibrate.json (+ assign.json). Each finished calibration is kept in
// R/probes/ under a name made of `fingerprint` (StageRunner::fingerprint) and its assignment, so an
// interrupted search resumes at the probe it was in; its AppMuls are beside it (KEY.assign.json,
// which the kept model records, so `fames eval --model R/probes/KEY.pt` measures it as the search
// did).
void calibrate_stage(RunContext& run, const std::string& fingerprint);
void final_eval_stage(RunContext& run);     // parts/final_eval.json
void layer_measure_stage(RunContext& run);  // parts/layer_measure.json
void ga_stage(RunContext& run);             // parts/ga.json
void uniform_stage(RunContext& run);        // parts/uniform.json

// Reads every part the options ask for and writes report.json, report.md and the plots.
// `stage_seconds`: each stage's time, kept stages with the time they took when computed.
report::RunReport report_stage(RunContext& run,
                               const std::vector<std::pair<std::string, double>>& stage_seconds);

// The report parts: JSON files written atomically, and read back with an error naming the file.
void write_part(const RunContext& run, const std::string& name, const nlohmann::json& part);
nlohmann::json read_part(const RunContext& run, const std::string& name);
// Reads part `name` and calls read(part); a key it lacks or a value of another type (nlohmann's
// exceptions) becomes a fames::Error naming the part's file.
void read_part_with(const RunContext& run, const std::string& name,
                    const std::function<void(const nlohmann::json&)>& read);
// R/sweep.json's points in the order measured, and the exact configuration's held-out top-1.
std::pair<std::vector<MeasuredPoint>, double> read_sweep_file(const RunContext& run);

}  // namespace fames::pipeline
