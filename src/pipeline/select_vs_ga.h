// `fames bench select-vs-ga`: FAMES (estimate + select) against the NSGA-II search it replaces
// (ga_search.h), on the same model, candidates and emulator (measure/evaluator.h). Accuracy is
// top-1 on held-out TRAINING images (holdout_images), so both sides are judged by the same emulator
// on the same images; the bench also judges on further images that neither side saw
// (SelectVsGaOptions::judge). Energies are fJ per image from the estimate's candidates; reductions
// are relative to every layer on its exact AppMul. Times are wall-clock seconds. Errors throw
// fames::Error.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "appmul/library/library.h"
#include "core/assignment.h"
#include "data/dataset.h"
#include "estimate/estimator.h"
#include "select/nsga2.h"

namespace fames::pipeline {

struct SelectVsGaOptions {
  double energy_reduction = 0.3;  // FAMES target
  int64_t samples = estimate::kDefaultEstimateSamples;  // estimation samples (training split, disjoint from holdout)
  int64_t holdout = 1000;
  uint64_t seed = 1;
  std::string hessian = "fisher";
  // FAMES estimates the loss change after per-channel bias correction, and the evaluator that
  // judges both sides corrects every configuration it measures (measure/evaluator.h).
  bool bias_correction = true;
  // As in `fames run`: FAMES selects on the curvature term alone (docs/estimator.md, "First-order term").
  bool first_order = false;
  // > 0: the match is judged on this many further training images that neither side has seen
  // (FAMES did not estimate on them, the GA did not score on them), so that the GA's fitting of its
  // own held-out images' sampling noise does not count as accuracy. 0: judged on the GA's held-out
  // images, as the GA sees them.
  int64_t judge = 1000;
  // > 0: the GA also stops once its own time reaches this multiple of FAMES's time (the speedup is
  // then at least this), whatever ga.time_limit_s says.
  double stop_at_speedup = 0;
  Nsga2Options ga = [] {          // the time limit, not the generations, normally ends the GA
    Nsga2Options o;
    o.generations = 100000;
    o.time_limit_s = 600;
    return o;
  }();
};

// When the GA first reached FAMES's configuration: top-1 at least FAMES's and energy at most
// FAMES's, on one set of images.
struct GaMatch {
  bool reached = false;
  double seconds = 0;           // the GA's own time to the match (judging excluded), else its whole run
  int64_t evaluations = 0;      // GA evaluations up to the match, else all
  double top1 = 0;              // of that configuration, else the GA's best at <= FAMES energy (NaN if none)
  double energy_reduction = 0;  // of the same configuration (NaN if none)
  double speedup = 0;           // seconds / fames_seconds (a lower bound if !reached)
};

struct SelectVsGaResult {
  double fames_seconds = 0;        // estimate (compute_terms + assemble_estimate) + select
  double fames_estimate_seconds = 0, fames_select_seconds = 0;
  double fames_energy_reduction = 0;
  double fames_top1 = 0, exact_top1 = 0;              // on the GA's held-out images
  double fames_judge_top1 = 0, exact_judge_top1 = 0;  // on the judging images (judge > 0)
  int64_t judge = 0;
  GaMatch held_out;                // judged on the GA's held-out images
  GaMatch judged;                  // judged on the judging images (judge > 0)
  int64_t ga_total_evaluations = 0;
  double ga_total_seconds = 0;     // the GA's own time (judging excluded)
  Assignment fames_assignment;
  // The headline comparison: `judged` when there are judging images, else `held_out`; the top-1
  // figures below come from the same images.
  const GaMatch& match() const { return judge > 0 ? judged : held_out; }
  double headline_exact_top1() const { return judge > 0 ? exact_judge_top1 : exact_top1; }
  double headline_fames_top1() const { return judge > 0 ? fames_judge_top1 : fames_top1; }
};

// FAMES (estimate + select) on `samples` training images, then the GA (scoring on `holdout`
// images) until it first matches FAMES's configuration on the judging images (or, with judge == 0,
// on its own) or its time limit ends. The held-out match is recorded either way. The GA's and the
// judging images are disjoint parts of `validation` when it is not empty (the validation split, no
// model trained on it), else of `train`.
// REQUIRES: `model` is a loaded quantized zoo model, `train` its training split. Throws
// fames::Error naming --holdout or --judge when the images do not suffice.
SelectVsGaResult bench_select_vs_ga(torch::nn::Module& model, const Library& library,
                                    const std::string& library_dir, const Dataset& train,
                                    const Dataset& validation, const SelectVsGaOptions& options);
nlohmann::json to_json(const SelectVsGaResult& result);

}  // namespace fames::pipeline
