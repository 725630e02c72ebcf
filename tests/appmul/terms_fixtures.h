// Shared fixture of the layer-terms tests: a layer whose curvature is diagonal and falls off with
// the weight's magnitude, so that an AppMul's error on small weights costs the most.
#pragma once
#include <cmath>
#include <string>

#include "appmul/synth/layer_terms.h"

namespace fames::testing {

// Dense terms, g = 0, H diagonal with H[p][p] = exp(-decay * |w|) for every operand pair p = (w, a).
inline TermsLayer small_weight_layer(const std::string& name, const Signature& sig, double decay) {
  TermsLayer l;
  l.name = name;
  l.signature = sig;
  l.samples = 1;
  l.g.assign(sig.table_size(), 0);
  l.form = TermsLayer::Form::kDense;
  const size_t t = sig.table_size();
  l.h.assign(t * t, 0);
  for (int w = sig.w_min(); w <= sig.w_max(); ++w)
    for (uint32_t a = 0; a < sig.act_levels(); ++a) {
      const size_t p = (size_t{sig.w_raw(w)} << sig.ba) | a;
      l.h[p * t + p] = std::exp(-decay * std::abs(w));
    }
  return l;
}

}  // namespace fames::testing
