#include "measure/loss_change.h"

#include <map>

#include "dist/process_group.h"
#include "measure/assigned_model.h"
#include "measure/bias_correction.h"
#include "models/batches.h"
#include "models/zoo.h"
#include "util/progress.h"

namespace fames::measure {

double mean_loss(torch::nn::Module& model, const Dataset& samples, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model.eval();
  // Data-parallel: whole batches per rank, their sums added in batch order (same bits as one process).
  const dist::Range mine = dist::shard(samples.size(), batch_size);
  std::vector<double> batch_loss(static_cast<size_t>((samples.size() + batch_size - 1) / batch_size), 0.0);
  for (int64_t begin = mine.begin; begin < mine.end; begin += batch_size) {
    const int64_t count = std::min(batch_size, mine.end - begin);
    models::Batch batch = models::make_batch(samples, begin, count);
    batch_loss[begin / batch_size] =
        torch::cross_entropy_loss(models::run_model(model, batch.images), batch.labels, {}, at::Reduction::Sum)
            .item<double>();
  }
  const double sum = dist::ordered_sum(std::move(batch_loss));
  return samples.size() ? sum / samples.size() : 0.0;
}

SingleLayerLosses single_layer_loss_changes(torch::nn::Module& model, const Estimate& est,
                                            const Library& library, const Dataset& samples,
                                            const std::vector<Substitution>& substitutions,
                                            bool bias_correction) {
  AssignedModel exact(model, with_exact_layers(est), library, Corrections::kClear);
  SingleLayerLosses out;
  out.base_loss = mean_loss(model, samples);
  std::map<std::string, torch::Tensor> hist;  // bias correction: input statistics, exact upstream
  if (bias_correction) hist = input_histograms(model, samples);
  Progress bar("measure", static_cast<int64_t>(substitutions.size()), "pair");
  for (const Substitution& s : substitutions) {
    quant::QuantLayer& layer = exact.layer(s.layer, "the estimate names");
    const std::shared_ptr<const ProductTable> exact_table = layer.multiplier();
    layer.set_multiplier(appmul_table(library, s.appmul, layer, s.layer, est.library));
    if (bias_correction)
      layer.set_output_correction(output_correction(layer, hist.at(s.layer), *layer.multiplier()));
    out.changes.push_back(mean_loss(model, samples) - out.base_loss);
    layer.set_multiplier(exact_table);
    layer.set_output_correction(torch::Tensor());
    bar.advance();
  }
  bar.finish();
  return out;
}

std::vector<double> assignment_loss_changes(torch::nn::Module& model, const Estimate& est,
                                            const Library& library, const Dataset& samples,
                                            const std::vector<Assignment>& assignments,
                                            bool bias_correction) {
  double base = 0;
  {
    AssignedModel exact(model, with_exact_layers(est), library, Corrections::kClear);
    base = mean_loss(model, samples);
  }
  std::vector<double> changes;
  for (const Assignment& assignment : assignments) {
    AssignedModel assigned(model, with_exact_layers(est, assignment), library, Corrections::kClear);
    if (bias_correction) assigned.correct_bias(samples);
    changes.push_back(mean_loss(model, samples) - base);
  }
  return changes;
}

}  // namespace fames::measure
