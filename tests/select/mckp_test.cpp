// MCKP solvers: CBC against the exact DP on random integer-weight instances, both against brute
// force on tiny ones, infeasibility, the dual form, and dominance pruning. Objective values are
// compared within 1e-6 relative; choices may differ between solvers when the optimum is tied.
#include "select/mckp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "util/error.h"

namespace fames {
namespace {

using Groups = std::vector<std::vector<Option>>;

// Integer weights in [0, 40], costs in [-0.5, 2] (some negative), group and option counts given.
Groups random_groups(std::mt19937& rng, int num_groups, int max_options) {
  std::uniform_int_distribution<int> options(1, max_options), weight(0, 40);
  std::uniform_real_distribution<double> cost(-0.5, 2.0);
  Groups groups(num_groups);
  for (auto& g : groups) {
    const int n = options(rng);
    for (int i = 0; i < n; ++i) g.push_back({cost(rng), static_cast<double>(weight(rng))});
  }
  return groups;
}

// Exhaustive search: minimizes `objective` subject to `constraint` <= bound.
struct Brute {
  bool feasible = false;
  double best = std::numeric_limits<double>::infinity();
};
template <typename Objective, typename Constraint>
Brute brute_force(const Groups& groups, Objective objective, Constraint constraint, double bound) {
  Brute result;
  std::vector<int> idx(groups.size(), 0);
  while (true) {
    double obj = 0, con = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
      obj += objective(groups[g][idx[g]]);
      con += constraint(groups[g][idx[g]]);
    }
    if (con <= bound + 1e-9 && obj < result.best) {
      result.best = obj;
      result.feasible = true;
    }
    size_t g = 0;
    while (g < groups.size() && ++idx[g] == static_cast<int>(groups[g].size())) idx[g++] = 0;
    if (g == groups.size()) break;
  }
  return result;
}
double cost_of(const Option& o) { return o.cost; }
double weight_of(const Option& o) { return o.weight; }

// One DP step per unit of weight above the lightest choice: exact for integer weights.
int64_t exact_dp_resolution(const MckpProblem& p) {
  return std::max<int64_t>(1, static_cast<int64_t>(p.capacity - min_total_weight(p.groups)));
}

void expect_near_relative(double a, double b, const std::string& what) {
  EXPECT_NEAR(a, b, 1e-6 * std::max(1.0, std::fabs(b))) << what;
}

// The reported totals must be those of the reported choice, within the constraint.
void expect_consistent(const Groups& groups, const MckpSolution& s) {
  ASSERT_EQ(s.choice.size(), groups.size());
  double cost = 0, weight = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    ASSERT_GE(s.choice[g], 0);
    ASSERT_LT(s.choice[g], static_cast<int>(groups[g].size()));
    cost += groups[g][s.choice[g]].cost;
    weight += groups[g][s.choice[g]].weight;
  }
  EXPECT_DOUBLE_EQ(cost, s.cost);
  EXPECT_DOUBLE_EQ(weight, s.weight);
}

TEST(Mckp, CbcAgreesWithExactDpOnRandomInstances) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> num_groups(3, 30);
  int infeasible = 0, constrained = 0;
  for (int trial = 0; trial < 100; ++trial) {
    MckpProblem p;
    p.groups = random_groups(rng, num_groups(rng), 25);
    const double lo = min_total_weight(p.groups), hi = max_total_weight(p.groups);
    // Capacities from below the lightest choice (infeasible) to well above it, mostly binding;
    // integers, so the DP with one step per unit of weight is exact.
    std::uniform_real_distribution<double> frac(-0.1, 0.7);
    p.capacity = std::max(0.0, std::round(lo + frac(rng) * (hi - lo)));
    const MckpSolution cbc = solve_mckp_cbc(p, 30);
    const MckpSolution dp = solve_mckp_dp(p, exact_dp_resolution(p));
    const std::string what = "trial " + std::to_string(trial);
    ASSERT_EQ(cbc.feasible, dp.feasible) << what;
    EXPECT_EQ(cbc.feasible, lo <= p.capacity) << what;
    if (!cbc.feasible) {
      ++infeasible;
      continue;
    }
    EXPECT_TRUE(cbc.proven_optimal) << what;
    expect_consistent(p.groups, cbc);
    expect_consistent(p.groups, dp);
    EXPECT_LE(cbc.weight, p.capacity + 1e-9) << what;
    EXPECT_LE(dp.weight, p.capacity) << what;
    expect_near_relative(cbc.cost, dp.cost, what);
    if (dp.cost > min_total_cost(p.groups) + 1e-9) ++constrained;
  }
  // The generator must exercise both outcomes and instances where the capacity binds.
  EXPECT_GE(infeasible, 3);
  EXPECT_GE(constrained, 50);
}

TEST(Mckp, BothSolversMatchBruteForceOnTinyInstances) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> num_groups(1, 5);
  for (int trial = 0; trial < 60; ++trial) {
    MckpProblem p;
    p.groups = random_groups(rng, num_groups(rng), 5);
    std::uniform_int_distribution<int> capacity(0, static_cast<int>(max_total_weight(p.groups)));
    p.capacity = capacity(rng);
    const Brute truth = brute_force(p.groups, cost_of, weight_of, p.capacity);
    const MckpSolution cbc = solve_mckp_cbc(p);
    const MckpSolution dp = solve_mckp_dp(p, exact_dp_resolution(p));
    const std::string what = "trial " + std::to_string(trial);
    ASSERT_EQ(cbc.feasible, truth.feasible) << what;
    ASSERT_EQ(dp.feasible, truth.feasible) << what;
    if (!truth.feasible) continue;
    expect_near_relative(cbc.cost, truth.best, what);
    expect_near_relative(dp.cost, truth.best, what);
  }
}

