// The metadata record of a model checkpoint: every field in range, one clear error naming the file.
#include "models/checkpoint_meta.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace fames::models {
namespace {

nlohmann::json good_record() {
  return {{"format", "fames-model"}, {"format_version", 1}, {"arch", "lenet5"},
          {"num_classes", 10},       {"in_channels", 1},    {"image_size", 28},
          {"width", 1.0},            {"quantized", true},   {"dataset", "fashion-mnist"}};
}

// The error parsing `record` with `key` set to `value` (or removed, for a null value).
std::string error_with(const std::string& key, const nlohmann::json& value) {
  nlohmann::json record = good_record();
  if (value.is_null()) {
    record.erase(key);
  } else {
    record[key] = value;
  }
  try {
    parse_checkpoint_meta(record.dump(), "m.pt");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(CheckpointMeta, ReadsAGoodRecord) {
  const CheckpointMeta meta = parse_checkpoint_meta(good_record().dump(), "m.pt");
  EXPECT_EQ(meta.arch, "lenet5");
  EXPECT_EQ(meta.num_classes, 10);
  EXPECT_EQ(meta.image_size, 28);
  EXPECT_TRUE(meta.classes.empty());
  EXPECT_EQ(meta.record["dataset"], "fashion-mnist");
}

TEST(CheckpointMeta, FormatVersionAndRangesAreChecked) {
  EXPECT_EQ(error_with("format", nullptr),
            "model 'm.pt' metadata: missing key \"format\"");
  EXPECT_EQ(error_with("format", "onnx"), "model 'm.pt' metadata: \"format\" is not \"fames-model\"");
  EXPECT_EQ(error_with("format_version", 2),
            "model 'm.pt' metadata: format_version 2 is not supported (this build reads 1)");
  // num_classes 0 once divided by zero; 1 is not a classifier.
  EXPECT_EQ(error_with("num_classes", 0),
            "model 'm.pt' metadata: \"num_classes\" is 0; it must be 2..100000");
  EXPECT_EQ(error_with("num_classes", 1),
            "model 'm.pt' metadata: \"num_classes\" is 1; it must be 2..100000");
  EXPECT_EQ(error_with("in_channels", -3),
            "model 'm.pt' metadata: \"in_channels\" is -3; it must be 1..16");
  EXPECT_EQ(error_with("image_size", 1 << 20),
            "model 'm.pt' metadata: \"image_size\" is 1048576; it must be 1..4096");
  EXPECT_EQ(error_with("width", 99), "model 'm.pt' metadata: \"width\" is 99; it must be in (0, 2]");
  EXPECT_EQ(error_with("width", "wide"), "model 'm.pt' metadata: width must be a finite number");
  EXPECT_EQ(error_with("dataset", 7), "model 'm.pt' metadata: dataset must be a string");
  EXPECT_EQ(error_with("quantized", "yes"),
            "model 'm.pt' metadata: \"quantized\" must be true or false");
}

TEST(CheckpointMeta, ClassNamesMustMatchTheClassCount) {
  EXPECT_EQ(error_with("classes", nlohmann::json::array({"a", "b"})),
            "model 'm.pt' metadata: \"classes\" lists 2 names for 10 classes");
  nlohmann::json names = nlohmann::json::array();
  for (int i = 0; i < 10; ++i) names.push_back(i == 3 ? "c0" : "c" + std::to_string(i));
  EXPECT_EQ(error_with("classes", names), "model 'm.pt' metadata: \"classes\" must be distinct strings");
  names[3] = "c3";
  nlohmann::json record = good_record();
  record["classes"] = names;
  EXPECT_EQ(parse_checkpoint_meta(record.dump(), "m.pt").classes.at(3), "c3");
}

TEST(CheckpointMeta, AsymmetricLayersAreDistinctNames) {
  nlohmann::json record = good_record();
  record["asymmetric_weights"] = {"conv1", "fc3"};
  EXPECT_EQ(parse_checkpoint_meta(record.dump(), "m.pt").asymmetric_layers,
            (std::vector<std::string>{"conv1", "fc3"}));
  EXPECT_TRUE(parse_checkpoint_meta(good_record().dump(), "m.pt").asymmetric_layers.empty());
  for (const nlohmann::json& bad : {nlohmann::json{"conv1", "conv1"}, nlohmann::json{"conv1", 3},
                                    nlohmann::json{""}, nlohmann::json("conv1")}) {
    const std::string e = error_with("asymmetric_weights", bad);
    EXPECT_NE(e.find("m.pt"), std::string::npos) << e;
    EXPECT_NE(e.find("asymmetric_weights"), std::string::npos) << e;
  }
}

TEST(CheckpointMeta, NotJsonOrTooDeepIsOneError) {
  EXPECT_THROW(parse_checkpoint_meta("{\"arch\": ", "m.pt"), Error);
  nlohmann::json record = good_record();
  const std::string deep = std::string(1000, '[') + std::string(1000, ']');
  std::string text = record.dump();
  text.insert(text.size() - 1, ", \"train\": " + deep);
  try {
    parse_checkpoint_meta(text, "m.pt");
    FAIL() << "deep record accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nested more than 64 levels"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fames::models
