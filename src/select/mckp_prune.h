// Internal to src/select: removes dominated options before a solver runs and maps the solver's
// choice back to the caller's option indices. Dominance pruning keeps both MCKP forms optimal.
#pragma once
#include <vector>

#include "select/mckp.h"

namespace fames::detail {

struct PrunedGroups {
  std::vector<std::vector<Option>> groups;  // the non-dominated options of each group
  std::vector<std::vector<int>> original;   // original[g][i]: index of groups[g][i] in the input

  // Translates a choice over the pruned groups into the caller's indices.
  std::vector<int> to_original(const std::vector<int>& pruned_choice) const;
};

// Validates (see validate_groups) and prunes.
PrunedGroups prune_dominated(const std::vector<std::vector<Option>>& groups);

}  // namespace fames::detail
