// Measured loss changes: what an AppMul substitution really does to a model's mean cross-entropy,
// by bit-exact emulation, the quantity the estimator predicts (estimate/validate.h compares the
// two). Every measurement is against the model with every layer of the estimate on its exact
// AppMul's table: measuring against the fake-quant float path instead would add the float-rounding
// difference between the two paths (a few flipped downstream activation codes, up to ~0.004 loss on
// ResNet-20) to every substitution. The model is viewed (assigned_model.h): its multipliers and
// output corrections are as before when a function returns or throws. LibTorch code (fames_nn).
#pragma once
#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "appmul/library/library.h"
#include "core/assignment.h"
#include "core/estimate_file.h"
#include "data/dataset.h"

namespace fames::measure {

// Images per forward pass of every loss measured here.
constexpr int64_t kDefaultLossBatch = 256;

// Mean cross-entropy (nats per image) of the model's logits divided by `temperature`, in its current
// multiplier state, on `samples`; 0 for no samples.
double mean_loss(torch::nn::Module& model, const Dataset& samples, int64_t batch_size = kDefaultLossBatch,
                 double temperature = 1);

// The temperature T > 0 whose logits / T give the model (in its current multiplier state) its
// lowest mean cross-entropy on `samples` (temperature scaling; within 0.1% of the optimum, in
// [0.05, 20]); 1 for no samples. A model that is overconfident on images it did not train on has T >
// 1 there, and anything that shrinks its logits, e.g. an AppMul's noise, lowers its loss at T = 1;
// at the fitted T that gain is gone and the loss measures the harm.
double fitted_temperature(torch::nn::Module& model, const Dataset& samples);

// One layer of the estimate on one AppMul.
struct Substitution {
  std::string layer, appmul;
};

struct SingleLayerLosses {
  double temperature = 1;       // every loss here is of the logits divided by this
  double base_loss = 0;         // every estimate layer on its exact table
  std::vector<double> changes;  // [substitution]: its loss minus base_loss
  // [substitution]: the standard error of its change, from the spread of the per-image loss
  // differences: how far another draw of as many images could move it.
  std::vector<double> standard_errors;
};

// One substitution's entries of SingleLayerLosses.
struct PairMeasurement {
  double change = 0, standard_error = 0;
};

// Resuming a long measurement. known[i], when set, is substitution i's measurement from an earlier
// run on the same model, library, samples and correction: taken as is, not measured again (known
// is empty or has one entry per substitution). `measured`, when set, is called after each new
// measurement with its substitution's index, e.g. to keep a checkpoint.
struct MeasureResume {
  std::vector<std::optional<PairMeasurement>> known;
  std::function<void(size_t, const PairMeasurement&)> measured;
};

// The loss change of each substitution alone, every other estimate layer on its exact table. With
// `correct_on` the substituted layer also subtracts its per-channel mean error over those images
// (training images, as `fames run` and the estimator correct; they may be `samples`), from input
// statistics taken in one extra pass with every layer on its exact table. Losses are of
// the logits divided by `temperature`; 0: by the fitted_temperature() of the model with every
// estimate layer on its exact table (the result says which). Shows a progress bar. Throws
// fames::Error naming a layer or AppMul that the model or library lacks.
SingleLayerLosses single_layer_loss_changes(torch::nn::Module& model, const Estimate& est,
                                            const Library& library, const Dataset& samples,
                                            const std::vector<Substitution>& substitutions,
                                            const Dataset* correct_on = nullptr, const MeasureResume& resume = {},
                                            double temperature = 1);

// The loss change of each assignment (layers it does not name: exact tables) against every layer
// exact, at `temperature` (> 0) as mean_loss takes it. With `correct_on` every layer subtracts its
// mean error over those images as AssignedModel::correct_bias computes it.
std::vector<double> assignment_loss_changes(torch::nn::Module& model, const Estimate& est,
                                            const Library& library, const Dataset& samples,
                                            const std::vector<Assignment>& assignments,
                                            const Dataset* correct_on = nullptr, double temperature = 1);

}  // namespace fames::measure
