// NSGA-II on synthetic problems whose Pareto front is known exactly (additive objectives with
// integer energies: a dynamic program over total energy gives the true front).
#include "select/nsga2.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include "util/error.h"

namespace fames {
namespace {

// Gene k, choice j: energy cost energy[k][j] (integer) and accuracy loss loss[k][j] (>= 0).
struct AdditiveProblem {
  std::vector<int> choices;
  std::vector<std::vector<int>> energy;
  std::vector<std::vector<double>> loss;

  Fitness operator()(const Genome& g) const {
    Fitness f{1.0, 0.0};
    for (size_t k = 0; k < g.size(); ++k) {
      f.accuracy -= loss[k][g[k]];
      f.energy += energy[k][g[k]];
    }
    return f;
  }

  // The exact front: for every reachable total energy, the best accuracy; then the non-dominated.
  std::vector<Fitness> true_front() const {
    int max_total = 0;
    for (const auto& e : energy) max_total += *std::max_element(e.begin(), e.end());
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> best(max_total + 1, inf);
    best[0] = 0;
    for (size_t k = 0; k < choices.size(); ++k) {
      std::vector<double> next(max_total + 1, inf);
      for (int t = 0; t <= max_total; ++t)
        if (best[t] < inf)
          for (int j = 0; j < choices[k]; ++j)
            next[t + energy[k][j]] = std::min(next[t + energy[k][j]], best[t] + loss[k][j]);
      best = next;
    }
    std::vector<Fitness> front;
    double best_loss = inf;
    for (int t = 0; t <= max_total; ++t)
      if (best[t] < best_loss) {
        best_loss = best[t];
        front.push_back({1.0 - best[t], static_cast<double>(t)});
      }
    return front;
  }
};

// Like an AppMul choice: choice 0 is exact (most energy, no loss); cheaper ones lose more.
AdditiveProblem make_problem(int genes, int choices, uint64_t seed) {
  std::mt19937_64 rng(seed);
  AdditiveProblem p;
  for (int k = 0; k < genes; ++k) {
    p.choices.push_back(choices);
    std::vector<int> e{10};
    std::vector<double> l{0.0};
    for (int j = 1; j < choices; ++j) {
      e.push_back(static_cast<int>(rng() % 10));
      l.push_back(0.001 * static_cast<double>(rng() % 100) / (1 + e.back()));
    }
    p.energy.push_back(e);
    p.loss.push_back(l);
  }
  return p;
}

// Area dominated by `front` within the box accuracy >= floor, energy <= ceiling.
double hypervolume(std::vector<Fitness> front, double floor, double ceiling) {
  std::sort(front.begin(), front.end(), [](const Fitness& a, const Fitness& b) { return a.energy < b.energy; });
  double area = 0, best = floor;
  for (size_t i = 0; i < front.size(); ++i) {
    best = std::max(best, front[i].accuracy);
    const double right = i + 1 < front.size() ? front[i + 1].energy : ceiling;
    area += (best - floor) * std::max(0.0, std::min(right, ceiling) - front[i].energy);
  }
  return area;
}

TEST(Nsga2, DominanceAndRanks) {
  EXPECT_TRUE(dominates({0.9, 1}, {0.8, 1}));
  EXPECT_TRUE(dominates({0.9, 1}, {0.9, 2}));
  EXPECT_FALSE(dominates({0.9, 1}, {0.9, 1}));
  EXPECT_FALSE(dominates({0.9, 2}, {0.8, 1}));
  const std::vector<Fitness> points{{0.9, 5}, {0.8, 3}, {0.85, 4}, {0.7, 4}, {0.6, 6}, {0.9, 5}};
  EXPECT_EQ(front_ranks(points), (std::vector<int>{0, 0, 0, 1, 2, 0}));
}

TEST(Nsga2, CrowdingKeepsBoundariesAndMeasuresGaps) {
  const std::vector<Fitness> front{{0.9, 10}, {0.5, 0}, {0.8, 5}, {0.6, 1}};
  const std::vector<double> d = crowding_distances(front);
  EXPECT_TRUE(std::isinf(d[0]));
  EXPECT_TRUE(std::isinf(d[1]));
  // Point 2 neighbours 0.6/0.9 in accuracy (span 0.4) and 1/10 in energy (span 10).
  EXPECT_NEAR(d[2], 0.3 / 0.4 + 9.0 / 10.0, 1e-12);
  EXPECT_NEAR(d[3], 0.3 / 0.4 + 5.0 / 10.0, 1e-12);
}

TEST(Nsga2, RecoversAKnownFront) {
  const AdditiveProblem problem = make_problem(12, 6, 7);  // 6^12 = 2e9 genomes
  const std::vector<Fitness> truth = problem.true_front();
  ASSERT_GT(truth.size(), 20u);
  Nsga2Options options;
  options.population = 60;
  options.generations = 150;
  options.seed = 3;
  const Nsga2Result result = run_nsga2(problem.choices, problem, options);
  std::vector<Fitness> found;
  for (size_t i : result.front) found.push_back(result.evaluations[i].fitness);
  for (const Fitness& f : found)
    for (const Fitness& t : truth)  // (sums in another order: allow rounding)
      ASSERT_FALSE(f.energy <= t.energy && f.accuracy > t.accuracy + 1e-12) << "the DP front is not exact";
  const double floor = truth.front().accuracy, ceiling = truth.back().energy;
  const double ratio = hypervolume(found, floor, ceiling) / hypervolume(truth, floor, ceiling);
  EXPECT_GT(ratio, 0.97) << "found " << found.size() << " of " << truth.size() << " front points";
  std::printf("hypervolume ratio %.4f, %zu of %zu front points, %zu evaluations\n", ratio, found.size(), truth.size(), result.evaluations.size());
  // Both ends of the front are reached, within 5% of its extent.
  const double acc_range = truth.back().accuracy - truth.front().accuracy;
  const double energy_range = truth.back().energy - truth.front().energy;
  EXPECT_GT(found.back().accuracy, truth.back().accuracy - 0.05 * acc_range);
  EXPECT_LT(found.front().energy, truth.front().energy + 0.05 * energy_range);
  EXPECT_LT(result.evaluations.size(), 61u * 151u);
}

TEST(Nsga2, FrontIsExactlyTheNonDominatedEvaluations) {
  const AdditiveProblem problem = make_problem(6, 4, 11);
  Nsga2Options options;
  options.population = 16;
  options.generations = 10;
  const Nsga2Result result = run_nsga2(problem.choices, problem, options);
  std::set<size_t> in_front(result.front.begin(), result.front.end());
  for (size_t i = 0; i < result.evaluations.size(); ++i) {
    bool dominated = false;
    for (const Evaluation& other : result.evaluations)
      dominated = dominated || dominates(other.fitness, result.evaluations[i].fitness);
    EXPECT_EQ(in_front.count(i) == 1, !dominated) << i;
  }
  for (size_t r = 1; r < result.front.size(); ++r)
    EXPECT_LE(result.evaluations[result.front[r - 1]].fitness.energy,
              result.evaluations[result.front[r]].fitness.energy);
}

TEST(Nsga2, SameSeedSameSearchOtherSeedOtherSearch) {
  const AdditiveProblem problem = make_problem(10, 5, 1);
  Nsga2Options options;
  options.population = 20;
  options.generations = 15;
  options.seed = 42;
  const Nsga2Result a = run_nsga2(problem.choices, problem, options);
  const Nsga2Result b = run_nsga2(problem.choices, problem, options);
  ASSERT_EQ(a.evaluations.size(), b.evaluations.size());
  for (size_t i = 0; i < a.evaluations.size(); ++i) EXPECT_EQ(a.evaluations[i].genome, b.evaluations[i].genome);
  EXPECT_EQ(a.front, b.front);
  EXPECT_EQ(a.final_population, b.final_population);
  options.seed = 43;
  const Nsga2Result c = run_nsga2(problem.choices, problem, options);
  bool differs = c.evaluations.size() != a.evaluations.size();
  for (size_t i = 0; !differs && i < a.evaluations.size(); ++i) differs = a.evaluations[i].genome != c.evaluations[i].genome;
  EXPECT_TRUE(differs);
}

TEST(Nsga2, EvaluatesEachGenomeOnceAndRecordsTime) {
  const AdditiveProblem problem = make_problem(8, 3, 5);
  int calls = 0;
  auto counted = [&](const Genome& g) {
    ++calls;
    return problem(g);
  };
  Nsga2Options options;
  options.population = 12;
  options.generations = 20;
  options.avoid_duplicates = false;  // duplicates do occur, and must not be re-evaluated
  const Nsga2Result result = run_nsga2(problem.choices, counted, options);
  EXPECT_EQ(static_cast<size_t>(calls), result.evaluations.size());
  std::set<Genome> distinct;
  for (const Evaluation& e : result.evaluations) distinct.insert(e.genome);
  EXPECT_EQ(distinct.size(), result.evaluations.size());
  for (size_t i = 1; i < result.evaluations.size(); ++i)
    EXPECT_GE(result.evaluations[i].seconds, result.evaluations[i - 1].seconds);
  EXPECT_EQ(result.generations_done, 20);
  EXPECT_FALSE(result.stopped_early);
}

TEST(Nsga2, InitialGenomesComeFirst) {
  const AdditiveProblem problem = make_problem(5, 4, 9);
  Nsga2Options options;
  options.population = 8;
  options.generations = 2;
  options.initial = {Genome(5, 0), Genome(5, 3), Genome(5, 0)};
  const Nsga2Result result = run_nsga2(problem.choices, problem, options);
  ASSERT_GE(result.evaluations.size(), 2u);
  EXPECT_EQ(result.evaluations[0].genome, Genome(5, 0));
  EXPECT_EQ(result.evaluations[1].genome, Genome(5, 3));
  EXPECT_NE(result.evaluations[2].genome, Genome(5, 0));
  options.initial = {Genome(4, 0)};
  EXPECT_THROW(run_nsga2(problem.choices, problem, options), Error);
  options.initial = {Genome(5, 4)};
  EXPECT_THROW(run_nsga2(problem.choices, problem, options), Error);
}

TEST(Nsga2, TimeLimitAndStopCallbackEndTheSearch) {
  const AdditiveProblem problem = make_problem(10, 5, 2);
  auto slow = [&](const Genome& g) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return problem(g);
  };
  Nsga2Options options;
  options.population = 20;
  options.generations = 1000;
  options.time_limit_s = 0.1;
  const Nsga2Result timed = run_nsga2(problem.choices, slow, options);
  EXPECT_TRUE(timed.stopped_early);
  EXPECT_LT(timed.evaluations.size(), 60u);
  EXPECT_LT(timed.seconds, 1.0);

