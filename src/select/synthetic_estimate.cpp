#include "select/synthetic_estimate.h"

#include <fmt/format.h>

#include <random>

#include "util/error.h"

namespace fames {

Estimate synthetic_estimate(const SyntheticEstimateSpec& spec) {
  if (spec.layers < 1 || spec.candidates < 1)
    fail("a synthetic estimate needs >= 1 layer and >= 1 candidate, got {} and {}", spec.layers,
         spec.candidates);
  std::mt19937 rng(spec.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const Signature pool[] = {{8, 8, true, false}, {6, 6, true, false}, {4, 4, true, false},
                            {4, 3, true, false}, {3, 3, true, false}, {2, 2, true, false}};
  std::uniform_int_distribution<int> pick_signature(0, std::size(pool) - 1);

  Estimate e;
  e.model = "synthetic";
  e.library = "synthetic-library";
  e.samples = 512;
  e.hessian = "gn";
  for (int k = 0; k < spec.layers; ++k) {
    const Signature sig = pool[pick_signature(rng)];
    const std::string key = sig.key();
    // One exact AppMul per signature, energy ~ 4.5 fJ per partial-product bit (8x8: ~290 fJ).
    const std::string exact = "exact_" + key;
    if (!e.appmuls.count(exact)) e.appmuls[exact] = {sig, 4.5 * sig.bw * sig.ba, 0.0};
    EstimateLayer layer;
    layer.name = k == 0 ? "conv1" : fmt::format("layer{}.conv{}", (k - 1) / 2 + 1, (k - 1) % 2 + 1);
    if (spec.layers > 1 && k == spec.layers - 1) layer.name = "fc";
    layer.signature = sig;
    layer.macs = 100'000 + static_cast<int64_t>(unit(rng) * 4'900'000);
    layer.exact = exact;
    const double sensitivity = 0.02 + 2.0 * unit(rng) * unit(rng);
    layer.candidates.push_back({exact, 0.0, e.appmuls[exact].energy_fj});
    for (int i = 1; i < spec.candidates; ++i) {
      const std::string name = fmt::format("am_{}_{:02d}", key, i);
      if (!e.appmuls.count(name)) {
        const double saving = unit(rng);  // 0: as costly as exact, 1: 25% of it
        e.appmuls[name] = {sig, e.appmuls[exact].energy_fj * (0.99 - 0.74 * saving),
                           0.2 * (0.05 + 0.95 * saving) * unit(rng)};
      }
      const EstimateAppMul& a = e.appmuls[name];
      const double noise = 4e-6 * (unit(rng) - 0.5);  // matters only for tiny errors
      layer.candidates.push_back({name, sensitivity * a.mred * a.mred + noise, a.energy_fj});
    }
    e.layers.push_back(std::move(layer));
  }
  e.validate("synthetic estimate");
  return e;
}

}  // namespace fames
