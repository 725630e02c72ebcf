#include "pipeline/run_stages.h"

#include <algorithm>
#include <filesystem>

#include "core/json_fields.h"
#include "dist/process_group.h"
#include "estimate/estimator.h"
#include "models/trainer.h"
#include "models/zoo.h"
#include "pipeline/ga_search.h"
#include "pipeline/pareto_sweep.h"
#include "measure/assigned_model.h"
#include "measure/loss_change.h"
#include "select/selection.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::pipeline {
namespace {

// sweep.json: the measured sweep in the format of `fames pareto`'s pareto.json (docs/formats.md).
void write_sweep(const RunContext& run, const std::vector<MeasuredPoint>& sweep, double exact_top1) {
  nlohmann::json points = nlohmann::json::array();
  for (const MeasuredPoint& m : sweep) {
    nlohmann::json j = m.point.assignment.to_json();
    j["requested_reduction"] = m.point.requested_reduction;
    j["top1"] = m.top1;
    j["top1_drop"] = exact_top1 - m.top1;
    points.push_back(std::move(j));
  }
  const RunOptions& o = run.options;
  const nlohmann::json doc = {{"format", "fames-pareto"}, {"version", 1},
                              {"model", o.model},         {"estimate", run.path(files::kEstimate)},
                              {"library", o.library},     {"data", run.data_spec},
                              {"holdout", o.holdout},     {"seed", o.seed},
                              {"solver", "cbc"},          {"command", o.command_line},
                              {"exact_top1", exact_top1}, {"points", points}};
  if (dist::is_root()) write_file_atomic(run.path(files::kSweep), doc.dump(1) + "\n");
}

}  // namespace

RunContext::RunContext(const RunOptions& run_options) : options(run_options) {
  if (options.out_dir.empty()) fail("--out: a report folder is required");
  if (options.max_accuracy_loss < 0)
    fail("--max-accuracy-loss must be >= 0, got {}", options.max_accuracy_loss);
  const models::LoadedModel loaded = models::load_model(options.model);
  library = Library::load(options.library);
  data_spec = !options.data.empty() ? options.data
                                    : loaded.meta.value("dataset", std::string(kDefaultDatasetSpec));
  JudgingSplit split = judging_split(data_spec, options.holdout, options.seed);
  test = load_dataset(data_spec, Split::kTest);
  models::check_dataset_fits(split.learn, loaded, "--data");
  held = std::move(split.judge);
  judged_on = split.judged_on;
  samples = subset(split.learn, options.estimate_samples, options.seed);
  calibration = subset(split.learn, options.calibration_samples, options.seed + 1);
  if (dist::is_root()) std::filesystem::create_directories(options.out_dir + "/parts");
}

models::LoadedModel RunContext::model_from(const std::string& checkpoint) {
  models::LoadedModel loaded = models::load_model(checkpoint);
  models::use_channels_last(*loaded.module);
  return loaded;
}

measure::EmulatedEvaluator& RunContext::evaluator() {
  if (!evaluator_) {
    evaluator_model_ = fresh_model();
    evaluator_ = std::make_unique<measure::EmulatedEvaluator>(
        *evaluator_model_.module, Estimate::load(path(files::kEstimate)), library, held);
    if (options.bias_correction) evaluator_->enable_bias_correction(samples);
  }
  return *evaluator_;
}

torch::nn::Module& RunContext::evaluator_model() {
  evaluator();
  return *evaluator_model_.module;
}

void write_part(const RunContext& run, const std::string& name, const nlohmann::json& part) {
  if (dist::is_root()) write_file_atomic(run.path(files::part(name)), part.dump(1) + "\n");
}

std::pair<std::vector<MeasuredPoint>, double> read_sweep_file(const RunContext& run) {
  const std::string path = run.path(files::kSweep);
  const nlohmann::json doc = detail::parse_json_file_text(read_file(path), path);
  const detail::JsonFields root(doc, path, "");
  if (!root.has("points") || !root.has("exact_top1"))
    fail("{} is not a sweep file (fames-pareto); rerun with --force", path);
  std::vector<MeasuredPoint> sweep;
  for (size_t i = 0; i < root.array("points").size(); ++i) {
    const detail::JsonFields point = root.element("points", i);
    const double requested = point.has("requested_reduction") ? point.number("requested_reduction") : 0.0;
    MeasuredPoint m{{requested, Assignment::from_json(root.array("points")[i], path)},
                    point.has("top1") ? point.number("top1") : -1.0};
    if (!m.point.assignment.summary || m.top1 < 0)
      fail("{}: a point without its summary or top-1; rerun with --force", path);
    sweep.push_back(std::move(m));
  }
  return {std::move(sweep), root.number("exact_top1")};
}

nlohmann::json read_part(const RunContext& run, const std::string& name) {
  const std::string path = run.path(files::part(name));
  const nlohmann::json j = detail::parse_json_file_text(read_file(path), path);
  if (!j.is_object()) fail("{} is not a report part (JSON object); rerun with --force", path);
  return j;
}

void read_part_with(const RunContext& run, const std::string& name,
                    const std::function<void(const nlohmann::json&)>& read) {
  const nlohmann::json part = read_part(run, name);
  try {
    read(part);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: {}; rerun with --force", run.path(files::part(name)), e.what());
  }
}

