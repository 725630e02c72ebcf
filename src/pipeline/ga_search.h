// The NSGA-II baseline (`fames search-ga`, and the GA of `fames run` and the FAMES-vs-GA bench):
// NSGA-II (select/nsga2.h) over per-layer AppMul choices, its fitness measured by an emulated
// evaluator (measure/evaluator.h): top-1 on held-out training images (maximized) and
// multiplication energy per image in fJ (minimized). Times are wall-clock seconds.
#pragma once
#include <nlohmann/json.hpp>

#include "measure/evaluator.h"
#include "select/nsga2.h"

namespace fames::pipeline {

struct GaRun {
  Nsga2Result search;
  double exact_top1 = 0;  // the all-exact genome, always evaluated first
};

// NSGA-II over the evaluator's candidates, the all-exact genome seeded into the first population.
// Shows a progress bar. `stop` may end the search early (see nsga2.h).
GaRun run_ga(measure::EmulatedEvaluator& evaluator, const Nsga2Options& options,
             const EvaluationCallback& stop = {});

// ga.json (docs/formats.md): the settings, the front (each point an assignment plus "top1",
// "seconds", "evaluation") and every evaluation's (seconds, top1, energy_reduction).
nlohmann::json ga_to_json(const measure::EmulatedEvaluator& evaluator, const GaRun& run,
                          const Nsga2Options& options);

}  // namespace fames::pipeline
