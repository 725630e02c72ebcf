// MCKP on COIN-OR CBC: one binary column per (non-dominated) option, one "choose exactly one" row
// per group and one knapsack row. Both forms share the model; only the roles of cost and weight
// swap. Coefficients are scaled to O(1) so that CBC's absolute tolerances (1e-7 feasibility,
// 1e-6 integrality) are relative to the problem, and the totals are recomputed in original units.
#include <CbcModel.hpp>
#include <CglClique.hpp>
#include <CglKnapsackCover.hpp>
#include <CoinMessageHandler.hpp>
#include <OsiClpSolverInterface.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "select/mckp.h"
#include "select/mckp_prune.h"

namespace fames {
namespace {

// What each option contributes to the objective and to the single knapsack row.
enum class Objective { kCost, kWeight };

double value(const Option& o, Objective which) { return which == Objective::kCost ? o.cost : o.weight; }

double largest_magnitude(const std::vector<std::vector<Option>>& groups, Objective which,
                         double also) {
  double m = std::fabs(also);
  for (const auto& group : groups)
    for (const Option& o : group) m = std::max(m, std::fabs(value(o, which)));
  return m > 0 ? m : 1.0;
}

// Solves: minimize sum objective(o) s.t. sum row(o) <= rhs, one option per group, on the pruned
// groups. Returns the pruned choice, or an empty vector if CBC found no solution.
struct CbcResult {
  std::vector<int> choice;
  bool proven_optimal = false;
};

// Loads the scaled problem into `lp`: one binary column per option, a "choose exactly one" row per
// group and the knapsack row. Returns the columns' (scaled) objective coefficients.
std::vector<double> load_problem(OsiClpSolverInterface& lp, const std::vector<std::vector<Option>>& groups,
                                 Objective objective, double rhs) {
  const Objective row_kind = objective == Objective::kCost ? Objective::kWeight : Objective::kCost;
  const double obj_scale = largest_magnitude(groups, objective, 0);
  const double row_scale = largest_magnitude(groups, row_kind, rhs);

  const int num_groups = static_cast<int>(groups.size());
  std::vector<CoinBigIndex> start{0};
  std::vector<int> row_index;
  std::vector<double> coefficient, obj, col_lb, col_ub;
  for (int g = 0; g < num_groups; ++g) {
    for (const Option& o : groups[g]) {
      row_index.push_back(g);
      coefficient.push_back(1.0);
      const double a = value(o, row_kind) / row_scale;
      if (a != 0) {
        row_index.push_back(num_groups);
        coefficient.push_back(a);
      }
      start.push_back(static_cast<CoinBigIndex>(row_index.size()));
      obj.push_back(value(o, objective) / obj_scale);
      col_lb.push_back(0);
      col_ub.push_back(1);
    }
  }
  const int num_cols = static_cast<int>(obj.size());
  std::vector<double> row_lb(num_groups + 1, 1.0), row_ub(num_groups + 1, 1.0);
  row_lb[num_groups] = -COIN_DBL_MAX;
  row_ub[num_groups] = rhs / row_scale;

  lp.messageHandler()->setLogLevel(0);
  lp.getModelPtr()->messageHandler()->setLogLevel(0);
  lp.setHintParam(OsiDoReducePrint, true, OsiHintTry);
  lp.loadProblem(num_cols, num_groups + 1, start.data(), row_index.data(), coefficient.data(),
                 col_lb.data(), col_ub.data(), obj.data(), row_lb.data(), row_ub.data());
  for (int c = 0; c < num_cols; ++c) lp.setInteger(c);
  return obj;
}

CbcResult run_cbc(const std::vector<std::vector<Option>>& groups, Objective objective, double rhs,
                  const std::vector<int>& incumbent, double time_limit_s) {
  OsiClpSolverInterface lp;
  const std::vector<double> obj = load_problem(lp, groups, objective, rhs);
  const int num_groups = static_cast<int>(groups.size());
  const int num_cols = static_cast<int>(obj.size());

  CbcModel model(lp);
  model.setLogLevel(0);
  model.messageHandler()->setLogLevel(0);
  model.solver()->messageHandler()->setLogLevel(0);
  model.setMaximumSeconds(time_limit_s);
  // Prove optimality to (near) machine precision rather than CBC's default 1e-5 absolute steps.
  model.setAllowableGap(1e-10);
  model.setAllowableFractionGap(1e-10);
  model.setCutoffIncrement(1e-10);
  CglKnapsackCover knapsack_cover;
  CglClique clique;
  clique.setStarCliqueReport(false);  // CglClique prints to stdout unless told not to
  clique.setRowCliqueReport(false);
  model.addCutGenerator(&knapsack_cover, -1, "KnapsackCover");
  model.addCutGenerator(&clique, -1, "Clique");

  // Seed with a known feasible choice so that the search starts with a cutoff.
  if (!incumbent.empty()) {
    std::vector<double> x(num_cols, 0.0);
    double objective_value = 0;
    int offset = 0;
    for (int g = 0; g < num_groups; ++g) {
      x[offset + incumbent[g]] = 1.0;
      objective_value += obj[offset + incumbent[g]];
      offset += static_cast<int>(groups[g].size());
    }
    model.setBestSolution(x.data(), num_cols, objective_value, true);
  }
  model.branchAndBound();

  CbcResult result;
  const double* best = model.bestSolution();
  if (!best) return result;
  result.proven_optimal = model.isProvenOptimal();
  int offset = 0;
  for (int g = 0; g < num_groups; ++g) {
    const int n = static_cast<int>(groups[g].size());
    const int pick =
        static_cast<int>(std::max_element(best + offset, best + offset + n) - (best + offset));
    result.choice.push_back(pick);
    offset += n;
  }
  return result;
}

// A good feasible choice to start CBC's search from, so that it prunes from the first node: from
// `start` (feasible), repeatedly take the single move to another option of one group that lowers
// the objective most per unit of the row it adds, while the row stays within rhs (the greedy of
// the LP relaxation, on the pruned groups).
std::vector<int> greedy_choice(const std::vector<std::vector<Option>>& groups, Objective objective, double rhs,
                               std::vector<int> start) {
  const Objective row_kind = objective == Objective::kCost ? Objective::kWeight : Objective::kCost;
  auto obj = [&](const Option& o) { return value(o, objective); };
  auto row = [&](const Option& o) { return value(o, row_kind); };
  double used = 0;
  for (size_t g = 0; g < groups.size(); ++g) used += row(groups[g][start[g]]);
  for (;;) {
    double best_ratio = 0;
    size_t best_group = 0;
    int best_option = -1;
    for (size_t g = 0; g < groups.size(); ++g) {
      const Option& now = groups[g][start[g]];
      for (int i = 0; i < static_cast<int>(groups[g].size()); ++i) {
        const Option& o = groups[g][i];
        const double gain = obj(now) - obj(o), extra = row(o) - row(now);
        if (gain <= 0 || used + extra > rhs) continue;
        const double ratio = extra > 0 ? gain / extra : std::numeric_limits<double>::infinity();
        if (ratio > best_ratio) {
          best_ratio = ratio;
          best_group = g;
          best_option = i;
        }
      }
    }
    if (best_option < 0) return start;
    used += row(groups[best_group][best_option]) - row(groups[best_group][start[best_group]]);
    start[best_group] = best_option;
  }
}

// Shared driver for both forms: prune, decide trivial cases without CBC, run CBC, map back.
MckpSolution solve_form(const std::vector<std::vector<Option>>& groups, Objective objective,
                        double rhs, double time_limit_s) {
  const auto t0 = std::chrono::steady_clock::now();
  const detail::PrunedGroups pruned = detail::prune_dominated(groups);
  MckpSolution solution;
  solution.solver = "cbc";
  // Pruned groups are sorted by increasing weight and decreasing cost: front() is the lightest
  // option, back() the cheapest.
  std::vector<int> lightest, cheapest;
  double light_weight = 0, cheap_cost = 0;
  for (const auto& group : pruned.groups) {
    lightest.push_back(0);
    cheapest.push_back(static_cast<int>(group.size()) - 1);
    light_weight += group.front().weight;
    cheap_cost += group.back().cost;
  }
  // The constrained quantity's minimum decides feasibility; the best-objective choice may
  // already satisfy the constraint.
  const bool primal = objective == Objective::kCost;
  const double row_min = primal ? light_weight : cheap_cost;
  const std::vector<int>& seed = primal ? lightest : cheapest;
  const std::vector<int>& unconstrained_best = primal ? cheapest : lightest;
  double best_row = 0;
  for (size_t g = 0; g < pruned.groups.size(); ++g) {
    const Option& o = pruned.groups[g][unconstrained_best[g]];
    best_row += primal ? o.weight : o.cost;
  }

  if (row_min <= rhs) {
    if (best_row <= rhs) {
      fill_totals(groups, pruned.to_original(unconstrained_best), solution);
      solution.proven_optimal = true;
    } else {
      const CbcResult r =
          run_cbc(pruned.groups, objective, rhs, greedy_choice(pruned.groups, objective, rhs, seed), time_limit_s);
      if (!r.choice.empty()) {
        fill_totals(groups, pruned.to_original(r.choice), solution);
        solution.proven_optimal = r.proven_optimal;
      }
    }
  } else {
    solution.proven_optimal = true;  // infeasibility is proven by the bound itself
  }
  // Say so wherever the solver name is shown (assign.json, summaries).
  if (solution.feasible && !solution.proven_optimal)
    solution.solver = "cbc (time limit: not proven optimal)";
  solution.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return solution;
}

}  // namespace

MckpSolution solve_mckp_cbc(const MckpProblem& problem, double time_limit_s) {
  return solve_form(problem.groups, Objective::kCost, problem.capacity, time_limit_s);
}

MckpSolution solve_mckp_min_weight_cbc(const MckpDualProblem& problem, double time_limit_s) {
  return solve_form(problem.groups, Objective::kWeight, problem.max_cost, time_limit_s);
}

}  // namespace fames
