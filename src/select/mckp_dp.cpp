// MCKP by dynamic programming over discretized weights. best[b] = least total cost of the groups
// seen so far with total rounded weight <= b steps; one pass per group, keeping the argmin per
// (group, b) for the backtrack. Both forms use the same table: the primal reads best[B] at the
// capacity, the dual looks for the smallest b whose best cost meets the cost bound.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

#include "select/mckp.h"
#include "select/mckp_prune.h"
#include "util/error.h"

namespace fames {
namespace {

constexpr int64_t kMaxResolution = 100'000'000;
constexpr int64_t kMaxTableCells = 200'000'000;  // argmin table: 4 bytes per cell
constexpr double kInfinity = std::numeric_limits<double>::infinity();

struct DpTable {
  int64_t buckets = 0;                      // B: weights are in 0..B steps
  std::vector<double> best;                 // best[b] after the last group
  std::vector<std::vector<int32_t>> arg;    // arg[g][b]: option chosen for group g (-1: none fits)
  std::vector<std::vector<int64_t>> steps;  // steps[g][i]: rounded weight of option i
};

// Measures each option's weight above its group's lightest option (so the lightest choice is
// always representable exactly) and rounds it up to whole steps of size `step`; options more than
// `buckets` steps above are marked unusable (steps = buckets + 1).
DpTable build_table(const std::vector<std::vector<Option>>& groups, double step, int64_t buckets) {
  if (static_cast<int64_t>(groups.size()) * (buckets + 1) > kMaxTableCells)
    fail("knapsack DP table of {} groups x {} weight steps is too large; lower the resolution",
         groups.size(), buckets + 1);
  DpTable t;
  t.buckets = buckets;
  t.best.assign(buckets + 1, 0.0);
  std::vector<double> next(buckets + 1);
  for (const auto& group : groups) {
    std::vector<int64_t> s(group.size());
    double lightest = group.front().weight;
    for (const Option& o : group) lightest = std::min(lightest, o.weight);
    for (size_t i = 0; i < group.size(); ++i) {
      const double exact_steps = (group[i].weight - lightest) / step;
      s[i] = exact_steps > static_cast<double>(buckets)
                 ? buckets + 1
                 : static_cast<int64_t>(std::ceil(exact_steps));
    }
    std::vector<int32_t> arg(buckets + 1, -1);
    std::fill(next.begin(), next.end(), kInfinity);
    for (size_t i = 0; i < group.size(); ++i) {
      if (s[i] > buckets) continue;
      const double c = group[i].cost;
      for (int64_t b = s[i]; b <= buckets; ++b) {
        const double candidate = t.best[b - s[i]] + c;
        if (candidate < next[b]) {
          next[b] = candidate;
          arg[b] = static_cast<int32_t>(i);
        }
      }
    }
    t.best.swap(next);
    t.arg.push_back(std::move(arg));
    t.steps.push_back(std::move(s));
  }
  return t;
}

// The choice that reaches best[b] after the last group.
std::vector<int> backtrack(const DpTable& t, int64_t b) {
  std::vector<int> choice(t.arg.size());
  for (size_t g = t.arg.size(); g-- > 0;) {
    const int32_t i = t.arg[g][b];
    choice[g] = i;
    b -= t.steps[g][i];
  }
  return choice;
}

void check_resolution(int64_t weight_resolution) {
  if (weight_resolution < 1 || weight_resolution > kMaxResolution)
    fail("knapsack DP weight resolution {} is outside [1, {}]", weight_resolution, kMaxResolution);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

MckpSolution solve_mckp_dp(const MckpProblem& problem, int64_t weight_resolution) {
  check_resolution(weight_resolution);
  const auto t0 = std::chrono::steady_clock::now();
  const detail::PrunedGroups pruned = detail::prune_dominated(problem.groups);
  MckpSolution solution;
  solution.solver = "dp";
  solution.proven_optimal = true;  // optimal for the rounded weights
  if (std::isnan(problem.capacity)) fail("knapsack capacity is NaN");
  // Only the slack above the lightest choice is discretized.
  const double slack = problem.capacity - min_total_weight(pruned.groups);
  if (slack >= 0) {
    // Zero slack admits only each group's lightest options: zero buckets, any positive step.
    const int64_t buckets = slack > 0 ? weight_resolution : 0;
    const double step = slack > 0 ? slack / weight_resolution : 1.0;
    const DpTable table = build_table(pruned.groups, step, buckets);
    if (table.best[buckets] < kInfinity)
      fill_totals(problem.groups, pruned.to_original(backtrack(table, buckets)), solution);
  }
  solution.seconds = seconds_since(t0);
  return solution;
}

MckpSolution solve_mckp_min_weight_dp(const MckpDualProblem& problem, int64_t weight_resolution) {
  check_resolution(weight_resolution);
  const auto t0 = std::chrono::steady_clock::now();
  const detail::PrunedGroups pruned = detail::prune_dominated(problem.groups);
  MckpSolution solution;
  solution.solver = "dp";
  solution.proven_optimal = true;
  // As documented: the range before pruning, above the lightest choice.
  const double range = max_total_weight(problem.groups) - min_total_weight(problem.groups);
  const double step = range > 0 ? range / weight_resolution : 1.0;
  // Each group's heaviest option rounds up to at most one extra step, so this many buckets hold
  // every choice even when floating-point division lands just above a whole step.
  const int64_t buckets =
      range > 0 ? weight_resolution + static_cast<int64_t>(pruned.groups.size()) : 0;
  const DpTable table = build_table(pruned.groups, step, buckets);
  // best[] is non-increasing in b, so the first b that meets the bound is the lightest.
  // Compare with a tolerance far below any meaningful cost difference, since the table sums
  // costs in a different order than the caller would.
  double magnitude = std::fabs(problem.max_cost);
  for (const auto& group : pruned.groups)
    for (const Option& o : group) magnitude += std::fabs(o.cost);
  const double bound = problem.max_cost + 1e-12 * magnitude;
  for (int64_t b = 0; b <= buckets; ++b) {
    if (table.best[b] <= bound) {
      fill_totals(problem.groups, pruned.to_original(backtrack(table, b)), solution);
      break;
    }
  }
  solution.seconds = seconds_since(t0);
  return solution;
}

}  // namespace fames
