// The whole FAMES flow in one call (`fames run`): estimate -> select -> calibrate -> evaluate,
// plus the measurements a report needs (the measured FAMES sweep, the GA and uniform single-family
// baselines, per-layer measured loss changes).
//
// Stages. The run is a sequence of named stages; each reads the files of the stages before it and
// writes its own into the report folder R (out_dir), atomically:
//   load           model, library, data (always runs; writes nothing)
//   exact_eval     R/parts/exact_eval.json     test top-1 with exact multipliers, per-image records
//   estimate       R/est.json                  FAMES stage 1
//   select         R/sweep.json                the measured sweep (fames-pareto format)
//   assign         R/assign.json               the selection for energy_reduction (that mode only)
//   calibrate      R/model-calibrated.pt, R/parts/calibrate.json, and in max-accuracy-loss mode
//                  R/assign.json (there the choice is made by calibrating)
//   final_eval     R/parts/final_eval.json     test top-1, calibrated and not
//   layer_measure  R/parts/layer_measure.json  per-layer predicted and measured loss changes
//   ga, uniform    R/parts/ga.json, R/parts/uniform.json (when asked for)
//   report         R/report.json, report.md, pareto.*, layers.* (always runs)
// R/manifest.json records, per finished stage, its options, the hashes of its input files and of
// its outputs (pipeline/run_manifest.h). A rerun with the same out_dir keeps every stage whose
// record still matches (same options, inputs and outputs as recorded) and recomputes the others;
// `force` recomputes all. Each stage reads its inputs from the files even when the stage before ran
// in the same process, so a resumed run computes exactly what an uninterrupted one does.
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
//                             calibrated in increasing order, past failures to points that could
//                             still pass (pipeline/probe_plan.h: the sweep's accuracy is not
//                             monotone in energy), or by bisection with finetune_weights (each probe
//                             costs epochs), then one bisection step between the best success and
//                             the failure just above it.
#pragma once
#include <optional>
#include <string>

#include "estimate/estimator.h"
#include "report/run_report.h"

namespace fames::pipeline {

struct RunOptions {
  std::string model, data, library;  // data empty: the model's dataset; library: an existing folder
  std::optional<double> energy_reduction;  // mode 1
  double max_accuracy_loss = 1.0;  // mode 2 (percentage points), used when no reduction is given
  // gn3's curvature term at the held-out images' fitted temperature (below) ranks the 4-bit
  // ResNet-20's 608 single-layer substitutions on all 5,000 validation images at Spearman 0.8029,
  // fisher's at temperature 1 at 0.7807 (docs/estimator.md); it costs about 4x fisher's estimate time.
  std::string hessian = "gn3";
  // The estimate's loss is of the logits divided by this (estimator.h EstimateOptions::temperature);
  // 0: the temperature that gives the exact model its lowest loss on the held-out images, the loss
  // `fames validate` measures. An overconfident model gains from any noise that shrinks its logits,
  // which hides the harm an AppMul does.
  double estimate_temperature = 0;
  // Select on the curvature term alone (estimator.h EstimateOptions::first_order): measured on
  // both ResNet-20 zoo models, it keeps more accuracy at the same energy (docs/estimator.md).
  bool first_order = false;
  int64_t estimate_samples = estimate::kDefaultEstimateSamples, calibration_samples = 4096, holdout = 0;
  int sweep_steps = 12;
  int calibration_epochs = 4;
  int calibration_patience = 1;  // epochs without validation improvement before calibration stops
  bool calibrate = true, bias_correction = true;
  bool finetune_weights = false;  // calibration also trains the weights (calibrate.h)
  bool calibrate_on_top1 = false;  // calibration keeps steps that raise validation top-1 (calibrate.h)
  // With max_accuracy_loss: a probe passes when its held-out top-1 minus this many paired standard
  // errors of its change from the exact model is within the bound (0: the figure alone). The
  // held-out figure is a sample; the bound is meant for unseen images (docs/RESULTS.md).
  double bound_confidence = 0;
  double ga_seconds = 60;  // 0: no GA baseline
  bool uniform_baseline = true;
  bool measure_layers = true;
  uint64_t seed = 1;
  std::string out_dir;  // the report folder R: every stage's files and the manifest
  bool force = false;   // recompute every stage, whatever the manifest says
  // Recorded in report.json (and, with the hash of the running executable, in every stage's
  // options: results of another build are not kept). The caller knows them; pipeline/ does not.
  std::string fames_version, command_line;
};

// Runs (or keeps) every stage and writes the report folder; prints one line per stage on stderr.
// Throws fames::Error on bad input or an impossible target (naming the flag and the largest
// feasible value).
report::RunReport run(const RunOptions& options);

}  // namespace fames::pipeline
