#include "appmul/library/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/operand_histogram.h"

namespace fames {
namespace {

ErrorMetrics weighted_metrics(const ProductTable& table, const double* weights) {
  const Signature& sig = table.signature();
  ErrorMetrics m;
  double total = 0, nonzero_total = 0, rel_sum = 0, max_exact = 0;
  for (uint32_t w = 0; w < sig.weight_levels(); ++w)
    for (uint32_t a = 0; a < sig.act_levels(); ++a) {
      const double p = weights ? weights[(w << sig.ba) | a] : 1.0;
      const int64_t exact = int64_t{sig.w_value(w)} * sig.a_value(a);
      const double e = static_cast<double>(table.raw(w, a) - exact);
      max_exact = std::max(max_exact, static_cast<double>(std::llabs(exact)));
      if (p <= 0) continue;
      total += p;
      m.er += e != 0 ? p : 0;
      m.med += p * std::fabs(e);
      m.mse += p * e * e;
      m.bias += p * e;
      m.wce = std::max(m.wce, std::fabs(e));
      if (exact != 0) {
        nonzero_total += p;
        rel_sum += p * std::fabs(e) / std::fabs(static_cast<double>(exact));
      }
    }
  m.er /= total;
  m.med /= total;
  m.mse /= total;
  m.bias /= total;
  m.nmed = max_exact > 0 ? m.med / max_exact : 0;
  m.mred = nonzero_total > 0 ? rel_sum / nonzero_total : 0;
  return m;
}

}  // namespace

ErrorMetrics error_metrics(const ProductTable& table) { return weighted_metrics(table, nullptr); }

ErrorMetrics error_metrics(const ProductTable& table, const std::vector<double>& pair_weights) {
  check_pair_weights(table.signature(), pair_weights,
                     "operand histogram for " + table.signature().key());
  return weighted_metrics(table, pair_weights.data());
}

}  // namespace fames
