// Calibration (METHOD.md §4): recovers accuracy after AppMul substitution without retraining the
// weights. The model must already carry its multipliers (measure::apply_assignment). Optional
// steps, in this order, each kept only if the held-out figure (loss, or top-1) improves:
//   bias correction    each approximate layer subtracts, per output channel, the mean error of its
//                      AppMul, E[Y_table - Y_exact] over the calibration images and output
//                      positions (or the caller's given corrections, if better);
//   BN re-estimation   batch-norm running statistics recomputed with the AppMuls in the forward pass
//                      (over at most 4096 of the calibration images, as bias correction over 2048);
//   clipping tuning    only the learnable clipping values (weights per channel, activations) are
//                      trained, through the product-table forward and the straight-through
//                      backward; after every epoch the held-out figure decides: the best epoch's
//                      clips are kept and training stops after `patience` epochs without
//                      improvement; if an epoch was kept, bias correction runs again.
// Weights, biases and bits never change, unless `weights` asks for approximation-aware fine-tuning:
// then the clipping step also trains the conv/linear weights and biases and the BN scales and
// shifts (the step METHOD.md §4 leaves out; the held-out figure still decides what is kept).
// Only training-split images may be passed in.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace fames::calibrate {

struct CalibrateOptions {
  bool bn = true;                // BN re-estimation
  bool clip = true;              // clipping tuning
  bool bias_correction = false;  // per-channel AppMul bias correction
  bool weights = false;          // clipping tuning also trains weights, biases and BN affine
  // Which held-out figure decides whether a step is kept: the loss (false), or the top-1 (true;
  // ties by the loss) when the caller's bound is on top-1 and a lower loss can cost top-1.
  bool keep_on_top1 = false;
  // Output corrections found by another measurement (e.g. the sweep's evaluator, as
  // quant::output_corrections gives them); with bias_correction, that step also judges these and
  // keeps the better, so calibration never ends below the held-out figure they give. Null: none.
  nlohmann::json given_corrections;
  int epochs = 4;                // clipping tuning, at most
  int patience = 1;              // epochs without held-out improvement before stopping
  int64_t batch_size = 64;
  double lr = 1e-3;  // Adam, relative: each clip tensor steps by ~lr x its mean magnitude
  // The same for the fine-tuned weights, biases and BN affine. Ten times smaller than the clips':
  // fine-tuning takes many more steps on a whole training split, and at 1e-3 one epoch on 45,000
  // images (700 steps) made the 4-bit ResNet-20's held-out loss worse, at 1e-4 better.
  double weights_lr = 1e-4;
  uint64_t seed = 1;
  // With a path: after every clipping-tuning epoch the whole state (model, optimizer, random
  // stream, best epoch, report) is written there, and a calibration that finds the file continues
  // after its last epoch instead of starting over, and ends as one that never stopped. The caller
  // keys the path on everything calibration is given, and removes the file once it has kept what
  // calibration made. Empty: no resume state.
  std::string resume_path;
};

struct CalibrateReport {
  double holdout_top1_before = 0, holdout_loss_before = 0;
  double holdout_top1_after = 0, holdout_loss_after = 0;
  int epochs_run = 0, best_epoch = 0;  // best_epoch 0: the untuned clips were best
  double seconds = 0;
  std::vector<nlohmann::json>
      history;  // per epoch: {epoch, train_loss, holdout_loss, holdout_top1}
  nlohmann::json to_json() const;
};

// Calibrates `model` in place on `train` (tuning images) with early stopping on `holdout`.
// Throws fames::Error if `train` or `holdout` is empty.
CalibrateReport calibrate(torch::nn::Module& model, const Dataset& train, const Dataset& holdout,
                          const CalibrateOptions& options);

// Sets every approximate layer's output correction to its AppMul's mean per-channel error,
// E[Y_table - Y_exact] over `images` (at most `max_images` of them, a seeded subset) and all output
// positions, as measure::bias_corrections defines it (one pass, no corrections in the inputs).
// Layers without a multiplier get none. Returns the corrections as quant::output_corrections does.
nlohmann::json apply_bias_correction(torch::nn::Module& model, const Dataset& images,
                                     int64_t max_images = 2048, int64_t batch_size = 128);

}  // namespace fames::calibrate
