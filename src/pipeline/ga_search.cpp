#include "pipeline/ga_search.h"

#include <fmt/format.h>

#include <algorithm>

#include "dist/process_group.h"
#include "select/selection.h"
#include "util/progress.h"

namespace fames::pipeline {

GaRun run_ga(measure::EmulatedEvaluator& evaluator, const Nsga2Options& options,
             const EvaluationCallback& stop) {
  Nsga2Options opts = options;
  opts.initial.insert(opts.initial.begin(), evaluator.exact_choice());
  // Data-parallel: every evaluation is a collective, so the ranks stop together, on rank 0's clock.
  const double time_limit_s = opts.time_limit_s;
  if (dist::active()) opts.time_limit_s = 0;
  auto fitness = [&](const Genome& g) { return Fitness{evaluator.top1(g), evaluator.energy_fj(g)}; };
  // Distinct genomes are at most population * (generations + 1); with a time limit, unknown.
  const int64_t budget = time_limit_s > 0 ? 0 : static_cast<int64_t>(opts.population) * (opts.generations + 1);
  Progress bar("GA", budget, "eval");
  double best_saving_at_exact = -1;  // largest reduction with top1 >= the exact model's
  GaRun run;
  run.search = run_nsga2(evaluator.choice_counts(), fitness, opts, [&](const Evaluation& e) {
    if (e.genome == opts.initial.front()) run.exact_top1 = e.fitness.accuracy;
    if (e.fitness.accuracy >= run.exact_top1)
      best_saving_at_exact = std::max(best_saving_at_exact, evaluator.energy_reduction(e.fitness.energy));
    bar.advance(1, fmt::format("gen {}, {:.1f}% saved at exact top-1", e.generation,
                               100 * std::max(0.0, best_saving_at_exact)));
    const bool done = stop && stop(e);
    return dist::active() ? dist::root_decides(done || (time_limit_s > 0 && e.seconds >= time_limit_s)) : done;
  });
  bar.finish(fmt::format("{} evaluations, {:.1f} s", run.search.evaluations.size(), run.search.seconds));
  return run;
}

nlohmann::json ga_to_json(const measure::EmulatedEvaluator& evaluator, const GaRun& run,
                          const Nsga2Options& options) {
  const Estimate& est = evaluator.estimate();
  nlohmann::json front = nlohmann::json::array(), history = nlohmann::json::array();
  for (size_t i : run.search.front) {
    const Evaluation& e = run.search.evaluations[i];
    nlohmann::json point = make_assignment(est, e.genome, "nsga2", e.seconds).to_json();
    point["top1"] = e.fitness.accuracy;
    point["evaluation"] = i;
    point["generation"] = e.generation;
    front.push_back(std::move(point));
  }
  for (const Evaluation& e : run.search.evaluations)
    history.push_back({e.seconds, e.fitness.accuracy, evaluator.energy_reduction(e.fitness.energy)});
  return {{"format", "fames-ga"},
          {"version", 1},
          {"library", est.library},
          {"holdout", evaluator.holdout_size()},
          {"seed", options.seed},
          {"population", options.population},
          {"generations", options.generations},
          {"time_limit_s", options.time_limit_s},
          {"generations_done", run.search.generations_done},
          {"stopped_early", run.search.stopped_early},
          {"seconds", run.search.seconds},
          {"evaluations", run.search.evaluations.size()},
          {"exact_top1", run.exact_top1},
          {"exact_energy_fj_per_image", evaluator.exact_energy_fj()},
          {"front", front},
          {"history_columns", {"seconds", "top1", "energy_reduction"}},
          {"history", history}};
}

}  // namespace fames::pipeline
