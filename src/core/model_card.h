// The layer signatures a model card lists (M.json beside M.pt, or `fames model-card`'s output: an
// object with a "layers" array of {"bw", "ba", "signed_w"?, "signed_a"?, ...}), for building a
// library that serves the model. Shared by `fames lib build --model` and the zoo's default library.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/signature.h"

namespace fames {

// True when `card` is an object with a "layers" array (what tells a card from other JSON files).
bool is_model_card(const nlohmann::json& card);

// The distinct signatures of `layers` (a card's "layers" array), in layer order: every layer an
// object with integer "bw" and "ba" in 1..8 and optional booleans "signed_w" (default true: cards
// written before asymmetric weights) and "signed_a" (default false). Anything else throws
// fames::Error naming `where` and the layer's index.
std::vector<Signature> card_signatures(const nlohmann::json& layers, const std::string& where);

}  // namespace fames
