#include "appmul/synth/tailor.h"

#include <algorithm>
#include <cctype>
#include <numeric>

#include "util/error.h"

namespace fames {
namespace {

std::string safe(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '_';
  return s;
}

}  // namespace

std::vector<AppMul> tailor_appmuls(const TermsLayer& layer, const TailorOptions& options) {
  TailorOptions o = options;
  std::shared_ptr<const AlsObjective> objective = make_dl_objective(layer);
  o.als.als.objective = objective;
  o.als.als.max_objective = options.max_dl;
  std::vector<AppMul> steps = run_seeded_als({layer.signature}, o.als).front();
  std::vector<double> dl(steps.size());
  for (size_t i = 0; i < steps.size(); ++i) dl[i] = layer.predict(steps[i].table);
  // Pareto front in (energy, dL).
  std::vector<size_t> order(steps.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return steps[a].energy_fj != steps[b].energy_fj ? steps[a].energy_fj < steps[b].energy_fj
                                                    : dl[a] < dl[b];
  });
  std::vector<AppMul> front;
  double best = std::numeric_limits<double>::infinity();
  for (size_t i : order) {
    if (dl[i] >= best) continue;
    best = dl[i];
    AppMul m = std::move(steps[i]);
    m.name = "tailor_" + safe(layer.name) + "_" + m.name.substr(4);  // drop "als_"
    m.source = "als:dl:" + layer.name;
    if (m.netlist) m.netlist->set_name(m.name);
    front.push_back(std::move(m));
  }
  // Front sorted by increasing energy has decreasing dL: thin evenly, keeping both ends.
  const int count = options.als.max_per_signature;
  if (count > 0 && static_cast<int>(front.size()) > count) {
    std::vector<AppMul> kept;
    for (int i = 0; i < count; ++i)
      kept.push_back(front[count == 1 ? 0 : i * (front.size() - 1) / (count - 1)]);
    front = std::move(kept);
  }
  return front;
}

std::vector<TailorRow> compare_tailored(const TermsLayer& layer,
                                        const std::vector<const AppMul*>& candidates,
                                        const std::vector<AppMul>& tailored) {
  std::vector<double> tailored_dl;
  for (const AppMul& t : tailored) tailored_dl.push_back(layer.predict(t.table));
  std::vector<TailorRow> rows;
  for (const AppMul* c : candidates) {
    if (c->exact) continue;
    TailorRow row;
    row.candidate = c->name;
    row.energy_fj = c->energy_fj;
    row.mred = c->metrics.mred;
    row.dl = layer.predict(c->table);
    for (size_t i = 0; i < tailored.size(); ++i) {
      if (tailored[i].energy_fj > c->energy_fj) continue;
      if (row.tailored.empty() || tailored_dl[i] < row.tailored_dl) {
        row.tailored = tailored[i].name;
        row.tailored_energy_fj = tailored[i].energy_fj;
        row.tailored_mred = tailored[i].metrics.mred;
        row.tailored_dl = tailored_dl[i];
      }
    }
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(),
            [](const TailorRow& a, const TailorRow& b) { return a.energy_fj < b.energy_fj; });
  return rows;
}

}  // namespace fames