TEST(Mckp, InfeasibleCapacityIsReported) {
  MckpProblem p;
  p.groups = {{{0, 5}, {1, 3}}, {{0, 4}, {2, 2}}};  // lightest total weight: 5
  p.capacity = 4.5;
  EXPECT_DOUBLE_EQ(min_total_weight(p.groups), 5);
  for (const MckpSolution& s : {solve_mckp_cbc(p), solve_mckp_dp(p, 100)}) {
    EXPECT_FALSE(s.feasible) << s.solver;
    EXPECT_TRUE(s.choice.empty()) << s.solver;
  }
  p.capacity = -1;
  EXPECT_FALSE(solve_mckp_dp(p, 10).feasible);
  EXPECT_FALSE(solve_mckp_cbc(p).feasible);
  p.capacity = 5;  // exactly the lightest choice
  const MckpSolution tight = solve_mckp_cbc(p);
  ASSERT_TRUE(tight.feasible);
  EXPECT_EQ(tight.choice, (std::vector<int>{1, 1}));
  EXPECT_EQ(solve_mckp_dp(p, 5).choice, (std::vector<int>{1, 1}));
}

TEST(Mckp, ZeroCapacityAdmitsOnlyWeightlessOptions) {
  MckpProblem p;
  p.groups = {{{1, 0}, {-1, 0.5}}, {{0, 0}}};
  p.capacity = 0;
  for (const MckpSolution& s : {solve_mckp_cbc(p), solve_mckp_dp(p, 1)}) {
    ASSERT_TRUE(s.feasible) << s.solver;
    EXPECT_EQ(s.choice, (std::vector<int>{0, 0})) << s.solver;
  }
}

TEST(Mckp, DualFormMatchesBruteForce) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> num_groups(1, 5);
  int infeasible = 0;
  for (int trial = 0; trial < 60; ++trial) {
    MckpDualProblem p;
    p.groups = random_groups(rng, num_groups(rng), 5);
    const double lo = min_total_cost(p.groups);
    std::uniform_real_distribution<double> bound(lo - 0.3, lo + 3.0);
    p.max_cost = bound(rng);
    const Brute truth = brute_force(p.groups, weight_of, cost_of, p.max_cost);
    const MckpSolution cbc = solve_mckp_min_weight_cbc(p);
    const int64_t exact_steps = std::max<int64_t>(
        1, static_cast<int64_t>(max_total_weight(p.groups) - min_total_weight(p.groups)));
    const MckpSolution dp = solve_mckp_min_weight_dp(p, exact_steps);
    const std::string what = "trial " + std::to_string(trial);
    ASSERT_EQ(cbc.feasible, truth.feasible) << what;
    ASSERT_EQ(dp.feasible, truth.feasible) << what;
    if (!truth.feasible) {
      ++infeasible;
      continue;
    }
    expect_consistent(p.groups, cbc);
    expect_consistent(p.groups, dp);
    EXPECT_LE(cbc.cost, p.max_cost + 1e-6) << what;
    EXPECT_LE(dp.cost, p.max_cost + 1e-9) << what;
    EXPECT_DOUBLE_EQ(cbc.weight, truth.best) << what;
    EXPECT_DOUBLE_EQ(dp.weight, truth.best) << what;
  }
  EXPECT_GE(infeasible, 3);
}

TEST(Mckp, CoarseDpStaysFeasibleAndNeverBeatsTheExactOptimum) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    MckpProblem p;
    p.groups = random_groups(rng, 12, 10);
    p.capacity = std::round(0.5 * (min_total_weight(p.groups) + max_total_weight(p.groups)));
    const MckpSolution exact = solve_mckp_dp(p, exact_dp_resolution(p));
    const MckpSolution coarse = solve_mckp_dp(p, 7);  // weights rounded up to capacity/7 steps
    ASSERT_TRUE(exact.feasible);
    if (!coarse.feasible) continue;
    EXPECT_LE(coarse.weight, p.capacity);
    EXPECT_GE(coarse.cost, exact.cost - 1e-12);
  }
}

TEST(Mckp, ParetoOptionsDropOnlyDominatedOnes) {
  const std::vector<Option> group = {{3, 1}, {1, 2}, {2, 2}, {1, 3},
                                     {0, 5}, {0, 5}, {4, 0}, {5, 0.5}};
  // {2,2} loses to {1,2}; {1,3} to {1,2}; the second {0,5} duplicates the first; {5,0.5} to {4,0}.
  EXPECT_EQ(pareto_options(group), (std::vector<int>{6, 0, 1, 4}));
}

TEST(Mckp, InvalidProblemsThrow) {
  MckpProblem empty_group{{{{1, 1}}, {}}, 10};
  EXPECT_THROW(solve_mckp_cbc(empty_group), Error);
  EXPECT_THROW(solve_mckp_dp(empty_group, 10), Error);
  MckpProblem negative_weight{{{{1, -1}}}, 10};
  EXPECT_THROW(solve_mckp_dp(negative_weight, 10), Error);
  MckpProblem nan_cost{{{{std::nan(""), 1}}}, 10};
  EXPECT_THROW(solve_mckp_cbc(nan_cost), Error);
  MckpProblem fine{{{{1, 1}}}, 10};
  EXPECT_THROW(solve_mckp_dp(fine, 0), Error);
}

}  // namespace
}  // namespace fames
