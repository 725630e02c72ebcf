#include "pipeline/select_vs_ga.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "measure/evaluator.h"
#include "pipeline/ga_search.h"
#include "select/selection.h"
#include "util/error.h"

namespace fames::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Finite numbers as JSON numbers, anything else as null (JSON has no NaN).
nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

// The bench's images, in disjoint sets.
struct BenchImages {
  Dataset held;        // the GA scores on these
  Dataset corrective;  // the evaluators' bias correction (both sides); FAMES estimates on `samples`
  Dataset samples;     //   of them (all of them by default)
  Dataset judged;      // neither estimated on nor scored by the GA; empty when options.judge == 0
};

BenchImages split_images(const Dataset& train, const Dataset& validation, const SelectVsGaOptions& options) {
  BenchImages images;
  const bool on_val = validation.size() > 0;
  // The judging images come from what the GA's draw leaves of the same set; FAMES learns from the
  // training split (without a validation split, from what the draw leaves of it).
  auto [rest, held] = holdout_images(on_val ? validation : train, options.holdout, options.seed);
  images.held = std::move(held);
  const Dataset& learn_from = on_val ? train : rest;
  // At least the default estimation count of corrective images, as subset(learn_from, samples,
  // seed) would draw them.
  const int64_t corrective_count = std::max(options.samples, estimate::kDefaultEstimateSamples);
  if (corrective_count >= learn_from.size())
    fail("--samples {} leaves no training images besides the estimation samples and --holdout", options.samples);
  auto [others, corrective] = split_holdout(learn_from, corrective_count, options.seed);
  images.corrective = std::move(corrective);
  images.samples = subset(images.corrective, options.samples, options.seed);
  const Dataset& judge_from = on_val ? rest : others;
  if (options.judge > 0) {
    if (options.judge >= judge_from.size())
      fail("--judge {}: only {} {} images are left after --holdout and --samples", options.judge, judge_from.size(),
           on_val ? "validation" : "training");
    images.judged = subset(judge_from, options.judge, options.seed ^ 0x6a75646765ull);
  }
  return images;
}

// FAMES: estimate + select, timed in-process (model and library already loaded, as for the GA).
// Fills r's FAMES times and assignment; returns the estimate.
Estimate run_fames(torch::nn::Module& model, const Library& library, const std::string& library_dir,
                   const Dataset& samples, const SelectVsGaOptions& options, SelectVsGaResult& r) {
  estimate::EstimateOptions eopt;
  estimate::parse_hessian(options.hessian, eopt);
  eopt.seed = options.seed;
  eopt.bias_correction = options.bias_correction;
  eopt.first_order = options.first_order;
  const auto fames_start = Clock::now();
  const auto terms = estimate::compute_terms(model, samples, eopt, &library);
  Estimate est = estimate::assemble_estimate(terms, library, eopt);
  est.library = library_dir;
  r.fames_estimate_seconds = since(fames_start);
  check_energy_reduction(est, options.energy_reduction, "--energy-reduction");
  const auto select_start = Clock::now();
  r.fames_assignment = select_for_energy_reduction(est, options.energy_reduction);
  r.fames_select_seconds = since(select_start);
  r.fames_seconds = since(fames_start);
  return est;
}

// The first evaluation (in order) at energy <= `max_energy` with top-1 >= `min_top1`, where
// `top1_of(i)` is evaluation i's top-1 on the judging images (NaN: not measured, at higher energy).
// `own_seconds[i]` is the GA's own time at evaluation i.
GaMatch find_match(const std::vector<Evaluation>& ev, const std::vector<double>& own_seconds,
                   double total_seconds, const std::function<double(size_t)>& top1_of, double min_top1,
                   double max_energy, const measure::EmulatedEvaluator& evaluator, double fames_seconds) {
  GaMatch m;
  m.top1 = m.energy_reduction = std::numeric_limits<double>::quiet_NaN();
  for (size_t i = 0; i < ev.size(); ++i) {
    if (ev[i].fitness.energy > max_energy) continue;
    const double top1 = top1_of(i);
    if (top1 >= min_top1) {
      m.reached = true;
      m.seconds = own_seconds[i];
      m.evaluations = static_cast<int64_t>(i) + 1;
      m.top1 = top1;
      m.energy_reduction = evaluator.energy_reduction(ev[i].fitness.energy);
      break;
    }
    if (!(top1 <= m.top1)) {  // the best so far (NaN m.top1 compares false)
      m.top1 = top1;
      m.energy_reduction = evaluator.energy_reduction(ev[i].fitness.energy);
    }
  }
  if (!m.reached) {
    m.seconds = total_seconds;
    m.evaluations = static_cast<int64_t>(ev.size());
  }
  m.speedup = fames_seconds > 0 ? m.seconds / fames_seconds : 0.0;
  return m;
}

nlohmann::json match_to_json(const GaMatch& m) {
  return {{"reached", m.reached},
          {"ga_seconds", m.seconds},
          {"ga_evaluations", m.evaluations},
          {"ga_top1", number_or_null(m.top1)},
          {"ga_energy_reduction", number_or_null(m.energy_reduction)},
          {"speedup", m.speedup},
          {"speedup_is_lower_bound", !m.reached}};
}

