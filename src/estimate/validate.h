// Validation of the estimator against measurement (METHOD.md §2, assumptions a and b): predicted
// loss changes against the true ones of single-layer substitutions and of multi-layer
// configurations, measured (measure/loss_change.h) on the same training samples the estimate used,
// and the rank correlations between the two.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "appmul/library/library.h"
#include "data/dataset.h"
#include "core/assignment.h"
#include "core/estimate_file.h"

namespace fames::estimate {

struct PairResult {
  std::string layer, appmul;
  double predicted = 0, measured = 0;
};

struct LayerCorrelation {
  std::string layer;
  int pairs = 0;
  double spearman = 0, kendall = 0;
};

struct ValidationResult {
  std::vector<PairResult> pairs;
  double spearman = 0, kendall = 0;
  std::vector<LayerCorrelation> per_layer;
  double base_loss = 0;
  double measure_seconds = 0;
};

// Measures every non-exact (layer, AppMul) pair of `est` (or `max_pairs` of them, drawn with `seed`;
// max_pairs <= 0 means all): loss with only that layer substituted minus the exact loss. With
// `bias_correction`, the substituted layer also subtracts its per-channel mean error over `samples`
// (its input statistics come from one extra pass, included in the time). The model's multipliers
// and corrections are as before afterwards.
ValidationResult validate_single_layer(torch::nn::Module& model, const Estimate& est, const Library& library,
                                       const Dataset& samples, int64_t max_pairs, uint64_t seed,
                                       bool bias_correction = false);

// Fills result.spearman, kendall and per_layer (in est's layer order) from result.pairs.
void score_pairs(const Estimate& est, ValidationResult& result);

struct ConfigResult {
  std::string name;
  double predicted = 0, measured = 0;
};

// Sum of the predicted dL of the assignment's layers. Throws fames::Error naming `source` if a
// (layer, AppMul) is not in the estimate.
double predicted_loss_change(const Estimate& est, const Assignment& assignment, const std::string& source);

// Additivity: for each assignment, the sum of its layers' predicted dL against the measured loss
// change. With `bias_correction`, the layers are corrected as measure/bias_correction.h defines it.
// Throws fames::Error naming the file of an assignment that is unreadable or not in the estimate.
std::vector<ConfigResult> validate_configs(torch::nn::Module& model, const Estimate& est, const Library& library,
                                           const Dataset& samples, const std::vector<std::string>& assignment_files,
                                           bool bias_correction = false);

}  // namespace fames::estimate
