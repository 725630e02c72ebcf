#include "pipeline/run.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "appmul/library/library.h"
#include "calibrate/calibrate.h"
#include "data/dataset.h"
#include "estimate/estimator.h"
#include "models/checkpoint.h"
#include "models/trainer.h"
#include "measure/assigned_model.h"
#include "measure/loss_change.h"
#include "pipeline/ga_search.h"
#include "pipeline/pareto_sweep.h"
#include "quant/output_corrections.h"
#include "select/selection.h"
#include "util/error.h"
#include "util/progress.h"

namespace fames::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// Every parameter and buffer (clips, BN statistics) plus the output corrections: calibration
// changes them, and each calibrated probe must start from the quantized model as it was loaded.
class ModelState {
 public:
  static ModelState take(torch::nn::Module& model) {
    ModelState s;
    for (const auto& t : model.parameters()) s.tensors_.push_back(t.detach().clone());
    for (const auto& t : model.buffers()) s.tensors_.push_back(t.detach().clone());
    s.corrections_ = quant::output_corrections(model);
    return s;
  }
  void restore(torch::nn::Module& model) const {
    torch::NoGradGuard no_grad;
    size_t i = 0;
    for (auto& t : model.parameters()) t.copy_(tensors_[i++]);
    for (auto& t : model.buffers()) t.copy_(tensors_[i++]);
    measure::clear_multipliers(model);
    quant::set_output_corrections(model, corrections_);
  }

 private:
  std::vector<torch::Tensor> tensors_;
  nlohmann::json corrections_;
};

class StageTimer {
 public:
  explicit StageTimer(report::RunReport& report) : report_(report), start_(Clock::now()) {}
  void done(const std::string& stage) {
    const auto now = Clock::now();
    report_.stage_seconds.emplace_back(stage, std::chrono::duration<double>(now - start_).count());
    fmt::print(stderr, "[{}] {:.1f} s\n", stage, report_.stage_seconds.back().second);
    start_ = now;
  }

 private:
  report::RunReport& report_;
  Clock::time_point start_;
};

// A calibrated configuration: its assignment, held-out top-1 and the model state it reached.
struct Probe {
  Assignment assignment;
  double uncalibrated_top1 = 0, top1 = 0;
  std::optional<ModelState> state;
};

// "trunc_k2_w4s_a4u" -> "trunc_k2": the family member's variant, the same across signatures.
std::string variant_of(const std::string& appmul, const Signature& sig) {
  const std::string suffix = "_" + sig.key();
  if (appmul.size() > suffix.size() &&
      appmul.compare(appmul.size() - suffix.size(), suffix.size(), suffix) == 0)
    return appmul.substr(0, appmul.size() - suffix.size());
  return appmul;
}

// Uniform single-family substitution: every layer on the same family variant (where its signature
// has one; exact elsewhere). Variants that fit fewer than half of the layers are skipped.
std::vector<report::CurvePoint> uniform_baseline(measure::EmulatedEvaluator& evaluator,
                                                 const Library& library) {
  const Estimate& est = evaluator.estimate();
  std::map<std::string, std::vector<int>> choices;  // variant -> choice
  const std::vector<int> exact = evaluator.exact_choice();
  for (size_t k = 0; k < est.layers.size(); ++k) {
    const auto& layer = est.layers[k];
    for (size_t c = 0; c < layer.candidates.size(); ++c) {
      const AppMul* m = library.find(layer.candidates[c].appmul);
      if (!m || m->exact || m->source.rfind("family:", 0) != 0) continue;
      auto [it, fresh] = choices.emplace(variant_of(m->name, layer.signature), exact);
      it->second[k] = static_cast<int>(c);
    }
  }
  std::vector<report::CurvePoint> points;
  Progress bar("uniform baseline", static_cast<int64_t>(choices.size()), "config");
  for (const auto& [variant, choice] : choices) {
    size_t substituted = 0;
    for (size_t k = 0; k < choice.size(); ++k) substituted += choice[k] != exact[k];
    if (2 * substituted >= choice.size()) {
      points.push_back(
          {evaluator.energy_reduction(evaluator.energy_fj(choice)), evaluator.top1(choice), variant});
    }
    bar.advance(1);
  }
  bar.finish();
  return points;
}

}  // namespace

