#include "models/layer_signatures.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "models/checkpoint.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::models {

std::vector<Signature> model_signatures(const std::string& path) {
  std::string card = path;
  if (card.size() < 5 || card.compare(card.size() - 5, 5, ".json") != 0) {
    const size_t dot = card.rfind('.');
    card = (dot == std::string::npos ? card : card.substr(0, dot)) + ".json";
  }
  nlohmann::json layers;
  if (file_exists(card)) {
    const nlohmann::json j = nlohmann::json::parse(read_file(card), nullptr, false);
    if (j.is_discarded() || !j.contains("layers") || !j["layers"].is_array())
      fail("--model '{}': the card {} has no \"layers\" list", path, card);
    layers = j["layers"];
  } else {
    auto loaded = load_model(path);
    layers = layer_table(*loaded.module);
  }
  std::vector<Signature> sigs;
  for (const auto& l : layers) {
    Signature sig{l.at("bw").get<int>(), l.at("ba").get<int>(), true, l.value("signed_a", false)};
    if (!sig.valid()) fail("--model '{}': layer with invalid widths {}x{}", path, sig.bw, sig.ba);
    if (std::find(sigs.begin(), sigs.end(), sig) == sigs.end()) sigs.push_back(sig);
  }
  return sigs;
}

std::vector<std::string> zoo_cards(const std::string& dir) {
  std::vector<std::string> cards;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
    const std::string p = f.path().string();
    if (f.path().extension() != ".json" || p.find(".bits.") != std::string::npos) continue;
    const nlohmann::json j = nlohmann::json::parse(read_file(p), nullptr, false);
    if (!j.is_discarded() && j.contains("layers") && j["layers"].is_array()) cards.push_back(p);
  }
  std::sort(cards.begin(), cards.end());
  return cards;
}

}  // namespace fames::models
