// Error metrics of a ProductTable against the exact product, over all 2^bw x 2^ba operand pairs,
// either uniformly weighted or weighted by an operand histogram.
//
// With e = T(w, a) - w*a and p(w, a) the pair probability:
//   er    = P(e != 0)                        error rate, 0..1
//   med   = E|e|                              mean error distance
//   nmed  = med / max|w*a|                    max over all pairs of the signature (not weighted)
//   mred  = E[|e| / |w*a| | w*a != 0]         mean relative error distance; pairs whose exact
//                                             product is 0 are skipped and the rest renormalised
//   wce   = max |e| over pairs with p > 0     worst-case error
//   mse   = E[e^2]
//   bias  = E[e]                              mean (signed) error
#pragma once
#include <vector>

#include "core/product_table.h"

namespace fames {

struct ErrorMetrics {
  double er = 0, med = 0, nmed = 0, mred = 0, wce = 0, mse = 0, bias = 0;
};

// Uniform distribution over all pairs.
ErrorMetrics error_metrics(const ProductTable& table);

// `pair_weights` in ProductTable layout (w_raw * 2^ba + a_raw), non-negative, not all zero;
// they need not sum to 1. Throws fames::Error on a size mismatch, a negative or all-zero histogram.
ErrorMetrics error_metrics(const ProductTable& table, const std::vector<double>& pair_weights);

}  // namespace fames
