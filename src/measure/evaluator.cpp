#include "measure/evaluator.h"

#include <algorithm>
#include <chrono>

#include "dist/process_group.h"
#include "measure/bias_correction.h"
#include "models/zoo.h"
#include "util/error.h"

namespace fames::measure {
namespace {

// One forward pass over the first images of `data`: makes sure clipping is initialised before
// tables are attached and lets every layer record its macs per image.
void warm_up(torch::nn::Module& model, const Dataset& data) {
  if (data.size() == 0) fail("no images to run the model on (empty hold-out set)");
  torch::NoGradGuard no_grad;
  model.eval();
  models::run_model(model, models::make_batch(data, 0, std::min<int64_t>(4, data.size())).images);
}

}  // namespace

Estimate candidates_from_library(torch::nn::Module& model, const Library& library,
                                 const Dataset& sample, const std::string& library_dir) {
  warm_up(model, sample);
  Estimate est;
  est.library = library_dir;
  est.hessian = "none";
  for (const auto& [name, layer] : quant::quant_layers(model)) {
    const Signature sig = layer->signature();
    const AppMul* exact = library.exact(sig);
    if (!exact)
      fail("the AppMul library '{}' has no exact multiplier for {} (layer {}); build it with "
           "'fames lib build'",
           library_dir, sig.key(), name);
    EstimateLayer l;
    l.name = name;
    l.signature = sig;
    l.macs = layer->macs_per_image();
    l.exact = exact->name;
    for (const AppMul* m : library.of_signature(sig)) {
      l.candidates.push_back({m->name, 0.0, m->energy_fj});
      est.appmuls[m->name] = {sig, m->energy_fj, m->metrics.mred};
    }
    est.layers.push_back(std::move(l));
  }
  est.validate("library '" + library_dir + "'");
  return est;
}

EmulatedEvaluator::EmulatedEvaluator(torch::nn::Module& model, Estimate estimate,
                                     const Library& library, const Dataset& holdout,
                                     int64_t batch_size)
    : view_(model), estimate_(std::move(estimate)), holdout_size_(holdout.size()) {
  models::use_channels_last(model);
  warm_up(model, holdout);
  for (const EstimateLayer& layer : estimate_.layers) {
    const auto& quant_layer = quant::find_quant_layer(view_.layers(), layer.name, "the estimate names");
    if (quant_layer->signature() != layer.signature)
      fail("layer '{}' is {} in the model but {} in the estimate", layer.name,
           quant_layer->signature().key(), layer.signature.key());
    layers_.push_back(quant_layer);
    std::vector<std::shared_ptr<const ProductTable>> tables;
    for (const EstimateCandidate& c : layer.candidates)
      tables.push_back(appmul_table(library, c.appmul, *quant_layer, layer.name, estimate_.library));
    tables_.push_back(std::move(tables));
  }
  exact_index_ = exact_choice();
  const dist::Range mine = dist::shard(holdout.size(), batch_size);  // data-parallel: top1() sums the ranks
  for (int64_t begin = mine.begin; begin < mine.end; begin += batch_size)
    batches_.push_back(models::make_batch(holdout, begin, std::min(batch_size, mine.end - begin)));
}

void EmulatedEvaluator::enable_bias_correction(const Dataset& images) {
  clear_multipliers(view_.model());
  const auto by_name = input_histograms(view_.model(), images);
  histograms_.clear();
  for (const EstimateLayer& layer : estimate_.layers) histograms_.push_back(by_name.at(layer.name));
  corrections_.assign(layers_.size(), {});
  for (size_t k = 0; k < layers_.size(); ++k) corrections_[k].resize(tables_[k].size());
}

void EmulatedEvaluator::apply(const std::vector<int>& choice) {
  if (choice.size() != layers_.size())
    fail("internal: {} choices for {} layers", choice.size(), layers_.size());
  for (size_t k = 0; k < layers_.size(); ++k) {
    const auto& table = tables_[k].at(choice[k]);
    layers_[k]->set_multiplier(table);
    torch::Tensor correction;
    if (bias_correction() && choice[k] != exact_index_[k]) {
      torch::Tensor& cached = corrections_[k][choice[k]];
      if (!cached.defined()) cached = output_correction(*layers_[k], histograms_[k], *table);
      correction = cached;
    }
    // An unchanged correction keeps the layer's cached emulation state (setting one resets it).
    // Undefined tensors are the same as each other.
    if (!correction.is_same(layers_[k]->output_correction()))
      layers_[k]->set_output_correction(correction);
  }
}

double EmulatedEvaluator::top1(const std::vector<int>& choice) {
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  torch::nn::Module& model = view_.model();
  model.eval();
  apply(choice);
  // Data-parallel: each rank measures its batches of the same configuration (a selection that hit
  // CBC's time limit could differ between ranks: that ends the run instead of mixing two).
  dist::check_same_as_root(std::string(reinterpret_cast<const char*>(choice.data()), choice.size() * sizeof(int)),
                           "the configuration to measure");
  std::vector<int64_t> correct{0};
  for (const models::Batch& batch : batches_)
    correct[0] += models::run_model(model, batch.images).argmax(1).eq(batch.labels).sum().item<int64_t>();
  dist::sum(correct);
  ++evaluations_;
  eval_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return holdout_size_ ? static_cast<double>(correct[0]) / static_cast<double>(holdout_size_) : 0.0;
}

double EmulatedEvaluator::energy_fj(const std::vector<int>& choice) const {
  double total = 0;
  for (size_t k = 0; k < estimate_.layers.size(); ++k) {
    const EstimateLayer& layer = estimate_.layers[k];
    total += layer.energy_fj_per_image(layer.candidates.at(choice.at(k)));
  }
  return total;
}

double EmulatedEvaluator::energy_reduction(double energy_fj) const {
  const double exact = exact_energy_fj();
  return exact > 0 ? 1.0 - energy_fj / exact : 0.0;
}

std::vector<int> EmulatedEvaluator::choice_counts() const {
  std::vector<int> counts;
  for (const EstimateLayer& layer : estimate_.layers) counts.push_back(static_cast<int>(layer.candidates.size()));
  return counts;
}

std::vector<int> EmulatedEvaluator::exact_choice() const { return choice_of(Assignment{}); }

std::vector<int> EmulatedEvaluator::choice_of(const Assignment& assignment) const {
  std::vector<int> choice;
  for (const EstimateLayer& layer : estimate_.layers) {
    auto it = assignment.layers.find(layer.name);
    const std::string& name = it == assignment.layers.end() ? layer.exact : it->second;
    int index = -1;
    for (size_t j = 0; j < layer.candidates.size(); ++j)
      if (layer.candidates[j].appmul == name) index = static_cast<int>(j);
    if (index < 0) fail("AppMul '{}' is not a candidate of layer '{}'", name, layer.name);
    choice.push_back(index);
  }
  return choice;
}

}  // namespace fames::measure
