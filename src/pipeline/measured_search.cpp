#include "pipeline/measured_search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>

#include "estimate/estimator.h"
#include "report/plot.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace fames::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Finite numbers as JSON numbers, anything else as null (JSON has no NaN).
nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

}  // namespace

SearchInputs load_search_inputs(const std::string& model_path, const std::string& est_path,
                                const std::string& library_dir, const std::string& data_spec,
                                int64_t holdout, uint64_t seed) {
  SearchInputs in;
  std::optional<Estimate> est;
  if (!est_path.empty()) est = Estimate::load(est_path);
  in.library_dir = !library_dir.empty() ? library_dir : est ? est->library : std::string();
  if (in.library_dir.empty()) fail("give --lib (the AppMul library folder) or --est");
  in.model = models::load_model(model_path);
  in.library = Library::load(in.library_dir);
  in.data_spec = !data_spec.empty() ? data_spec
                                    : in.model.meta.value("dataset", std::string(kDefaultDatasetSpec));
  auto [rest, held] = holdout_images(load_dataset(in.data_spec, Split::kTrain), holdout, seed);
  models::check_dataset_fits(held, in.model, "--data");
  if (!est) est = measure::candidates_from_library(*in.model.module, in.library, held, in.library_dir);
  est->library = in.library_dir;
  const bool corrected = est->bias_correction;
  in.evaluator = std::make_unique<measure::EmulatedEvaluator>(*in.model.module, std::move(*est), in.library, held);
  // Configurations of a corrected estimate are measured corrected, from training images outside
  // the holdout (as many as an estimate uses by default).
  if (corrected) in.evaluator->enable_bias_correction(subset(rest, estimate::kDefaultEstimateSamples, seed));
  return in;
}

