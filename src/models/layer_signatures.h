// The layer signatures of a model, for building a library that serves it (`fames lib build
// --model`): read from its card (M.json, or the card beside M.pt) without loading the network when
// there is one, else from the checkpoint itself.
#pragma once
#include <string>
#include <vector>

#include "core/signature.h"

namespace fames::models {

// Distinct signatures in layer order. Throws fames::Error naming `path` if the card has no
// "layers" list or a layer has invalid widths, or as load_model() does.
std::vector<Signature> model_signatures(const std::string& path);

// The zoo cards in folder `dir` (*.json files with a "layers" list, bit-allocation files
// "*.bits.*" excepted), sorted; none if the folder does not exist.
std::vector<std::string> zoo_cards(const std::string& dir = "models");

}  // namespace fames::models