report::RunReport run(const RunOptions& options) {
  if (options.out_dir.empty()) fail("--out: a report folder is required");
  if (options.max_accuracy_loss < 0)
    fail("--max-accuracy-loss must be >= 0, got {}", options.max_accuracy_loss);
  report::RunReport report;
  StageTimer timer(report);

  // ---- load: model, library, data (training split: samples, calibration, holdout; test split)
  // ----
  auto loaded = models::load_model(options.model);
  torch::nn::Module& model = *loaded.module;
  const Library library = Library::load(options.library);
  const std::string spec = !options.data.empty()
                               ? options.data
                               : loaded.meta.value("dataset", std::string(kDefaultDatasetSpec));
  const Dataset train = load_dataset(spec, Split::kTrain);
  const Dataset test = load_dataset(spec, Split::kTest);
  models::check_dataset_fits(train, loaded, "--data");
  auto [rest, held] = holdout_images(train, options.holdout, options.seed);
  const Dataset samples = subset(rest, options.estimate_samples, options.seed);
  const Dataset calibration = subset(rest, options.calibration_samples, options.seed + 1);
  std::filesystem::create_directories(options.out_dir);
  report.model = options.model;
  report.data = spec;
  report.library = options.library;
  report.test_images = test.size();
  report.holdout_images = held.size();
  report.estimate_samples = samples.size();
  report.calibration_samples = calibration.size();
  const ModelState original = ModelState::take(model);
  timer.done("load");

  report.top1_exact = models::evaluate(model, test, 256, "exact (test)").top1;
  timer.done("exact_eval");

  // ---- stage 1: estimate ----
  estimate::EstimateOptions estimate_options;
  estimate::parse_hessian(options.hessian, estimate_options);
  // With bias correction the estimate predicts the loss change after each layer subtracts its
  // AppMul's mean error, and the sweep below measures configurations corrected the same way: most
  // of what a cheap AppMul costs is its mean error (ResNet-20: the median single-layer loss change
  // falls from 0.089 to 0.020 with the correction), so selecting on uncorrected predictions would
  // choose for an error the calibration removes anyway.
  estimate_options.bias_correction = options.bias_correction;
  estimate_options.first_order = options.first_order;
  estimate_options.seed = options.seed;
  Estimate est = estimate::assemble_estimate(
      estimate::compute_terms(model, samples, estimate_options, &library), library, estimate_options);
  est.model = options.model;
  est.library = options.library;
  report.hessian = est.hessian;
  est.save(options.out_dir + "/est.json");
  original.restore(model);
  timer.done("estimate");

  // ---- stage 2: select (the sweep of optimal configurations, each measured on the holdout) ----
  measure::EmulatedEvaluator evaluator(model, est, library, held);
  if (options.bias_correction) evaluator.enable_bias_correction(samples);
  report.holdout_top1_exact = evaluator.top1(evaluator.exact_choice());
  std::vector<MeasuredPoint> sweep = measured_pareto(evaluator, options.sweep_steps);
  for (const auto& p : sweep)
    report.fames_curve.push_back({p.point.assignment.summary->energy_reduction, p.top1, ""});
  std::sort(sweep.begin(), sweep.end(), [](const MeasuredPoint& a, const MeasuredPoint& b) {
    return a.point.assignment.summary->energy_reduction <
           b.point.assignment.summary->energy_reduction;
  });
  // Neighbouring targets often pick the same configuration: calibrate each one once.
  sweep.erase(std::unique(sweep.begin(), sweep.end(),
                          [](const MeasuredPoint& a, const MeasuredPoint& b) {
                            return a.point.assignment.layers == b.point.assignment.layers;
                          }),
              sweep.end());
  timer.done("select");

  // ---- stage 3: calibrate (and, with --max-accuracy-loss, search the largest feasible reduction)
  // ----
  calibrate::CalibrateOptions calibrate_options;
  calibrate_options.bias_correction = options.bias_correction;
  calibrate_options.epochs = options.calibration_epochs;
  calibrate_options.weights = options.finetune_weights;
  calibrate_options.seed = options.seed;
  nlohmann::json probes = nlohmann::json::array();
  // `measured`: the configuration's uncalibrated held-out top-1 if the sweep already has it.
  // Calibration measures it itself, so it is only needed (and measured here) without calibration.
  auto probe = [&](const Assignment& assignment, std::optional<double> measured) {
    original.restore(model);
    measure::apply_assignment(model, assignment, library);
    Probe p{assignment, 0, 0, std::nullopt};
    if (options.calibrate) {
      const auto r = calibrate::calibrate(model, calibration, held, calibrate_options);
      p.top1 = r.holdout_top1_after;
      p.uncalibrated_top1 = r.holdout_top1_before;
    } else {
      p.uncalibrated_top1 = p.top1 =
          measured ? *measured : evaluator.top1(evaluator.choice_of(assignment));
    }
    p.state = ModelState::take(model);
    probes.push_back({{"energy_reduction", assignment.summary->energy_reduction},
                      {"holdout_top1_uncalibrated", p.uncalibrated_top1},
                      {"holdout_top1", p.top1}});
    fmt::print(stderr, "probe: {:.1f}% energy saved, held-out top-1 {:.2f}% -> {:.2f}%\n",
               100 * assignment.summary->energy_reduction, 100 * p.uncalibrated_top1, 100 * p.top1);
    return p;
  };
  std::optional<Probe> chosen;
  if (options.energy_reduction) {
    report.mode = "energy-reduction";
    report.target = *options.energy_reduction;
    check_energy_reduction(est, *options.energy_reduction, "--energy-reduction");
    const Assignment a = select_for_energy_reduction(est, *options.energy_reduction);
    chosen = probe(a, std::nullopt);
  } else {
    report.mode = "max-accuracy-loss";
    report.target = options.max_accuracy_loss;
    const double target = report.holdout_top1_exact - options.max_accuracy_loss / 100;
    size_t feasible = 0;  // sweep[0] is r = 0: every layer exact
    for (size_t i = 0; i < sweep.size(); ++i)
      if (sweep[i].top1 >= target) feasible = i;
    chosen = probe(sweep[feasible].point.assignment, sweep[feasible].top1);
    std::optional<size_t> failed;
    constexpr int kMaxProbes = 6;
    int probes_left = options.calibrate ? kMaxProbes : 0;
    for (size_t i = feasible + 1; i < sweep.size() && probes_left > 0; ++i, --probes_left) {
      Probe p = probe(sweep[i].point.assignment, sweep[i].top1);
      if (p.top1 < target) {
        failed = i;
        break;
      }
      chosen = std::move(p);
    }
    if (failed && probes_left > 1) {
      const double mid = 0.5 * (chosen->assignment.summary->energy_reduction +
                                sweep[*failed].point.assignment.summary->energy_reduction);
      const Assignment a = select_for_energy_reduction(est, mid);
      Probe p = probe(a, std::nullopt);
      if (p.top1 >= target) chosen = std::move(p);
    }
    // Nothing selected stays within the bound (the estimate can be wrong near r = 0): exact
    // multipliers.
    if (chosen->top1 < target)
      chosen = probe(make_assignment(est, evaluator.exact_choice(), "exact", 0),
                     report.holdout_top1_exact);
  }
  timer.done("calibrate");

  // ---- final: test split, calibrated and not; files ----
  const Assignment& assignment = chosen->assignment;
  report.energy_reduction = assignment.summary->energy_reduction;
  report.holdout_top1_final = chosen->top1;
  report.holdout_top1_uncalibrated = chosen->uncalibrated_top1;
  original.restore(model);
  measure::apply_assignment(model, assignment, library);
  report.top1_uncalibrated = models::evaluate(model, test, 256, "uncalibrated (test)").top1;
  chosen->state->restore(model);
  measure::apply_assignment(model, assignment, library);
  report.top1_final = models::evaluate(model, test, 256, "final (test)").top1;
  Assignment saved = assignment;
  saved.library = options.library;
  saved.save(options.out_dir + "/assign.json");
  nlohmann::json meta = loaded.meta;
  meta["calibration"] = {{"assignment", options.out_dir + "/assign.json"}, {"by", "fames run"}};
  models::save_model(options.out_dir + "/model-calibrated.pt", model, loaded.spec, meta);
  timer.done("final_eval");

  // ---- per-layer table: predicted against measured (this layer alone, every other layer on its
  // exact table; corrected as the estimate assumes, not calibrated) ----
  original.restore(model);
  const std::vector<int> exact_choice = evaluator.exact_choice();
  const std::vector<int> chosen_choice = evaluator.choice_of(assignment);
  double base_loss = 0;
  if (options.measure_layers) {
    evaluator.apply(exact_choice);
    base_loss = measure::mean_loss(model, samples);
  }
  for (size_t k = 0; k < est.layers.size(); ++k) {
    const EstimateLayer& layer = est.layers[k];
    report::RunLayer row;
    row.name = layer.name;
    row.signature = layer.signature.key();
    row.macs = layer.macs;
    row.appmul =
        assignment.layers.count(layer.name) ? assignment.layers.at(layer.name) : layer.exact;
    const EstimateCandidate* c = layer.find(row.appmul);
    row.energy_fj_per_image = c ? layer.energy_fj_per_image(*c) : 0;
    row.exact_energy_fj_per_image = layer.energy_fj_per_image(layer.exact_candidate());
    row.predicted_dl = c ? c->dl : 0;
    if (options.measure_layers && chosen_choice[k] != exact_choice[k]) {
      std::vector<int> single = exact_choice;
      single[k] = chosen_choice[k];
      evaluator.apply(single);
      row.measured_dl = measure::mean_loss(model, samples) - base_loss;
    } else if (options.measure_layers) {
      row.measured_dl = 0.0;
    }
    report.layers.push_back(std::move(row));
  }
  measure::clear_multipliers(model);
  timer.done("layer_measure");

  // ---- baselines on the same evaluator: GA (NSGA-II) and uniform single-family substitution ----
  if (options.ga_seconds > 0) {
    Nsga2Options ga;
    ga.generations = 1'000'000;
    ga.time_limit_s = options.ga_seconds;
    ga.seed = options.seed;
    const GaRun run = run_ga(evaluator, ga);
    for (const auto& e : run.search.evaluations)
      report.ga_curve.push_back({evaluator.energy_reduction(e.fitness.energy), e.fitness.accuracy, ""});
    report.extra["ga"] = {{"seconds", run.search.seconds},
                          {"evaluations", run.search.evaluations.size()},
                          {"generations", run.search.generations_done}};
    timer.done("ga");
  }
  if (options.uniform_baseline) {
    report.uniform_curve = uniform_baseline(evaluator, library);
    timer.done("uniform");
  }
  report.extra["probes"] = probes;
  report.extra["bias_correction"] = options.bias_correction;
  report.extra["first_order"] = options.first_order;
  report.extra["finetune_weights"] = options.finetune_weights;
  report.extra["assignment"] = options.out_dir + "/assign.json";
  report.extra["calibrated_model"] = options.out_dir + "/model-calibrated.pt";
  report.extra["estimate"] = options.out_dir + "/est.json";
  report.extra["predicted_dl"] = assignment.summary->predicted_dl;
  report::write_run_report(report, options.out_dir);
  return report;
}

}  // namespace fames::pipeline
