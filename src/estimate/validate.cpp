#include "estimate/validate.h"

#include <chrono>
#include <map>
#include <random>

#include "measure/bias_correction.h"
#include "estimate/rank_correlation.h"
#include "models/batches.h"
#include "models/zoo.h"
#include "quant/multipliers.h"
#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/progress.h"

namespace fames::estimate {

double mean_loss(torch::nn::Module& model, const Dataset& samples, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model.eval();
  double sum = 0;
  for (int64_t begin = 0; begin < samples.size(); begin += batch_size) {
    const int64_t count = std::min(batch_size, samples.size() - begin);
    models::Batch batch = models::make_batch(samples, begin, count);
    sum += torch::cross_entropy_loss(models::run_model(model, batch.images), batch.labels, {}, at::Reduction::Sum)
               .item<double>();
  }
  return samples.size() ? sum / samples.size() : 0.0;
}

namespace {

// The reference every measurement subtracts: each layer of the estimate on its exact multiplier's
// table. Measuring against the fake-quant float path instead would add the float-rounding
// difference between the two paths (which flips a few downstream activation codes, worth up to
// ~0.004 loss on ResNet-20) to every pair.
void apply_exact_tables(torch::nn::Module& model, const Estimate& est, const Library& library) {
  quant::clear_multipliers(model);
  Assignment exact;
  for (const auto& layer : est.layers) exact.layers[layer.name] = layer.exact;
  quant::apply_assignment(model, exact, library);
}

}  // namespace

ValidationResult validate_single_layer(torch::nn::Module& model, const Estimate& est, const Library& library,
                                       const Dataset& samples, int64_t max_pairs, uint64_t seed,
                                       bool bias_correction) {
  const auto start = std::chrono::steady_clock::now();
  ValidationResult result;
  apply_exact_tables(model, est, library);
  result.base_loss = mean_loss(model, samples);
  std::vector<std::pair<const EstimateLayer*, const EstimateCandidate*>> todo;
  for (const auto& layer : est.layers)
    for (const auto& c : layer.candidates)
      if (c.appmul != layer.exact) todo.emplace_back(&layer, &c);
  if (max_pairs > 0 && max_pairs < static_cast<int64_t>(todo.size())) {
    std::mt19937_64 rng(seed);
    std::shuffle(todo.begin(), todo.end(), rng);
    todo.resize(static_cast<size_t>(max_pairs));
  }
  std::map<std::string, torch::Tensor> hist;  // bias correction: input statistics, exact upstream
  if (bias_correction) hist = measure::input_histograms(model, samples);
  auto layers = quant::quant_layers(model);
  Progress bar("measure", static_cast<int64_t>(todo.size()), "pair");
  for (const auto& [layer, candidate] : todo) {
    quant::QuantLayer& quant_layer = *quant::find_quant_layer(layers, layer->name, "the estimate names");
    const std::shared_ptr<const ProductTable> exact_table = quant_layer.multiplier();
    Assignment one;
    one.layers[layer->name] = candidate->appmul;
    quant::apply_assignment(model, one, library);
    if (bias_correction)
      quant_layer.set_output_correction(measure::output_correction(quant_layer, hist.at(layer->name), *quant_layer.multiplier()));
    result.pairs.push_back({layer->name, candidate->appmul, candidate->dl, mean_loss(model, samples) - result.base_loss});
    quant_layer.set_multiplier(exact_table);
    quant_layer.set_output_correction(torch::Tensor());
    bar.advance();
  }
  quant::clear_multipliers(model);
  bar.finish();
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
  for (const auto& layer : est.layers) {
    auto it = by_layer.find(layer.name);
    if (it == by_layer.end()) continue;
    result.per_layer.push_back({layer.name, static_cast<int>(it->second.first.size()),
                                spearman(it->second.first, it->second.second),
                                kendall(it->second.first, it->second.second)});
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
                                           bool bias_correction) {
  apply_exact_tables(model, est, library);
  const double base = mean_loss(model, samples);
  std::vector<ConfigResult> results;
  for (const auto& file : assignment_files) {
    const Assignment assignment = Assignment::load(file);
    const double predicted = predicted_loss_change(est, assignment, file);
    apply_exact_tables(model, est, library);
    quant::apply_assignment(model, assignment, library);
    if (bias_correction) {
      const auto corrections = measure::bias_corrections(model, samples);
      auto layers = quant::quant_layers(model);
      for (const auto& [name, correction] : corrections)
        for (auto& [layer_name, layer] : layers)
          if (layer_name == name) layer->set_output_correction(correction);
    }
    results.push_back({file, predicted, mean_loss(model, samples) - base});
  }
  quant::clear_multipliers(model);
  return results;
}

}  // namespace fames::estimate
