// The measuring stages after calibration: per-layer measured loss changes, and the GA and uniform
// single-family baselines, all on the run's one evaluator (the same images, the same emulation).
#include <map>

#include "measure/loss_change.h"
#include "pipeline/ga_search.h"
#include "pipeline/pareto_sweep.h"
#include "pipeline/run_stages.h"
#include "util/progress.h"

namespace fames::pipeline {
namespace {

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
      auto it = choices.emplace(variant_of(m->name, layer.signature), exact).first;
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

// The report row of layer k without its measured loss change.
report::RunLayer layer_row(const EstimateLayer& layer, const Assignment& assignment) {
  report::RunLayer row;
  row.name = layer.name;
  row.signature = layer.signature.key();
  row.macs = layer.macs;
  row.appmul = assignment.layers.count(layer.name) ? assignment.layers.at(layer.name) : layer.exact;
  const EstimateCandidate* c = layer.find(row.appmul);
  row.energy_fj_per_image = c ? layer.energy_fj_per_image(*c) : 0;
  row.exact_energy_fj_per_image = layer.energy_fj_per_image(layer.exact_candidate());
  row.predicted_dl = c ? c->dl : 0;
  return row;
}

}  // namespace

// Predicted against measured, per layer: this layer alone substituted, every other layer on its
// exact table; corrected as the estimate assumes, not calibrated.
void layer_measure_stage(RunContext& run) {
  const Estimate est = Estimate::load(run.path(files::kEstimate));
  const Assignment assignment = Assignment::load(run.path(files::kAssignment));
  std::vector<report::RunLayer> rows;
  for (const EstimateLayer& layer : est.layers) rows.push_back(layer_row(layer, assignment));
  if (run.options.measure_layers) {
    measure::EmulatedEvaluator& evaluator = run.evaluator();
    const std::vector<int> exact_choice = evaluator.exact_choice();
    const std::vector<int> chosen_choice = evaluator.choice_of(assignment);
    evaluator.apply(exact_choice);
    const double base_loss = measure::mean_loss(run.evaluator_model(), run.samples);
    for (size_t k = 0; k < rows.size(); ++k) {
      rows[k].measured_dl = 0.0;
      if (chosen_choice[k] == exact_choice[k]) continue;
      std::vector<int> single = exact_choice;
      single[k] = chosen_choice[k];
      evaluator.apply(single);
      rows[k].measured_dl = measure::mean_loss(run.evaluator_model(), run.samples) - base_loss;
    }
  }
  nlohmann::json layers = nlohmann::json::array();
  for (const report::RunLayer& row : rows) layers.push_back(report::layer_to_json(row));
  write_part(run, "layer_measure", {{"layers", layers}});
}

void ga_stage(RunContext& run) {
  Nsga2Options ga;
  ga.generations = 1'000'000;
  ga.time_limit_s = run.options.ga_seconds;
  ga.seed = run.options.seed;
  measure::EmulatedEvaluator& evaluator = run.evaluator();
  const GaRun result = run_ga(evaluator, ga);
  std::vector<report::CurvePoint> curve;
  for (const auto& e : result.search.evaluations)
    curve.push_back({evaluator.energy_reduction(e.fitness.energy), e.fitness.accuracy, ""});
  write_part(run, "ga",
             {{"curve", report::curve_to_json(curve)},
              {"seconds", result.search.seconds},
              {"evaluations", result.search.evaluations.size()},
              {"generations", result.search.generations_done}});
}

void uniform_stage(RunContext& run) {
  write_part(run, "uniform",
             {{"curve", report::curve_to_json(uniform_baseline(run.evaluator(), run.library))}});
}

}  // namespace fames::pipeline
