#include "appmul/synth/library_build.h"

#include <algorithm>
#include <exception>
#include <limits>

#include "appmul/synth/generators.h"

namespace fames {
namespace {

bool dominates(const AppMul& a, const AppMul& b) {
  const bool no_worse = a.energy_fj <= b.energy_fj && a.metrics.mred <= b.metrics.mred &&
                        a.metrics.nmed <= b.metrics.nmed;
  const bool better = a.energy_fj < b.energy_fj || a.metrics.mred < b.metrics.mred ||
                      a.metrics.nmed < b.metrics.nmed;
  return no_worse && better;
}

// Keeps `keep` members spread evenly over the list (sorted by energy), always the first and last.
std::vector<AppMul> thin_evenly(std::vector<AppMul> sorted, size_t keep) {
  if (sorted.size() <= keep || keep == 0) return sorted;
  std::vector<AppMul> out;
  for (size_t i = 0; i < keep; ++i) {
    const size_t pick = keep == 1 ? 0 : i * (sorted.size() - 1) / (keep - 1);
    out.push_back(std::move(sorted[pick]));
  }
  return out;
}

}  // namespace

std::vector<AppMul> build_family_members(const Signature& sig, const FamilyBuildOptions& options) {
  std::vector<AppMul> exact, approx;
  for (const GeneratorSpec& spec : default_family_specs(sig)) {
    AppMul m = characterize(generate_multiplier(sig, spec), generator_source(spec), options.cells,
                            options.cost);
    const bool exact_circuit =
        spec.family == Family::kExactArray || spec.family == Family::kExactDadda;
    (exact_circuit ? exact : approx).push_back(std::move(m));
  }
  double exact_energy = std::numeric_limits<double>::infinity();
  for (const AppMul& m : exact) exact_energy = std::min(exact_energy, m.energy_fj);

  auto by_energy = [](const AppMul& a, const AppMul& b) {
    return a.energy_fj != b.energy_fj ? a.energy_fj < b.energy_fj : a.name < b.name;
  };
  std::sort(approx.begin(), approx.end(), by_energy);
  std::vector<AppMul> kept;
  for (AppMul& m : approx) {
    if (m.exact || m.metrics.mred > options.max_mred || m.energy_fj >= exact_energy) continue;
    const bool duplicate =
        std::any_of(kept.begin(), kept.end(), [&](const AppMul& k) { return k.table == m.table; });
    if (!duplicate)
      kept.push_back(std::move(m));  // sorted by energy: the cheaper twin is already kept
  }
  const size_t room = static_cast<size_t>(
      std::max<int>(0, options.max_per_signature - static_cast<int>(exact.size())));
  if (kept.size() > room) {
    std::vector<AppMul> front;
    for (size_t i = 0; i < kept.size(); ++i) {
      const bool dominated = std::any_of(kept.begin(), kept.end(),
                                         [&](const AppMul& o) { return dominates(o, kept[i]); });
      if (!dominated) front.push_back(kept[i]);
    }
    // Not enough on the front: top up with dominated members, cheapest first.
    for (size_t i = 0; i < kept.size() && front.size() < room; ++i)
      if (std::none_of(front.begin(), front.end(),
                       [&](const AppMul& f) { return f.name == kept[i].name; }))
        front.push_back(kept[i]);
    std::sort(front.begin(), front.end(), by_energy);
    kept = thin_evenly(std::move(front), room);
  }
  std::sort(exact.begin(), exact.end(), by_energy);
  for (AppMul& m : kept) exact.push_back(std::move(m));
  return exact;
}

Library build_family_library(const std::vector<Signature>& signatures,
                             const FamilyBuildOptions& options,
                             const std::function<void(const Signature&, size_t)>& on_done) {
  // Largest signatures first so the parallel loop ends evenly.
  std::vector<size_t> order(signatures.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return signatures[a].table_size() > signatures[b].table_size();
  });
  std::vector<std::vector<AppMul>> results(signatures.size());
  const int count = static_cast<int>(order.size());
  std::exception_ptr failure;  // exceptions must not leave an OpenMP region
#pragma omp parallel for schedule(dynamic, 1)
  for (int i = 0; i < count; ++i) {
    const size_t s = order[static_cast<size_t>(i)];
    try {
      results[s] = build_family_members(signatures[s], options);
#pragma omp critical(fames_family_progress)
      if (on_done) on_done(signatures[s], results[s].size());
    } catch (...) {
#pragma omp critical(fames_family_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  Library lib;
  for (auto& members : results)
    for (AppMul& m : members) lib.add(std::move(m));
  return lib;
}

}  // namespace fames