namespace {

// A per-image record as text, one '1' (right) or '0' per image in dataset order: 10,000 test
// images take 10 KB, and the file stays readable.
std::string record_text(const models::EvalResult& result) {
  std::string text(result.correct.size(), '0');
  for (size_t i = 0; i < text.size(); ++i)
    if (result.correct[i]) text[i] = '1';
  return text;
}

}  // namespace

void exact_eval_stage(RunContext& run) {
  models::LoadedModel model = run.fresh_model();
  const models::EvalResult test = models::evaluate(*model.module, run.test, 256, "exact (test)");
  const models::EvalResult held = models::evaluate(*model.module, run.held, 256, "exact (held-out)");
  write_part(run, "exact_eval",
             {{"top1_exact", test.top1}, {"test_correct", record_text(test)}, {"holdout_correct", record_text(held)}});
}

models::EvalResult read_exact_record(const RunContext& run, const std::string& split) {
  const std::string key = split + "_correct";
  models::EvalResult result;
  read_part_with(run, "exact_eval", [&](const nlohmann::json& part) {
    const std::string text = part.at(key).get<std::string>();
    if (text.find_first_not_of("01") != std::string::npos) fail("{} holds characters other than 0 and 1", key);
    for (const char c : text) result.correct.push_back(c == '1');
  });
  result.samples = static_cast<int64_t>(result.correct.size());
  result.top1 = result.samples == 0 ? 0.0
                                    : static_cast<double>(std::count(result.correct.begin(), result.correct.end(), 1)) /
                                          static_cast<double>(result.samples);
  return result;
}

void estimate_stage(RunContext& run) {
  const RunOptions& o = run.options;
  estimate::EstimateOptions estimate_options;
  estimate::parse_hessian(o.hessian, estimate_options);
  // With bias correction the estimate predicts the loss change after each layer subtracts its
  // AppMul's mean error, and the sweep measures configurations corrected the same way: most of
  // what a cheap AppMul costs is its mean error (ResNet-20: the median single-layer loss change
  // falls from 0.089 to 0.020 with the correction), so selecting on uncorrected predictions would
  // choose for an error the calibration removes anyway.
  estimate_options.bias_correction = o.bias_correction;
  estimate_options.first_order = o.first_order;
  estimate_options.seed = o.seed;
  models::LoadedModel model = run.fresh_model();
  estimate_options.temperature =
      o.estimate_temperature > 0 ? o.estimate_temperature : measure::fitted_temperature(*model.module, run.held);
  Estimate est = estimate::assemble_estimate(
      estimate::compute_terms(*model.module, run.samples, estimate_options, &run.library),
      run.library, estimate_options);
  est.model = o.model;
  est.library = o.library;
  est.data = run.data_spec;  // the samples: subset(training split, estimate_samples, seed)
  est.seed = o.seed;
  if (dist::is_root()) est.save(run.path(files::kEstimate));
}

// The sweep of optimal configurations, each measured on the held-out images.
void select_stage(RunContext& run) {
  measure::EmulatedEvaluator& evaluator = run.evaluator();
  const double exact_top1 = evaluator.top1(evaluator.exact_choice());
  write_sweep(run, measured_pareto(evaluator, run.options.sweep_steps), exact_top1);
}

void assign_stage(RunContext& run) {
  const Estimate est = Estimate::load(run.path(files::kEstimate));
  check_energy_reduction(est, *run.options.energy_reduction, "--energy-reduction");
  Assignment assignment = select_for_energy_reduction(est, *run.options.energy_reduction);
  assignment.library = run.options.library;
  if (dist::is_root()) assignment.save(run.path(files::kAssignment));
}

// Test top-1 of the configuration before and after calibration, and the paired standard errors of
// the chosen model's top-1 change on test and on the held-out images: a change measured on a few
// thousand images is a sample (docs/RESULTS.md: the 7-bit ResNet-20's -0.46 +- 0.30 validation
// points came out -1.11 +- 0.21 on test), and the report says how large a sample.
void final_eval_stage(RunContext& run) {
  const Assignment assignment = Assignment::load(run.path(files::kAssignment));
  const models::EvalResult exact_test = read_exact_record(run, "test");
  const models::EvalResult exact_held = read_exact_record(run, "holdout");
  models::LoadedModel model = run.fresh_model();
  measure::apply_assignment(*model.module, assignment, run.library);
  const double uncalibrated = models::evaluate(*model.module, run.test, 256, "uncalibrated (test)").top1;
  model = RunContext::model_from(run.path(files::kCalibratedModel));
  measure::apply_assignment(*model.module, assignment, run.library);
  const models::EvalResult test = models::evaluate(*model.module, run.test, 256, "final (test)");
  const models::EvalResult held = models::evaluate(*model.module, run.held, 256, "final (held-out)");
  write_part(run, "final_eval",
             {{"top1_uncalibrated", uncalibrated},
              {"top1_final", test.top1},
              {"top1_change_standard_error", models::paired_top1_difference(exact_test, test).standard_error},
              {"holdout_top1_change_standard_error",
               models::paired_top1_difference(exact_held, held).standard_error}});
}

}  // namespace fames::pipeline
