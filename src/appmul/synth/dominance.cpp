#include "appmul/synth/dominance.h"

#include <algorithm>

namespace fames {

bool DominanceReport::all_dominated() const {
  return std::all_of(rows.begin(), rows.end(), [](const DominanceRow& r) { return r.dominated; });
}

int DominanceReport::dominated_count() const {
  return static_cast<int>(
      std::count_if(rows.begin(), rows.end(), [](const DominanceRow& r) { return r.dominated; }));
}

DominanceReport check_dominance(const std::vector<AppMul>& front, const std::vector<AppMul>& rivals,
                                AlsMetric metric, double min_error, double max_error) {
  DominanceReport report;
  for (const AppMul& r : rivals) {
    const double error = metric_value(r.metrics, metric);
    if (r.exact || error < min_error || error > max_error) continue;
    DominanceRow row;
    row.rival = r.name;
    row.rival_source = r.source;
    row.rival_error = error;
    row.rival_energy_fj = r.energy_fj;
    for (const AppMul& f : front) {
      const double fe = metric_value(f.metrics, metric);
      if (fe > error) continue;
      if (row.best.empty() || f.energy_fj < row.best_energy_fj) {
        row.best = f.name;
        row.best_error = fe;
        row.best_energy_fj = f.energy_fj;
      }
    }
    row.dominated = !row.best.empty() && row.best_energy_fj < row.rival_energy_fj;
    report.rows.push_back(std::move(row));
  }
  std::sort(report.rows.begin(), report.rows.end(), [](const DominanceRow& a, const DominanceRow& b) {
    return a.rival_error != b.rival_error ? a.rival_error < b.rival_error : a.rival < b.rival;
  });
  return report;
}

}  // namespace fames
