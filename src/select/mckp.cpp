#include "select/mckp.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "select/mckp_prune.h"
#include "util/error.h"

namespace fames {

void validate_groups(const std::vector<std::vector<Option>>& groups) {
  for (size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].empty()) fail("knapsack group {} has no options", g);
    for (size_t i = 0; i < groups[g].size(); ++i) {
      const Option& o = groups[g][i];
      if (std::isnan(o.cost) || std::isinf(o.cost))
        fail("knapsack group {} option {} has a non-finite cost", g, i);
      if (!(o.weight >= 0) || std::isinf(o.weight))
        fail("knapsack group {} option {} has weight {}; weights must be finite and >= 0", g, i,
             o.weight);
    }
  }
}

namespace {
template <typename Pick>
double sum_over_groups(const std::vector<std::vector<Option>>& groups, Pick pick) {
  double total = 0;
  for (const auto& group : groups) {
    double best = pick(group.front());
    for (const Option& o : group) best = pick.better(pick(o), best);
    total += best;
  }
  return total;
}
struct MinWeight {
  double operator()(const Option& o) const { return o.weight; }
  static double better(double a, double b) { return std::min(a, b); }
};
struct MaxWeight {
  double operator()(const Option& o) const { return o.weight; }
  static double better(double a, double b) { return std::max(a, b); }
};
struct MinCost {
  double operator()(const Option& o) const { return o.cost; }
  static double better(double a, double b) { return std::min(a, b); }
};
}  // namespace

double min_total_weight(const std::vector<std::vector<Option>>& groups) {
  validate_groups(groups);
  return sum_over_groups(groups, MinWeight{});
}
double max_total_weight(const std::vector<std::vector<Option>>& groups) {
  validate_groups(groups);
  return sum_over_groups(groups, MaxWeight{});
}
double min_total_cost(const std::vector<std::vector<Option>>& groups) {
  validate_groups(groups);
  return sum_over_groups(groups, MinCost{});
}

std::vector<int> pareto_options(const std::vector<Option>& group) {
  std::vector<int> order(group.size());
  std::iota(order.begin(), order.end(), 0);
  // Lightest first; among equal weights the cheapest, then the earliest index.
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (group[a].weight != group[b].weight) return group[a].weight < group[b].weight;
    return group[a].cost < group[b].cost;
  });
  std::vector<int> kept;
  for (int i : order)
    if (kept.empty() || group[i].cost < group[kept.back()].cost) kept.push_back(i);
  return kept;
}

void fill_totals(const std::vector<std::vector<Option>>& groups, const std::vector<int>& choice,
                 MckpSolution& solution) {
  solution.feasible = true;
  solution.choice = choice;
  solution.cost = solution.weight = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    solution.cost += groups[g][choice[g]].cost;
    solution.weight += groups[g][choice[g]].weight;
  }
}

namespace detail {

std::vector<int> PrunedGroups::to_original(const std::vector<int>& pruned_choice) const {
  std::vector<int> choice(pruned_choice.size());
  for (size_t g = 0; g < pruned_choice.size(); ++g) choice[g] = original[g][pruned_choice[g]];
  return choice;
}

PrunedGroups prune_dominated(const std::vector<std::vector<Option>>& groups) {
  validate_groups(groups);
  PrunedGroups pruned;
  pruned.groups.resize(groups.size());
  pruned.original.resize(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    pruned.original[g] = pareto_options(groups[g]);
    for (int i : pruned.original[g]) pruned.groups[g].push_back(groups[g][i]);
  }
  return pruned;
}

}  // namespace detail
}  // namespace fames
