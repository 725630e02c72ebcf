// Dominance of an ALS front over rival multipliers (e.g. the truncation, broken-array and
// perforation families): rival r is dominated when some front member f has
// error(f) <= error(r) and energy_fj(f) < energy_fj(r), with error = metric_value(metrics, metric).
// Only rivals whose error lies in [min_error, max_error] are checked (exact rivals never are).
// `fames lib compare` prints the report; docs/appmul-library.md shows it.
#pragma once
#include <string>
#include <vector>

#include "appmul/synth/als.h"

namespace fames {

struct DominanceRow {
  std::string rival;  // rival name and source ("family:trunc", ...)
  std::string rival_source;
  double rival_error = 0, rival_energy_fj = 0;
  // The cheapest front member with error <= rival_error; empty name when there is none.
  std::string best;
  double best_error = 0, best_energy_fj = 0;
  bool dominated = false;
};

struct DominanceReport {
  std::vector<DominanceRow> rows;  // checked rivals, by increasing error (then name)
  bool all_dominated() const;
  int dominated_count() const;
};

DominanceReport check_dominance(const std::vector<AppMul>& front, const std::vector<AppMul>& rivals,
                                AlsMetric metric, double min_error, double max_error);

}  // namespace fames
