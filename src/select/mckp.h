// Multiple-choice knapsack (MCKP): pick exactly one option from every group.
//
//   primal:  minimize sum cost   subject to  sum weight <= capacity
//   dual:    minimize sum weight subject to  sum cost   <= max_cost
//
// Used for AppMul selection (group = layer, cost = predicted loss change dL, weight = energy per
// image) and for per-layer bit allocation. Costs may be negative; weights must be >= 0 and finite.
// Every group needs at least one option. Invalid problems (empty group, negative/NaN weight, NaN
// cost) throw fames::Error; an infeasible but valid problem returns feasible = false.
//
// Two solvers: solve_*_cbc (COIN-OR CBC branch and bound, exact up to 1e-9 relative gap) and
// solve_*_dp (dynamic program over discretized weights, exact when weights are multiples of the
// grid step). All functions are thread-compatible: no shared state.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fames {

struct Option {
  double cost = 0;    // predicted loss change (may be negative)
  double weight = 0;  // e.g. energy; >= 0
};

struct MckpProblem {
  std::vector<std::vector<Option>> groups;
  double capacity = 0;  // upper bound on the total weight
};

struct MckpDualProblem {
  std::vector<std::vector<Option>> groups;
  double max_cost = 0;  // upper bound on the total cost
};

struct MckpSolution {
  bool feasible = false;
  bool proven_optimal = false;  // false if a time limit stopped the search early
  std::vector<int> choice;      // per group, index into the group's options (empty if infeasible)
  double cost = 0, weight = 0;  // totals of the chosen options, recomputed in original units
  double seconds = 0;           // wall time of the solve
  std::string solver;           // "cbc", "dp"; CBC stopped by its time limit says so here
};

// ---- CBC (branch and bound on the 0/1 model; log output silenced) ----
MckpSolution solve_mckp_cbc(const MckpProblem& problem, double time_limit_s = 60);
MckpSolution solve_mckp_min_weight_cbc(const MckpDualProblem& problem, double time_limit_s = 60);

// ---- Dynamic program over discretized weights ----
// Weights are measured above their group's lightest option, so the lightest choice is always
// represented exactly. The remaining range (primal: capacity - min_total_weight; dual:
// max_total_weight - min_total_weight, over the caller's groups) is split into
// `weight_resolution` equal steps q, and every weight above the lightest is rounded UP to a whole
// number of steps. Rounding up preserves feasibility: a choice that fits in the rounded problem
// fits in the real one. The result is optimal for the rounded problem, and exactly optimal when
// those weight differences are multiples of q; for integer weights and capacity pass
// weight_resolution = capacity - min_total_weight (primal) or max_total_weight - min_total_weight
// (dual), at least 1. Time O(options * weight_resolution), memory O(groups * weight_resolution);
// weight_resolution must be in [1, 1e8] and groups * resolution at most 2e8 (else fames::Error).
MckpSolution solve_mckp_dp(const MckpProblem& problem, int64_t weight_resolution);
MckpSolution solve_mckp_min_weight_dp(const MckpDualProblem& problem, int64_t weight_resolution);

// ---- Helpers ----
// Smallest achievable total weight (every group's lightest option); the primal is feasible iff
// min_total_weight <= capacity. Used to report the largest feasible reduction.
double min_total_weight(const std::vector<std::vector<Option>>& groups);
// Smallest achievable total cost; the dual is feasible iff min_total_cost <= max_cost.
double min_total_cost(const std::vector<std::vector<Option>>& groups);
// Sum of every group's heaviest option.
double max_total_weight(const std::vector<std::vector<Option>>& groups);

// Indices of the options of `group` that are not dominated: an option is dominated if another has
// cost <= and weight <= (one of them strictly, or an earlier identical one). Dropping dominated
// options never changes the optimum of either form. Sorted by increasing weight (decreasing cost).
// (LP-dominance -- dropping options above the lower convex hull -- is deliberately not done: it is
// exact only for the LP relaxation and can remove the integer optimum.)
std::vector<int> pareto_options(const std::vector<Option>& group);

// Throws fames::Error if a group is empty or a value is NaN / a weight is negative or infinite.
void validate_groups(const std::vector<std::vector<Option>>& groups);

// Totals of a choice (one index per group); fills solution.cost/weight/choice, feasible = true.
void fill_totals(const std::vector<std::vector<Option>>& groups, const std::vector<int>& choice,
                 MckpSolution& solution);

}  // namespace fames