GaRun run_ga(measure::EmulatedEvaluator& evaluator, const Nsga2Options& options,
             const EvaluationCallback& stop) {
  Nsga2Options opts = options;
  opts.initial.insert(opts.initial.begin(), evaluator.exact_choice());
  auto fitness = [&](const Genome& g) { return Fitness{evaluator.top1(g), evaluator.energy_fj(g)}; };
  // Distinct genomes are at most population * (generations + 1); with a time limit, unknown.
  const int64_t budget = opts.time_limit_s > 0 ? 0 : static_cast<int64_t>(opts.population) * (opts.generations + 1);
  Progress bar("GA", budget, "eval");
  double best_saving_at_exact = -1;  // largest reduction with top1 >= the exact model's
  GaRun run;
  run.search = run_nsga2(evaluator.choice_counts(), fitness, opts, [&](const Evaluation& e) {
    if (e.genome == opts.initial.front()) run.exact_top1 = e.fitness.accuracy;
    if (e.fitness.accuracy >= run.exact_top1)
      best_saving_at_exact = std::max(best_saving_at_exact, evaluator.energy_reduction(e.fitness.energy));
    bar.advance(1, fmt::format("gen {}, {:.1f}% saved at exact top-1", e.generation,
                               100 * std::max(0.0, best_saving_at_exact)));
    return stop && stop(e);
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

std::vector<MeasuredPoint> measured_pareto(measure::EmulatedEvaluator& evaluator, int steps,
                                           const SelectOptions& options) {
  const std::vector<ParetoPoint> sweep = pareto_sweep(evaluator.estimate(), steps, options);
  std::map<std::vector<int>, double> measured;  // neighbouring targets often pick the same config
  std::vector<MeasuredPoint> points;
  Progress bar("measure", static_cast<int64_t>(sweep.size()), "config");
  for (const ParetoPoint& p : sweep) {
    const std::vector<int> choice = evaluator.choice_of(p.assignment);
    auto it = measured.find(choice);
    if (it == measured.end()) it = measured.emplace(choice, evaluator.top1(choice)).first;
    points.push_back({p, it->second});
    bar.advance(1, fmt::format("{:.1f}% saved: top-1 {:.2f}%", 100 * p.assignment.summary->energy_reduction,
                               100 * it->second));
  }
  bar.finish();
  return points;
}

void write_pareto_report(const std::string& dir, const std::vector<MeasuredPoint>& points,
                         double exact_top1, const nlohmann::json& info,
                         const nlohmann::json& ga_front) {
  nlohmann::json doc = info;
  doc["format"] = "fames-pareto";
  doc["version"] = 1;
  doc["exact_top1"] = exact_top1;
  nlohmann::json list = nlohmann::json::array();
  std::string csv = "requested_reduction,energy_reduction,predicted_dl,energy_fj_per_image,top1,top1_drop\n";
  report::Series fames{"FAMES (CBC), measured", {}, {}, report::SeriesStyle::kLinesPoints};
  for (const MeasuredPoint& m : points) {
    const AssignmentSummary& s = *m.point.assignment.summary;
    nlohmann::json j = m.point.assignment.to_json();
    j["requested_reduction"] = m.point.requested_reduction;
    j["top1"] = m.top1;
    j["top1_drop"] = exact_top1 - m.top1;
    list.push_back(std::move(j));
    csv += fmt::format("{:.6f},{:.6f},{:.6g},{:.6g},{:.6f},{:.6f}\n", m.point.requested_reduction,
                       s.energy_reduction, s.predicted_dl, s.energy_fj_per_image, m.top1,
                       exact_top1 - m.top1);
    fames.x.push_back(100 * s.energy_reduction);
    fames.y.push_back(100 * m.top1);
  }
  doc["points"] = list;
  report::XYChart chart;
  chart.title = "Measured top-1 vs multiplication energy saved" +
                (info.contains("model") ? " (" + info["model"].get<std::string>() + ")" : "");
  chart.x_label = "energy reduction vs exact multipliers (%)";
  chart.y_label = "top-1 on held-out training images (%)";
  chart.series.push_back(fames);
  if (ga_front.is_array()) {
    report::Series ga{"NSGA-II front", {}, {}, report::SeriesStyle::kPoints};
    for (const auto& p : ga_front) {
      ga.x.push_back(100 * p.at("energy_reduction").get<double>());
      ga.y.push_back(100 * p.at("top1").get<double>());
    }
    chart.series.push_back(ga);
  }
  chart.series.push_back({"exact", {0.0}, {100 * exact_top1}, report::SeriesStyle::kPoints});
  write_file_atomic(dir + "/pareto.json", doc.dump(1) + "\n");
  write_file_atomic(dir + "/pareto.csv", csv);
  report::write_chart(chart, dir + "/pareto");
}

namespace {

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

}  // namespace

SelectVsGaResult bench_select_vs_ga(torch::nn::Module& model, const Library& library,
                                    const std::string& library_dir, const Dataset& train,
                                    const SelectVsGaOptions& options) {
  auto [rest, held] = holdout_images(train, options.holdout, options.seed);
  // The evaluator's bias correction (the same for both sides) comes from `corrective` images that
  // the GA never scores, at least the default estimation count of them; FAMES estimates on
  // `samples` of those (all of them by default: the images subset(rest, samples, seed) would draw).
  const int64_t corrective_count = std::max(options.samples, estimate::kDefaultEstimateSamples);
  if (corrective_count >= rest.size())
    fail("--samples {} leaves no training images besides the estimation samples and --holdout", options.samples);
  auto [others, corrective] = split_holdout(rest, corrective_count, options.seed);
  const Dataset samples = subset(corrective, options.samples, options.seed);
  rest = Dataset();
  // Judging images: neither estimated on nor scored by the GA.
  Dataset judged;
  if (options.judge > 0) {
    if (options.judge >= others.size())
      fail("--judge {}: only {} training images are left after --holdout and --samples", options.judge,
           others.size());
    judged = subset(others, options.judge, options.seed ^ 0x6a75646765ull);
  }
  others = Dataset();
  SelectVsGaResult r;
  r.judge = options.judge;

  // FAMES: estimate + select, timed in-process (model and library already loaded, as for the GA).
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

  measure::EmulatedEvaluator evaluator(model, est, library, held);
  if (options.bias_correction) evaluator.enable_bias_correction(corrective);
  r.exact_top1 = evaluator.top1(evaluator.exact_choice());
  const std::vector<int> fames_choice = evaluator.choice_of(r.fames_assignment);
  r.fames_top1 = evaluator.top1(fames_choice);
  const double fames_energy = evaluator.energy_fj(fames_choice);
  r.fames_energy_reduction = evaluator.energy_reduction(fames_energy);
  std::unique_ptr<measure::EmulatedEvaluator> judge;
  if (options.judge > 0) {
    judge = std::make_unique<measure::EmulatedEvaluator>(model, est, library, judged);
    if (options.bias_correction) judge->enable_bias_correction(corrective);
    r.exact_judge_top1 = judge->top1(judge->exact_choice());
    r.fames_judge_top1 = judge->top1(fames_choice);
  }

  // Every GA configuration at no more energy than FAMES's is also measured on the judging images.
  // The GA's clock runs meanwhile, so that time is taken off its times, and its time limit is
  // enforced here on its own clock. The GA stops at its first match on the images that decide
  // the headline.
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
