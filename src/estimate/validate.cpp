#include "estimate/validate.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>

#include "estimate/rank_correlation.h"
#include "measure/loss_change.h"
#include "util/error.h"

namespace fames::estimate {
namespace {

// values[i] for every resolved pairs[i] (PairResult::resolved), in pair order.
std::vector<double> of_resolved(const std::vector<PairResult>& pairs, const std::vector<double>& values) {
  std::vector<double> kept;
  for (size_t i = 0; i < pairs.size(); ++i)
    if (pairs[i].resolved()) kept.push_back(values[i]);
  return kept;
}

// The median, over a fixed number of seeded draws, of the Spearman between the measured changes
// with `extra` draws of each pair's noise added and the same with one draw more:
// ValidationResult::spearman_ceiling at extra = 0. 1 when no pair has a standard error.
double redrawn_spearman(const std::vector<PairResult>& pairs, int extra) {
  constexpr int kDraws = 201;
  std::vector<double> base(pairs.size()), redrawn(pairs.size()), scores;
  const bool noisy = std::any_of(pairs.begin(), pairs.end(), [](const PairResult& p) { return p.measured_se > 0; });
  if (!noisy || pairs.size() < 2) return 1.0;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise;
  for (int d = 0; d < kDraws; ++d) {
    for (size_t i = 0; i < pairs.size(); ++i) {
      base[i] = pairs[i].measured;
      for (int k = 0; k < extra; ++k) base[i] += pairs[i].measured_se * noise(rng);
      redrawn[i] = base[i] + pairs[i].measured_se * noise(rng);
    }
    scores.push_back(spearman(base, redrawn));
  }
  std::nth_element(scores.begin(), scores.begin() + kDraws / 2, scores.end());
  return scores[kDraws / 2];
}

}  // namespace

ValidationResult validate_single_layer(torch::nn::Module& model, const Estimate& est, const Library& library,
                                       const Dataset& samples, int64_t max_pairs, uint64_t seed,
                                       const Dataset* correct_on, const ValidateResume& resume, double temperature) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::pair<const EstimateLayer*, const EstimateCandidate*>> todo;
  for (const auto& layer : est.layers)
    for (const auto& c : layer.candidates)
      if (c.appmul != layer.exact) todo.emplace_back(&layer, &c);
  if (max_pairs > 0 && max_pairs < static_cast<int64_t>(todo.size())) {
    std::mt19937_64 rng(seed);
    std::shuffle(todo.begin(), todo.end(), rng);
    todo.resize(static_cast<size_t>(max_pairs));
  }
  std::vector<measure::Substitution> substitutions;
  for (const auto& [layer, candidate] : todo) substitutions.push_back({layer->name, candidate->appmul});
  std::map<std::pair<std::string, std::string>, const PairResult*> known;
  for (const PairResult& p : resume.known) known[{p.layer, p.appmul}] = &p;
  measure::MeasureResume measure_resume;
  std::vector<PairResult> so_far;  // what on_measured reports: the known pairs of todo, then the new ones
  if (!known.empty()) measure_resume.known.resize(todo.size());
  for (size_t i = 0; i < todo.size() && !known.empty(); ++i) {
    const auto it = known.find({todo[i].first->name, todo[i].second->appmul});
    if (it == known.end()) continue;
    measure_resume.known[i] = measure::PairMeasurement{it->second->measured, it->second->measured_se};
    so_far.push_back({todo[i].first->name, todo[i].second->appmul, todo[i].second->dl, it->second->measured,
                      it->second->measured_se});
  }
  if (resume.on_measured)
    measure_resume.measured = [&](size_t i, const measure::PairMeasurement& m) {
      so_far.push_back({todo[i].first->name, todo[i].second->appmul, todo[i].second->dl, m.change, m.standard_error});
      resume.on_measured(so_far);
    };
  const measure::SingleLayerLosses measured = measure::single_layer_loss_changes(
      model, est, library, samples, substitutions, correct_on, measure_resume, temperature);
  ValidationResult result;
  result.temperature = measured.temperature;
  result.base_loss = measured.base_loss;
  for (size_t i = 0; i < todo.size(); ++i)
    result.pairs.push_back({todo[i].first->name, todo[i].second->appmul, todo[i].second->dl, measured.changes[i],
                            measured.standard_errors[i]});
  score_pairs(est, result);
  result.measure_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void score_pairs(const Estimate& est, ValidationResult& result) {
  std::vector<double> predicted, measured;
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by_layer;
  for (const auto& p : result.pairs) {
    predicted.push_back(p.predicted);
    measured.push_back(p.measured);
    by_layer[p.layer].first.push_back(p.predicted);
    by_layer[p.layer].second.push_back(p.measured);
  }
  result.spearman = spearman(predicted, measured);
  result.kendall = kendall(predicted, measured);
  // f(k) = redrawn_spearman(k) scores k + 1 noise draws against k + 2; the parabola through f(0..2)
  // taken at k = -1 is the score of the noise-free changes against one draw, the measurement.
  const double f0 = redrawn_spearman(result.pairs, 0), f1 = redrawn_spearman(result.pairs, 1),
               f2 = redrawn_spearman(result.pairs, 2);
  result.spearman_ceiling = f0;
  result.spearman_attainable = std::clamp(3 * f0 - 3 * f1 + f2, -1.0, 1.0);
  const std::vector<double> predicted_resolved = of_resolved(result.pairs, predicted);
  const std::vector<double> measured_resolved = of_resolved(result.pairs, measured);
  result.pairs_resolved = static_cast<int>(measured_resolved.size());
  result.spearman_resolved = spearman(predicted_resolved, measured_resolved);
  result.kendall_resolved = kendall(predicted_resolved, measured_resolved);
  for (const auto& layer : est.layers) {
    auto it = by_layer.find(layer.name);
    if (it == by_layer.end()) continue;
    result.per_layer.push_back({layer.name, static_cast<int>(it->second.first.size()),
                                spearman(it->second.first, it->second.second),
                                kendall(it->second.first, it->second.second)});
  }
}

void score_controls(const Estimate& est, const Library& library, const std::vector<ControlLayer>& layers,
                    ValidationResult& result) {
  std::map<std::string, const ControlLayer*> layer_of;
  for (const auto& l : layers) layer_of[l.name] = &l;
  std::vector<double> measured, mse_macs, mred_macs, hawq;
  for (const auto& p : result.pairs) {
    const EstimateLayer* layer = est.find_layer(p.layer);
    const AppMul* appmul = library.find(p.appmul);
    if (!appmul) fail("AppMul {} of layer {} is not in the library '{}'", p.appmul, p.layer, est.library);
    const auto control = layer_of.find(p.layer);
    if (!layer || control == layer_of.end()) fail("layer {} is not a quantized layer of '{}'", p.layer, est.model);
    const double macs = static_cast<double>(layer->macs);
    const double squared_error = appmul->metrics.mse * control->second->product_step_sq * macs;
    measured.push_back(p.measured);
    mse_macs.push_back(squared_error);
    mred_macs.push_back(appmul->metrics.mred * macs);
    hawq.push_back(squared_error * control->second->trace_per_weight);
  }
  result.controls.clear();
  const std::vector<double> measured_resolved = of_resolved(result.pairs, measured);
  for (const auto& [name, proxy] : {std::pair{"mse_x_macs", &mse_macs}, {"mred_x_macs", &mred_macs}, {"hawq", &hawq}}) {
    const std::vector<double> proxy_resolved = of_resolved(result.pairs, *proxy);
    result.controls.push_back({name, spearman(*proxy, measured), kendall(*proxy, measured),
                               spearman(proxy_resolved, measured_resolved), kendall(proxy_resolved, measured_resolved)});
  }
}

double predicted_loss_change(const Estimate& est, const Assignment& assignment, const std::string& source) {
  double predicted = 0;
  for (const auto& [layer_name, appmul] : assignment.layers) {
    const EstimateLayer* layer = est.find_layer(layer_name);
    const EstimateCandidate* c = layer ? layer->find(appmul) : nullptr;
    if (!c) fail("'{}': layer {} with AppMul {} is not in the estimate", source, layer_name, appmul);
    predicted += c->dl;
  }
  return predicted;
}

std::vector<ConfigResult> validate_configs(torch::nn::Module& model, const Estimate& est, const Library& library,
                                           const Dataset& samples, const std::vector<std::string>& assignment_files,
                                           const Dataset* correct_on, double temperature) {
  std::vector<Assignment> assignments;
  std::vector<ConfigResult> results;
  for (const auto& file : assignment_files) {
    assignments.push_back(Assignment::load(file));
    results.push_back({file, predicted_loss_change(est, assignments.back(), file), 0.0});
  }
  const std::vector<double> measured =
      measure::assignment_loss_changes(model, est, library, samples, assignments, correct_on, temperature);
  for (size_t i = 0; i < results.size(); ++i) results[i].measured = measured[i];
  return results;
}

}  // namespace fames::estimate
