// The report stage: gathers the parts the earlier stages wrote into report.json, report.md and the
// plots. It always runs (it is cheap, and it records this run's command line).
#include "core/estimate_file.h"
#include "dist/process_group.h"
#include "pipeline/run_stages.h"
#include "util/error.h"

namespace fames::pipeline {
namespace {

// The figures the stages up to final_eval wrote.
void read_main_parts(RunContext& run, report::RunReport& r) {
  r.hessian = Estimate::load(run.path(files::kEstimate)).hessian;
  read_part_with(run, "exact_eval", [&](const nlohmann::json& j) { r.top1_exact = j.at("top1_exact").get<double>(); });
  const auto [sweep, holdout_exact] = read_sweep_file(run);
  r.holdout_top1_exact = holdout_exact;
  for (const MeasuredPoint& p : sweep)
    r.fames_curve.push_back({p.point.assignment.summary->energy_reduction, p.top1, ""});
  read_part_with(run, "calibrate", [&](const nlohmann::json& calibrated) {
    r.mode = calibrated.at("mode").get<std::string>();
    r.target = calibrated.at("target").get<double>();
    r.holdout_top1_final = calibrated.at("holdout_top1_final").get<double>();
    r.holdout_top1_uncalibrated = calibrated.at("holdout_top1_uncalibrated").get<double>();
    r.extra["probes"] = calibrated.at("probes");
  });
  const Assignment assignment = Assignment::load(run.path(files::kAssignment));
  if (!assignment.summary) fail("{} has no summary; rerun with --force", run.path(files::kAssignment));
  r.energy_reduction = assignment.summary->energy_reduction;
  r.extra["predicted_dl"] = assignment.summary->predicted_dl;
  read_part_with(run, "final_eval", [&](const nlohmann::json& final_eval) {
    r.top1_uncalibrated = final_eval.at("top1_uncalibrated").get<double>();
    r.top1_final = final_eval.at("top1_final").get<double>();
    r.top1_change_se = final_eval.at("top1_change_standard_error").get<double>();
    r.holdout_top1_change_se = final_eval.at("holdout_top1_change_standard_error").get<double>();
  });
}

// The per-layer table and the baselines.
void read_measure_parts(RunContext& run, report::RunReport& r) {
  read_part_with(run, "layer_measure", [&](const nlohmann::json& measured) {
    for (const nlohmann::json& row : measured.at("layers")) r.layers.push_back(report::layer_from_json(row));
  });
  if (run.options.ga_seconds > 0) {
    read_part_with(run, "ga", [&](const nlohmann::json& ga) {
      r.ga_curve = report::curve_from_json(ga.at("curve"));
      r.extra["ga"] = {{"seconds", ga.at("seconds")},
                       {"evaluations", ga.at("evaluations")},
                       {"generations", ga.at("generations")}};
    });
  }
  if (run.options.uniform_baseline)
    read_part_with(run, "uniform", [&](const nlohmann::json& uniform) {
      r.uniform_curve = report::curve_from_json(uniform.at("curve"));
    });
}

}  // namespace

report::RunReport report_stage(RunContext& run,
                               const std::vector<std::pair<std::string, double>>& stage_seconds) {
  const RunOptions& o = run.options;
  report::RunReport r;
  r.model = o.model;
  r.data = run.data_spec;
  r.library = o.library;
  r.test_images = run.test.size();
  r.holdout_images = run.held.size();
  r.holdout_split = run.judged_on;
  r.estimate_samples = run.samples.size();
  r.calibration_samples = run.calibration.size();
  r.stage_seconds = stage_seconds;
  try {
    read_main_parts(run, r);
    read_measure_parts(run, r);
  } catch (const nlohmann::json::exception& e) {
    fail("a report part in {} is incomplete ({}); rerun with --force", o.out_dir, e.what());
  }
  r.extra["bias_correction"] = o.bias_correction;
  r.extra["first_order"] = o.first_order;
  r.extra["finetune_weights"] = o.finetune_weights;
  r.extra["calibrate_on"] = o.calibrate_on_top1 ? "top1" : "loss";
  r.extra["assignment"] = run.path(files::kAssignment);
  r.extra["calibrated_model"] = run.path(files::kCalibratedModel);
  r.extra["estimate"] = run.path(files::kEstimate);
  r.extra["fames_version"] = o.fames_version;
  r.extra["command"] = o.command_line;
  if (dist::is_root()) report::write_run_report(r, o.out_dir);
  return r;
}

}  // namespace fames::pipeline
