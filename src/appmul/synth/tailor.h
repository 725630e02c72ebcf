// Multipliers tailored to one layer: ALS (als.h) whose objective is the layer's predicted loss
// change dL (layer_terms.h) instead of a uniform error metric, so that the error goes where the
// layer is insensitive or its operands are rare. Runs start from the exact multiplier and from the
// family seeds (als_library.h) of the layer's signature; options.als.max_error still bounds the
// uniform metric and max_dl bounds dL. The steps are thinned to their (energy, dL) Pareto front
// and then evenly to options.max_per_signature (0: all).
//
// Names: "tailor_<layer>_<metric>_<start>_s<step>_<sig>" with the layer name's characters other
// than letters, digits, '-' and '.' replaced by '_'; source "als:dl:<layer>".
#pragma once
#include <limits>
#include <string>
#include <vector>

#include "appmul/synth/als_library.h"
#include "appmul/synth/layer_terms.h"

namespace fames {

struct TailorOptions {
  AlsLibraryOptions als;
  double max_dl = std::numeric_limits<double>::infinity();
};

// Sorted by increasing energy. Throws fames::Error on bad options.
std::vector<AppMul> tailor_appmuls(const TermsLayer& layer, const TailorOptions& options);

// For every candidate (e.g. a library's members of the layer's signature; exact ones skipped), the
// tailored member with energy <= the candidate's and the lowest dL, if any.
struct TailorRow {
  std::string candidate;
  double energy_fj = 0, mred = 0, dl = 0;
  std::string tailored;  // empty when no tailored member is that cheap
  double tailored_energy_fj = 0, tailored_mred = 0, tailored_dl = 0;
};
std::vector<TailorRow> compare_tailored(const TermsLayer& layer,
                                        const std::vector<const AppMul*>& candidates,
                                        const std::vector<AppMul>& tailored);

}  // namespace fames
