#include "measure/loss_change.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "dist/process_group.h"
#include "measure/assigned_model.h"
#include "measure/bias_correction.h"
#include "models/batches.h"
#include "models/zoo.h"
#include "util/progress.h"

namespace fames::measure {

namespace {

// Per-image cross-entropy of this rank's whole batches of `samples` (dist::shard), in image order.
torch::Tensor shard_losses(torch::nn::Module& model, const Dataset& samples, const dist::Range& mine,
                           int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::vector<torch::Tensor> losses;
  for (int64_t begin = mine.begin; begin < mine.end; begin += batch_size) {
    models::Batch batch = models::make_batch(samples, begin, std::min(batch_size, mine.end - begin));
    losses.push_back(torch::cross_entropy_loss(models::run_model(model, batch.images), batch.labels, {},
                                               at::Reduction::None)
                         .to(torch::kDouble));
  }
  return losses.empty() ? torch::zeros({0}, torch::kDouble) : torch::cat(losses);
}

// The mean over every rank's images of a per-image value (`values`: this rank's shard), added
// batch by batch in batch order: the same bits as one process.
double global_mean(const torch::Tensor& values, const dist::Range& mine, int64_t count, int64_t batch_size) {
  std::vector<double> batch_sum(static_cast<size_t>((count + batch_size - 1) / batch_size), 0.0);
  for (int64_t begin = mine.begin; begin < mine.end; begin += batch_size)
    batch_sum[begin / batch_size] =
        values.slice(0, begin - mine.begin, std::min(begin + batch_size, mine.end) - mine.begin).sum().item<double>();
  const double sum = dist::ordered_sum(std::move(batch_sum));
  return count ? sum / count : 0.0;
}

constexpr int64_t kLossBatch = 256;

}  // namespace

double mean_loss(torch::nn::Module& model, const Dataset& samples, int64_t batch_size) {
  const dist::Range mine = dist::shard(samples.size(), batch_size);
  return global_mean(shard_losses(model, samples, mine, batch_size), mine, samples.size(), batch_size);
}

SingleLayerLosses single_layer_loss_changes(torch::nn::Module& model, const Estimate& est,
                                            const Library& library, const Dataset& samples,
                                            const std::vector<Substitution>& substitutions,
                                            bool bias_correction) {
  AssignedModel exact(model, with_exact_layers(est), library, Corrections::kClear);
  SingleLayerLosses out;
  const dist::Range mine = dist::shard(samples.size(), kLossBatch);
  const int64_t n = samples.size();
  const torch::Tensor base = shard_losses(model, samples, mine, kLossBatch);
  out.base_loss = global_mean(base, mine, n, kLossBatch);
  std::map<std::string, torch::Tensor> hist;  // bias correction: input statistics, exact upstream
  if (bias_correction) hist = input_histograms(model, samples);
  Progress bar("measure", static_cast<int64_t>(substitutions.size()), "pair");
  for (const Substitution& s : substitutions) {
    quant::QuantLayer& layer = exact.layer(s.layer, "the estimate names");
    const std::shared_ptr<const ProductTable> exact_table = layer.multiplier();
    layer.set_multiplier(appmul_table(library, s.appmul, layer, s.layer, est.library));
    if (bias_correction)
      layer.set_output_correction(output_correction(layer, hist.at(s.layer), *layer.multiplier()));
    // Paired per-image differences: their mean is the change, their spread its standard error.
    const torch::Tensor difference = shard_losses(model, samples, mine, kLossBatch) - base;
    const double change = global_mean(difference, mine, n, kLossBatch);
    const double mean_square = global_mean(difference * difference, mine, n, kLossBatch);
    out.changes.push_back(change);
    out.standard_errors.push_back(
        n > 1 ? std::sqrt(std::max(0.0, mean_square - change * change) * n / (n - 1) / n) : 0.0);
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
