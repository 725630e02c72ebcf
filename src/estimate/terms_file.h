// The estimator's layer terms (estimator.h: g and H as torch tensors) as a torch-free terms file
// (appmul/synth/layer_terms.h), which `fames lib tailor` reads to design multipliers for a layer
// outside any library. `fames estimate --terms-out` writes it.
#pragma once
#include <string>
#include <vector>

#include "appmul/synth/layer_terms.h"
#include "estimate/estimator.h"

namespace fames::estimate {

// The terms of every layer, in order: g always; H dense or as its factor rows over their support.
// `model` and `hessian` are recorded as given. Throws fames::Error naming the layer if its terms are
// in projected form (compute_terms with a library to project onto), which a file cannot hold.
TermsFile to_terms_file(const std::vector<LayerTerms>& terms, const std::string& model,
                        const std::string& hessian);

}  // namespace fames::estimate
