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

// The logits and labels of this rank's whole batches of `samples` (dist::shard), in image order.
struct ShardOutputs {
  torch::Tensor logits, labels;
};

ShardOutputs shard_outputs(torch::nn::Module& model, const Dataset& samples, const dist::Range& mine,
                           int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::vector<torch::Tensor> logits, labels;
  for (int64_t begin = mine.begin; begin < mine.end; begin += batch_size) {
    models::Batch batch = models::make_batch(samples, begin, std::min(batch_size, mine.end - begin));
    logits.push_back(models::run_model(model, batch.images));
    labels.push_back(batch.labels);
  }
  if (logits.empty()) return {torch::zeros({0, 1}), torch::zeros({0}, torch::kLong)};
  return {torch::cat(logits), torch::cat(labels)};
}

// Per-image cross-entropy of logits / temperature.
torch::Tensor per_image_losses(const ShardOutputs& outputs, double temperature) {
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = temperature == 1 ? outputs.logits : outputs.logits / temperature;
  return torch::cross_entropy_loss(logits, outputs.labels, {}, at::Reduction::None).to(torch::kDouble);
}

torch::Tensor shard_losses(torch::nn::Module& model, const Dataset& samples, const dist::Range& mine,
                           int64_t batch_size, double temperature) {
  return per_image_losses(shard_outputs(model, samples, mine, batch_size), temperature);
}

// The means over every rank's images of per-image values (`values[s]`: this rank's shard of value
// s), added batch by batch in batch order: the same bits as one process; one collective for all.
std::vector<double> global_means(const std::vector<torch::Tensor>& values, const dist::Range& mine, int64_t count,
                                 int64_t batch_size) {
  const size_t series = values.size();
  std::vector<double> batch_sums(static_cast<size_t>((count + batch_size - 1) / batch_size) * series, 0.0);
  for (int64_t begin = mine.begin; begin < mine.end; begin += batch_size)
    for (size_t s = 0; s < series; ++s)
      batch_sums[static_cast<size_t>(begin / batch_size) * series + s] =
          values[s].slice(0, begin - mine.begin, std::min(begin + batch_size, mine.end) - mine.begin).sum().item<double>();
  std::vector<double> means = dist::ordered_sums(std::move(batch_sums), series);
  for (double& m : means) m = count ? m / count : 0.0;
  return means;
}

// fitted_temperature() of outputs already computed (this rank's shard of `count` images). The mean
// loss is convex in 1/T, so a golden-section search over log T finds its minimum; every rank
// evaluates the same global means and so takes the same steps.
double fit_temperature(const ShardOutputs& outputs, const dist::Range& mine, int64_t count, int64_t batch_size) {
  if (count == 0) return 1;
  const auto loss_at = [&](double log_t) {
    return global_means({per_image_losses(outputs, std::exp(log_t))}, mine, count, batch_size)[0];
  };
  const double golden = (std::sqrt(5.0) - 1) / 2;
  double lo = std::log(0.05), hi = std::log(20.0);
  double a = hi - golden * (hi - lo), b = lo + golden * (hi - lo);
  double loss_a = loss_at(a), loss_b = loss_at(b);
  while (hi - lo > 1e-3) {
    if (loss_a <= loss_b) {
      hi = b, b = a, loss_b = loss_a;
      a = hi - golden * (hi - lo), loss_a = loss_at(a);
    } else {
      lo = a, a = b, loss_a = loss_b;
      b = lo + golden * (hi - lo), loss_b = loss_at(b);
    }
  }
  return std::exp(0.5 * (lo + hi));
}

}  // namespace

double mean_loss(torch::nn::Module& model, const Dataset& samples, int64_t batch_size, double temperature) {
  const dist::Range mine = dist::shard(samples.size(), batch_size);
  return global_means({shard_losses(model, samples, mine, batch_size, temperature)}, mine, samples.size(),
                      batch_size)[0];
}

double fitted_temperature(torch::nn::Module& model, const Dataset& samples) {
  const dist::Range mine = dist::shard(samples.size(), kDefaultLossBatch);
  return fit_temperature(shard_outputs(model, samples, mine, kDefaultLossBatch), mine, samples.size(),
                         kDefaultLossBatch);
}

SingleLayerLosses single_layer_loss_changes(torch::nn::Module& model, const Estimate& est,
                                            const Library& library, const Dataset& samples,
                                            const std::vector<Substitution>& substitutions,
                                            const Dataset* correct_on, const MeasureResume& resume,
                                            double temperature) {
  AssignedModel exact(model, with_exact_layers(est), library, Corrections::kClear);
  SingleLayerLosses out;
  const dist::Range mine = dist::shard(samples.size(), kDefaultLossBatch);
  const int64_t n = samples.size();
  const ShardOutputs base_outputs = shard_outputs(model, samples, mine, kDefaultLossBatch);
  out.temperature = temperature > 0 ? temperature : fit_temperature(base_outputs, mine, n, kDefaultLossBatch);
  const torch::Tensor base = per_image_losses(base_outputs, out.temperature);
  out.base_loss = global_means({base}, mine, n, kDefaultLossBatch)[0];
  std::map<std::string, torch::Tensor> hist;  // bias correction: input statistics, exact upstream
  if (correct_on) hist = input_histograms(model, *correct_on);
  Progress bar("measure", static_cast<int64_t>(substitutions.size()), "pair");
  for (size_t i = 0; i < substitutions.size(); ++i) {
    const Substitution& s = substitutions[i];
    if (i < resume.known.size() && resume.known[i]) {
      out.changes.push_back(resume.known[i]->change);
      out.standard_errors.push_back(resume.known[i]->standard_error);
      bar.advance();
      continue;
    }
    quant::QuantLayer& layer = exact.layer(s.layer, "the estimate names");
    const std::shared_ptr<const ProductTable> exact_table = layer.multiplier();
    layer.set_multiplier(appmul_table(library, s.appmul, layer, s.layer, est.library));
    if (correct_on)
      layer.set_output_correction(output_correction(layer, hist.at(s.layer), *layer.multiplier()));
    // Paired per-image differences: their mean is the change, their spread its standard error.
    const torch::Tensor difference = shard_losses(model, samples, mine, kDefaultLossBatch, out.temperature) - base;
    const std::vector<double> moments = global_means({difference, difference * difference}, mine, n, kDefaultLossBatch);
    const double change = moments[0], mean_square = moments[1];
    out.changes.push_back(change);
    out.standard_errors.push_back(
        n > 1 ? std::sqrt(std::max(0.0, mean_square - change * change) * n / (n - 1) / n) : 0.0);
    layer.set_multiplier(exact_table);
    layer.set_output_correction(torch::Tensor());
    if (resume.measured) resume.measured(i, {out.changes.back(), out.standard_errors.back()});
    bar.advance();
  }
  bar.finish();
  return out;
}

std::vector<double> assignment_loss_changes(torch::nn::Module& model, const Estimate& est,
                                            const Library& library, const Dataset& samples,
                                            const std::vector<Assignment>& assignments,
                                            const Dataset* correct_on, double temperature) {
  double base = 0;
  {
    AssignedModel exact(model, with_exact_layers(est), library, Corrections::kClear);
    base = mean_loss(model, samples, kDefaultLossBatch, temperature);
  }
  std::vector<double> changes;
  for (const Assignment& assignment : assignments) {
    AssignedModel assigned(model, with_exact_layers(est, assignment), library, Corrections::kClear);
    if (correct_on) assigned.correct_bias(*correct_on);
    changes.push_back(mean_loss(model, samples, kDefaultLossBatch, temperature) - base);
  }
  return changes;
}

}  // namespace fames::measure
