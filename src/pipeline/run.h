// The whole FAMES flow in one call (`fames run`): estimate -> select -> calibrate -> evaluate,
// plus the measurements a report needs (the measured FAMES sweep, the GA and uniform single-family
// baselines, per-layer measured loss changes).
//
// Data discipline: estimation, selection, calibration and every choice the run makes use the
// TRAINING split (estimation samples, calibration images and a held-out part, all disjoint); the
// test split is read only for the exact and final top-1 figures.
//
// Modes:
//   energy_reduction = R      select for reduction R, calibrate, evaluate.
//   max_accuracy_loss = P     the largest reduction whose calibrated held-out top-1 stays within P
//                             percentage points of the exact model's: the measured sweep gives the
//                             largest uncalibrated feasible point, then configurations above it are
//                             calibrated in increasing order until one fails (accuracy is assumed
//                             to fall with energy), then one bisection step between the last
//                             success and the first failure.
#pragma once
#include <torch/torch.h>

#include <optional>
#include <string>

#include "estimate/estimator.h"
#include "report/run_report.h"

namespace fames::pipeline {

struct RunOptions {
  std::string model, data, library;  // data empty: the model's dataset; library: an existing folder
  std::optional<double> energy_reduction;  // mode 1
  double max_accuracy_loss = 1.0;  // mode 2 (percentage points), used when no reduction is given
  std::string hessian = "fisher";
  // Select on the curvature term alone (estimator.h EstimateOptions::first_order): measured on
  // both ResNet-20 zoo models, it keeps more accuracy at the same energy (docs/estimator.md).
  bool first_order = false;
  int64_t estimate_samples = estimate::kDefaultEstimateSamples, calibration_samples = 4096, holdout = 1000;
  int sweep_steps = 12;
  int calibration_epochs = 4;
  bool calibrate = true, bias_correction = true;
  bool finetune_weights = false;  // calibration also trains the weights (calibrate.h)
  double ga_seconds = 60;  // 0: no GA baseline
  bool uniform_baseline = true;
  bool measure_layers = true;
  uint64_t seed = 1;
  std::string
      out_dir;  // report folder; also receives est.json, assign.json and the calibrated model
};

// Runs everything and writes the report folder. Throws fames::Error on bad input or an impossible
// target (naming the flag and the largest feasible value).
report::RunReport run(const RunOptions& options);

}  // namespace fames::pipeline
