#include "models/layer_signatures.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "core/model_card.h"
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
  if (file_exists(card)) {
    const std::string where =
        card == path ? fmt::format("--model '{}'", path) : fmt::format("--model '{}': card {}", path, card);
    const nlohmann::json j = detail::parse_json_file_text(read_file(card), where);
    if (!is_model_card(j)) fail("{} has no \"layers\" list", where);
    return card_signatures(j["layers"], where);
  }
  auto loaded = load_model(path);
  return card_signatures(layer_table(*loaded.module), fmt::format("--model '{}'", path));
}

std::vector<std::string> zoo_cards(const std::string& dir) {
  std::vector<std::string> cards;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
    const std::string p = f.path().string();
    if (f.path().extension() != ".json" || p.find(".bits.") != std::string::npos) continue;
    const nlohmann::json j = nlohmann::json::parse(read_file(p), nullptr, false);
    if (!j.is_discarded() && is_model_card(j)) cards.push_back(p);
  }
  std::sort(cards.begin(), cards.end());
  return cards;
}

}  // namespace fames::models