// The GA on `evaluator` until it first matches FAMES (top-1 >= FAMES's at energy <= `fames_energy`)
// on the images that decide the headline (`judge`'s when given), or its own time limit ends. Every
// GA configuration at no more energy than FAMES's is also measured on `judge`; the GA's clock runs
// meanwhile, so that time is taken off its times and its time limit is enforced here on its own
// clock. Fills r's GA figures and both matches.
void run_judged_ga(measure::EmulatedEvaluator& evaluator, measure::EmulatedEvaluator* judge,
                   double fames_energy, const SelectVsGaOptions& options, SelectVsGaResult& r) {
  Nsga2Options ga_options = options.ga;
  double own_limit = ga_options.time_limit_s;
  if (options.stop_at_speedup > 0) {
    const double enough = options.stop_at_speedup * r.fames_seconds;
    own_limit = own_limit > 0 ? std::min(own_limit, enough) : enough;
  }
  if (own_limit > 0) ga_options.time_limit_s = std::numeric_limits<double>::infinity();
  std::vector<double> judge_top1, judging_before;  // per evaluation
  double judging_seconds = 0;
  auto on_evaluation = [&](const Evaluation& e) {
    judging_before.push_back(judging_seconds);
    judge_top1.push_back(std::numeric_limits<double>::quiet_NaN());
    bool matched = false;
    if (e.fitness.energy <= fames_energy) {
      if (!judge) {
        matched = e.fitness.accuracy >= r.fames_top1;
      } else {
        const auto start = Clock::now();
        judge_top1.back() = judge->top1(e.genome);
        judging_seconds += since(start);
        matched = judge_top1.back() >= r.fames_judge_top1;
      }
    }
    return matched || (own_limit > 0 && e.seconds - judging_before.back() >= own_limit);
  };
  const GaRun ga = run_ga(evaluator, ga_options, on_evaluation);
  const auto& ev = ga.search.evaluations;
  std::vector<double> own_seconds(ev.size());
  for (size_t i = 0; i < ev.size(); ++i) own_seconds[i] = ev[i].seconds - judging_before[i];
  r.ga_total_evaluations = static_cast<int64_t>(ev.size());
  r.ga_total_seconds = ga.search.seconds - judging_seconds;
  r.held_out = find_match(ev, own_seconds, r.ga_total_seconds, [&](size_t i) { return ev[i].fitness.accuracy; },
                          r.fames_top1, fames_energy, evaluator, r.fames_seconds);
  if (judge)
    r.judged = find_match(ev, own_seconds, r.ga_total_seconds, [&](size_t i) { return judge_top1[i]; },
                          r.fames_judge_top1, fames_energy, evaluator, r.fames_seconds);
}

}  // namespace

SelectVsGaResult bench_select_vs_ga(torch::nn::Module& model, const Library& library,
                                    const std::string& library_dir, const Dataset& train,
                                    const Dataset& validation, const SelectVsGaOptions& options) {
  const BenchImages images = split_images(train, validation, options);
  SelectVsGaResult r;
  r.judge = options.judge;
  const Estimate est = run_fames(model, library, library_dir, images.samples, options, r);

  measure::EmulatedEvaluator evaluator(model, est, library, images.held);
  if (options.bias_correction) evaluator.enable_bias_correction(images.corrective);
  r.exact_top1 = evaluator.top1(evaluator.exact_choice());
  const std::vector<int> fames_choice = evaluator.choice_of(r.fames_assignment);
  r.fames_top1 = evaluator.top1(fames_choice);
  const double fames_energy = evaluator.energy_fj(fames_choice);
  r.fames_energy_reduction = evaluator.energy_reduction(fames_energy);
  std::unique_ptr<measure::EmulatedEvaluator> judge;
  if (options.judge > 0) {
    judge = std::make_unique<measure::EmulatedEvaluator>(model, est, library, images.judged);
    if (options.bias_correction) judge->enable_bias_correction(images.corrective);
    r.exact_judge_top1 = judge->top1(judge->exact_choice());
    r.fames_judge_top1 = judge->top1(fames_choice);
  }
  run_judged_ga(evaluator, judge.get(), fames_energy, options, r);
  return r;
}

nlohmann::json to_json(const SelectVsGaResult& r) {
  const GaMatch& m = r.match();
  nlohmann::json out = {{"fames_seconds", r.fames_seconds},
                        {"fames_estimate_seconds", r.fames_estimate_seconds},
                        {"fames_select_seconds", r.fames_select_seconds},
                        {"ga_seconds", m.seconds},
                        {"speedup", m.speedup},
                        {"speedup_is_lower_bound", !m.reached},
                        {"ga_reached", m.reached},
                        {"exact_top1", r.headline_exact_top1()},
                        {"fames_top1", r.headline_fames_top1()},
                        {"ga_top1", number_or_null(m.top1)},
                        {"energy_reduction", r.fames_energy_reduction},
                        {"ga_energy_reduction", number_or_null(m.energy_reduction)},
                        {"ga_evaluations", m.evaluations},
                        {"ga_total_evaluations", r.ga_total_evaluations},
                        {"ga_total_seconds", r.ga_total_seconds},
                        {"judge", r.judge},
                        {"held_out", {{"exact_top1", r.exact_top1}, {"fames_top1", r.fames_top1}}},
                        {"fames_assignment", r.fames_assignment.to_json()}};
  out["held_out"].update(match_to_json(r.held_out));
  return out;
}

}  // namespace fames::pipeline
