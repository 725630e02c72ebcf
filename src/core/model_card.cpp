#include "core/model_card.h"

#include <algorithm>

#include "core/json_fields.h"
#include "util/error.h"

namespace fames {
namespace {

bool optional_flag(const detail::JsonFields& layer, const char* key, bool absent) {
  if (!layer.has(key)) return absent;
  if (!layer.raw(key).is_boolean()) layer.fail_here(fmt::format("\"{}\" must be true or false", key));
  return layer.raw(key).get<bool>();
}

}  // namespace

bool is_model_card(const nlohmann::json& card) {
  return card.is_object() && card.contains("layers") && card["layers"].is_array();
}

std::vector<Signature> card_signatures(const nlohmann::json& layers, const std::string& where) {
  if (!layers.is_array()) fail("{}: \"layers\" must be an array", where);
  std::vector<Signature> sigs;
  for (size_t i = 0; i < layers.size(); ++i) {
    const detail::JsonFields layer(layers[i], where, fmt::format("layers[{}]", i));
    Signature sig;
    const int64_t bw = layer.integer("bw"), ba = layer.integer("ba");
    if (bw < 1 || bw > 8 || ba < 1 || ba > 8)
      layer.fail_here(fmt::format("widths {}x{} are outside 1..8", bw, ba));
    sig.bw = static_cast<int>(bw);
    sig.ba = static_cast<int>(ba);
    sig.signed_w = optional_flag(layer, "signed_w", true);
    sig.signed_a = optional_flag(layer, "signed_a", false);
    if (std::find(sigs.begin(), sigs.end(), sig) == sigs.end()) sigs.push_back(sig);
  }
  return sigs;
}

}  // namespace fames
