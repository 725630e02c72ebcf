// The measured side of selection (issue 6): the NSGA-II baseline with emulated fitness
// (`fames search-ga`), the FAMES Pareto sweep with each point's accuracy measured
// (`fames pareto`), and the two side by side (`fames bench select-vs-ga`). The CLI files only
// parse flags and print; everything they compute and write is here. Formats: docs/formats.md.
//
// Accuracy is always top-1 on held-out TRAINING images (holdout_images) by bit-exact emulation
// (measure::EmulatedEvaluator), so FAMES and the GA are judged by the same emulator on the same images; the
// bench also judges on further images that neither side saw (SelectVsGaOptions::judge).
// Energies are fJ per image from the estimate's candidates; reductions are relative to every layer
// on its exact AppMul. Times are wall-clock seconds. Errors throw fames::Error.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "appmul/library/library.h"
#include "data/dataset.h"
#include "estimate/estimator.h"
#include "models/checkpoint.h"
#include "measure/emulated_fitness.h"
#include "select/nsga2.h"
#include "select/selection.h"

namespace fames::pipeline {

// What search-ga and pareto start from: the model, the library (`library_dir`, else the
// estimate's), the candidates (`est_path`, else every fitting library AppMul), the training split
// of `data_spec` (else the model's dataset) and an evaluator on its held-out part.
struct SearchInputs {
  models::LoadedModel model;
  Library library;
  std::string library_dir, data_spec;
  std::unique_ptr<measure::EmulatedEvaluator> evaluator;  // refers to model.module
};
SearchInputs load_search_inputs(const std::string& model_path, const std::string& est_path,
                                const std::string& library_dir, const std::string& data_spec,
                                int64_t holdout, uint64_t seed);

// ---- fames search-ga ----
struct GaRun {
  Nsga2Result search;
  double exact_top1 = 0;  // the all-exact genome, always evaluated first
};

// NSGA-II over the evaluator's candidates, the all-exact genome seeded into the first population.
// Shows a progress bar. `stop` may end the search early (see nsga2.h).
GaRun run_ga(measure::EmulatedEvaluator& evaluator, const Nsga2Options& options,
             const EvaluationCallback& stop = {});

// ga.json: the settings, the front (each point an assignment plus "top1", "seconds",
// "evaluation") and every evaluation's (seconds, top1, energy_reduction).
nlohmann::json ga_to_json(const measure::EmulatedEvaluator& evaluator, const GaRun& run,
                          const Nsga2Options& options);

// ---- fames pareto ----
struct MeasuredPoint {
  ParetoPoint point;
  double top1 = 0;
};

// pareto_sweep() of the evaluator's estimate, each point measured. Shows a progress bar.
std::vector<MeasuredPoint> measured_pareto(measure::EmulatedEvaluator& evaluator, int steps,
                                           const SelectOptions& options = {});

// Writes DIR/pareto.json, pareto.csv, pareto.png and pareto.svg (gnuplot, report/plot.h).
// `info` is copied into pareto.json (model, data, ...). `ga_front` (optional, from ga.json's
// "front") is drawn beside the FAMES points.
void write_pareto_report(const std::string& dir, const std::vector<MeasuredPoint>& points,
                         double exact_top1, const nlohmann::json& info,
                         const nlohmann::json& ga_front = nullptr);

// ---- fames bench select-vs-ga ----
struct SelectVsGaOptions {
  double energy_reduction = 0.3;  // FAMES target
  int64_t samples = estimate::kDefaultEstimateSamples;  // estimation samples (training split, disjoint from holdout)
  int64_t holdout = 1000;
  uint64_t seed = 1;
  std::string hessian = "fisher";
  // FAMES estimates the loss change after per-channel bias correction, and the evaluator that
  // judges both sides corrects every configuration it measures (measure::EmulatedEvaluator).
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
// on its own) or its time limit ends. The held-out match is recorded either way.
// REQUIRES: `model` is a loaded quantized zoo model, `train` its training split.
SelectVsGaResult bench_select_vs_ga(torch::nn::Module& model, const Library& library,
                                    const std::string& library_dir, const Dataset& train,
                                    const SelectVsGaOptions& options);
nlohmann::json to_json(const SelectVsGaResult& result);

}  // namespace fames::pipeline
