// `fames lib tailor` as a library call: multipliers tailored to one layer (tailor.h), from the
// layer's Taylor terms in a terms file (`fames estimate --terms-out`), written as a library folder
// and compared with the members of an existing library that fit the layer. Energies are fJ per
// multiplication, dL the predicted loss change (layer_terms.h), times wall-clock seconds.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "appmul/synth/tailor.h"

namespace fames {

struct LayerTailoringRequest {
  std::string est;      // an est.json that names its terms file ("terms") and library; optional
  std::string terms;    // the terms file (instead of, or overriding, est's)
  std::string layer;    // layer name, as in the terms file
  std::string library;  // compare with this library (default: est's; none if neither)
  std::string out;      // library folder to write the tailored AppMuls to
  TailorOptions options;
};

struct LayerTailoring {
  TermsLayer layer;
  std::string library;             // compared with (empty: no comparison)
  std::vector<AppMul> tailored;    // by increasing energy
  std::vector<double> tailored_dl; // [tailored]
  std::vector<TailorRow> rows;     // compare_tailored() against the library's members
  int better = 0;                  // rows whose tailored member has a lower dL
  double seconds = 0;              // tailoring alone

  // {layer, signature, out, seconds, tailored, library, rows, tailored_better}, as
  // `fames lib tailor --json` prints it; `out` is the folder written.
  nlohmann::json to_json(const std::string& out) const;
};

// Tailors, writes request.out (a library folder) and compares. Shows a progress bar. Throws
// fames::Error naming --est (not JSON, or no terms file), --layer (not in the terms file) or a file
// that cannot be read, and as tailor_appmuls() does.
LayerTailoring tailor_layer(const LayerTailoringRequest& request);

}  // namespace fames
