// A model card's "layers": every mistyped, missing or out-of-range width is one fames::Error naming
// the card and the layer; nothing from nlohmann gets through.
#include <gtest/gtest.h>

#include "core/model_card.h"
#include "util/error.h"

namespace fames {
namespace {

std::string card_error(const std::string& layers_json) {
  try {
    card_signatures(nlohmann::json::parse(layers_json), "card.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ModelCard, SignaturesAreDistinctAndInLayerOrder) {
  const auto sigs = card_signatures(nlohmann::json::parse(
      R"([{"bw": 4, "ba": 4}, {"bw": 8, "ba": 2, "signed_a": true}, {"bw": 4, "ba": 4},
          {"bw": 8, "ba": 8, "signed_w": false}, {"bw": 4, "ba": 4, "signed_w": true}])"),
      "card.json");
  ASSERT_EQ(sigs.size(), 3u);
  EXPECT_EQ(sigs[0].key(), "w4s_a4u");
  EXPECT_EQ(sigs[1].key(), "w8s_a2s");
  EXPECT_EQ(sigs[2].key(), "w8u_a8u");  // asymmetric (zero-point) weights
  EXPECT_TRUE(is_model_card(nlohmann::json::parse(R"({"layers": []})")));
  EXPECT_FALSE(is_model_card(nlohmann::json::parse(R"({"layers": {}})")));
  EXPECT_FALSE(is_model_card(nlohmann::json::parse(R"([1])")));
}

TEST(ModelCard, BadLayersNameTheCardAndLayer) {
  std::string e = card_error(R"([{"bw": "x", "ba": 4}])");
  EXPECT_EQ(e, "card.json: layers[0].bw must be an integer");
  e = card_error(R"([{"bw": 4, "ba": 4}, {"ba": 4}])");
  EXPECT_EQ(e, "card.json: layers[1]: missing key \"bw\"");
  e = card_error(R"([{"bw": 1e300, "ba": 4}])");
  EXPECT_EQ(e, "card.json: layers[0].bw must be an integer");
  e = card_error(R"([{"bw": 4, "ba": 4000000000}])");
  EXPECT_EQ(e, "card.json: layers[0]: widths 4x4000000000 are outside 1..8");
  e = card_error(R"([{"bw": 4, "ba": 4, "signed_a": "yes"}])");
  EXPECT_EQ(e, "card.json: layers[0]: \"signed_a\" must be true or false");
  e = card_error(R"([{"bw": 4, "ba": 4, "signed_w": 0}])");
  EXPECT_EQ(e, "card.json: layers[0]: \"signed_w\" must be true or false");
  e = card_error(R"([7])");
  EXPECT_EQ(e, "card.json: layers[0]: expected a JSON object");
  e = card_error(R"({"bw": 4})");
  EXPECT_EQ(e, "card.json: \"layers\" must be an array");
}

}  // namespace
}  // namespace fames