  // Stop at the first genome at least as good as a target: it is the last one evaluated.
  const std::vector<Fitness> truth = problem.true_front();
  const Fitness target = truth[truth.size() / 2];
  auto meets = [&](const Evaluation& e) {
    return e.fitness.accuracy >= target.accuracy - 0.002 && e.fitness.energy <= target.energy + 2;
  };
  options.time_limit_s = 0;
  options.generations = 300;
  const Nsga2Result stopped = run_nsga2(problem.choices, problem, options, meets);
  ASSERT_TRUE(stopped.stopped_early);
  ASSERT_FALSE(stopped.evaluations.empty());
  EXPECT_TRUE(meets(stopped.evaluations.back()));
  for (size_t i = 0; i + 1 < stopped.evaluations.size(); ++i) EXPECT_FALSE(meets(stopped.evaluations[i])) << i;
}

TEST(Nsga2, TinySearchSpaceDoesNotSpin) {
  const AdditiveProblem problem = make_problem(2, 2, 3);
  Nsga2Options options;
  options.population = 10;
  options.generations = 5;
  const Nsga2Result result = run_nsga2(problem.choices, problem, options);
  EXPECT_LE(result.evaluations.size(), 4u);
  EXPECT_FALSE(result.front.empty());
  const Nsga2Result fixed = run_nsga2({1, 1}, problem, options);  // nothing to choose
  EXPECT_EQ(fixed.evaluations.size(), 1u);
}

TEST(Nsga2, BadOptionsAreErrors) {
  const AdditiveProblem problem = make_problem(3, 3, 1);
  Nsga2Options options;
  options.population = 1;
  EXPECT_THROW(run_nsga2(problem.choices, problem, options), Error);
  options.population = 4;
  options.crossover_rate = 1.5;
  EXPECT_THROW(run_nsga2(problem.choices, problem, options), Error);
  options.crossover_rate = 0.9;
  EXPECT_THROW(run_nsga2({}, problem, options), Error);
  EXPECT_THROW(run_nsga2({3, 0, 3}, problem, options), Error);
}

}  // namespace
}  // namespace fames
