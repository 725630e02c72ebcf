// Validation of the estimator against measurement (METHOD.md §2, assumptions a and b): predicted
// loss changes against the true ones of single-layer substitutions and of multi-layer
// configurations, measured (measure/loss_change.h) on the images the caller gives (the estimation
// samples or validation images), the rank correlations between the two, and those of the proxies a
// user would otherwise reach for.
#pragma once
#include <torch/torch.h>

#include <cmath>
#include <functional>
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
  double measured_se = 0;  // standard error of `measured` over the images (0: not known)
  // Whether the measurement resolves the change: |measured| at least twice its standard error.
  // Ranking the others ranks the image draw's noise as much as the substitution.
  bool resolved() const { return measured_se > 0 && std::abs(measured) >= 2 * measured_se; }
};

struct LayerCorrelation {
  std::string layer;
  int pairs = 0;
  double spearman = 0, kendall = 0;
};

// A ranking that does not need the estimator, scored against the same measurements.
struct ControlCorrelation {
  std::string name;
  double spearman = 0, kendall = 0;
  double spearman_resolved = 0, kendall_resolved = 0;  // over the resolved pairs only
};

struct ValidationResult {
  std::vector<PairResult> pairs;
  double spearman = 0, kendall = 0;
  // The same over the resolved pairs (PairResult::resolved; none when no pair has a standard error).
  int pairs_resolved = 0;
  double spearman_resolved = 0, kendall_resolved = 0;
  // What the measurement's own noise leaves: the median Spearman between the measured changes and
  // the same plus a fresh draw of each pair's noise (normal, its standard error), as if an estimate
  // knew every measured change exactly and were judged on another draw of as many images. Treating
  // the measured values as the truth overstates their spread, so this is optimistic: no estimate
  // can expect to score much above it. 1 when no pair has a standard error.
  double spearman_ceiling = 1;
  // Nearer what an estimate that knew every pair's expected change would score against these
  // measurements: the ceiling's draws repeated with one and two draws of noise added first, and
  // the trend extrapolated back to no measurement noise at all (a parabola through the three). An
  // upper estimate: with known changes (tests/estimate/validate_test.cpp) it lies above their score,
  // by up to about a tenth, and below the ceiling. 1 when no pair has a standard error.
  double spearman_attainable = 1;
  std::vector<LayerCorrelation> per_layer;
  std::vector<ControlCorrelation> controls;  // filled by score_controls()
  double temperature = 1;  // the measured losses are of the logits divided by this
  double base_loss = 0;
  double measure_seconds = 0;
};

// Resuming validate_single_layer: pairs of `known` (matched by layer and AppMul; measured on the
// same model, library, images and correction) are taken as measured. `on_measured`, when set, gets
// every pair measured so far (in measurement order, `predicted` from the estimate) after each new
// one: what a checkpoint keeps.
struct ValidateResume {
  std::vector<PairResult> known;
  std::function<void(const std::vector<PairResult>&)> on_measured;
};

// Measures every non-exact (layer, AppMul) pair of `est` (or `max_pairs` of them, drawn with `seed`;
// max_pairs <= 0 means all): loss with only that layer substituted minus the exact loss. With
// `correct_on`, the substituted layer also subtracts its per-channel mean error over those images
// (the estimation samples: the correction the estimate predicts for; its input statistics come from
// one extra pass, included in the time). Losses are at
// `temperature` as measure::single_layer_loss_changes takes it (0: fitted on `samples`). The
// model's multipliers and corrections are as before afterwards.
ValidationResult validate_single_layer(torch::nn::Module& model, const Estimate& est, const Library& library,
                                       const Dataset& samples, int64_t max_pairs, uint64_t seed,
                                       const Dataset* correct_on = nullptr, const ValidateResume& resume = {},
                                       double temperature = 1);

// Fills result.spearman, kendall and per_layer (in est's layer order) from result.pairs.
void score_pairs(const Estimate& est, ValidationResult& result);

// What the controls need of each layer besides the estimate.
struct ControlLayer {
  std::string name;
  double trace_per_weight = 0;  // models::weight_hessian_traces()
  double product_step_sq = 0;   // mean over output channels of (s_w * s_a)^2: an integer product's unit, squared
};

// The proxies a user would otherwise rank substitutions by, as controls for the estimate: per pair,
// the AppMul's MSE in the layer's real units times its multiplications ("mse_x_macs": MSE x
// product_step_sq x macs, the squared error the AppMul adds to the layer's outputs per image), its
// MRED times the multiplications ("mred_x_macs"), and mse_x_macs times the layer's weight Hessian
// trace per weight ("hawq"). Error metrics are the library's (uniform operands). Throws fames::Error
// naming the AppMul if a pair's AppMul is not in `library`, or the layer if `layers` lacks it.
void score_controls(const Estimate& est, const Library& library, const std::vector<ControlLayer>& layers,
                    ValidationResult& result);

struct ConfigResult {
  std::string name;
  double predicted = 0, measured = 0;
};

// Sum of the predicted dL of the assignment's layers. Throws fames::Error naming `source` if a
// (layer, AppMul) is not in the estimate.
double predicted_loss_change(const Estimate& est, const Assignment& assignment, const std::string& source);

// Additivity: for each assignment, the sum of its layers' predicted dL against the measured loss
// change, at `temperature` (> 0). With `correct_on`, the layers are corrected over those images as
// measure/bias_correction.h defines it. Throws fames::Error naming the file of an assignment that is
// unreadable or not in the estimate.
std::vector<ConfigResult> validate_configs(torch::nn::Module& model, const Estimate& est, const Library& library,
                                           const Dataset& samples, const std::vector<std::string>& assignment_files,
                                           const Dataset* correct_on = nullptr, double temperature = 1);

}  // namespace fames::estimate
