#include "appmul/als_library.h"

#include <algorithm>

#include "appmul/generators.h"

namespace fames {
namespace {

// Keeps at most `count` members of an energy-sorted front, evenly spaced in index (ends included).
std::vector<AppMul> thin_evenly(std::vector<AppMul> front, int count) {
  if (count <= 0 || static_cast<int>(front.size()) <= count) return front;
  std::vector<AppMul> kept;
  for (int i = 0; i < count; ++i) {
    const size_t index = count == 1 ? 0 : i * (front.size() - 1) / (count - 1);
    kept.push_back(front[index]);
  }
  return kept;
}

}  // namespace

size_t add_als_members(Library& library, const std::vector<Signature>& signatures, const AlsOptions& options,
                       int max_per_signature, const std::function<void(const Signature&, size_t)>& on_done) {
  std::vector<std::vector<AppMul>> results(signatures.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < static_cast<int64_t>(signatures.size()); ++i) {
    GeneratorSpec exact;
    exact.family = Family::kExactDadda;
    const auto steps = run_als(generate_multiplier(signatures[i], exact), options);
    results[i] = thin_evenly(pareto_front(steps, options.metric), max_per_signature);
#pragma omp critical(fames_als_progress)
    if (on_done) on_done(signatures[i], results[i].size());
  }
  size_t added = 0;
  for (auto& members : results) {
    for (auto& m : members) {
      library.add(std::move(m));
      ++added;
    }
  }
  return added;
}

}  // namespace fames
