// est.json and assign.json: round trips, and errors that name the file and the key at fault.
#include <gtest/gtest.h>

#include <string>

#include "core/assignment.h"
#include "core/estimate_file.h"
#include "select/synthetic_estimate.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

std::string temp_file(const std::string& name) {
  return testing::TempDir() + "/fames_select_files_test/" + name;
}

// Runs `f`, which must throw fames::Error, and returns the message.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no fames::Error thrown";
  return "";
}

TEST(EstimateFile, SaveLoadRoundTrip) {
  Estimate e = synthetic_estimate({5, 7, 3});
  e.first_order = false;  // not the defaults, so the round trip must carry them
  e.data = "cifar10:/data/cifar10";
  e.seed = 7;
  const std::string path = temp_file("round.est.json");
  e.save(path);
  const Estimate back = Estimate::load(path);
  EXPECT_EQ(back.to_json(), e.to_json());
  EXPECT_FALSE(back.first_order);
  EXPECT_EQ(back.data, "cifar10:/data/cifar10");
  EXPECT_EQ(back.seed, 7u);
  ASSERT_EQ(back.layers.size(), 5u);
  EXPECT_EQ(back.layers[2].candidates.size(), 7u);
  EXPECT_EQ(back.layers[2].signature, e.layers[2].signature);
  EXPECT_EQ(back.layers[2].exact_candidate().appmul, e.layers[2].exact);
}

TEST(EstimateFile, ExactEnergyIsMacsTimesExactEnergyPerMultiplication) {
  Estimate e = synthetic_estimate({3, 4, 9});
  double expected = 0;
  for (const EstimateLayer& l : e.layers) expected += l.macs * e.appmuls.at(l.exact).energy_fj;
  EXPECT_DOUBLE_EQ(e.exact_energy_fj_per_image(), expected);
}

TEST(EstimateFile, MissingKeyNamesFileAndPath) {
  nlohmann::json j = synthetic_estimate({3, 4, 1}).to_json();
  j["layers"][1]["candidates"][2].erase("dl");
  const std::string path = temp_file("missing.est.json");
  write_file_atomic(path, j.dump());
  const std::string message = error_of([&] { Estimate::load(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("layers[1].candidates[2]"), std::string::npos) << message;
  EXPECT_NE(message.find("\"dl\""), std::string::npos) << message;
}

TEST(EstimateFile, RejectsInconsistentContents) {
  const nlohmann::json good = synthetic_estimate({3, 4, 2}).to_json();
  auto message_for = [](nlohmann::json j) {
    return error_of([&] { Estimate::from_json(j, "x.est.json"); });
  };
  nlohmann::json j = good;
  j["version"] = 2;
  EXPECT_NE(message_for(j).find("version 2"), std::string::npos);
  j = good;
  j["seed"] = -1;
  EXPECT_NE(message_for(j).find("'seed' must be an integer >= 0"), std::string::npos);
  j = good;
  j["layers"][0]["exact"] = "nonexistent";
  EXPECT_NE(message_for(j).find("nonexistent"), std::string::npos);
  j = good;
  j["layers"][0]["signature"] = "w9z";
  EXPECT_NE(message_for(j).find("w9z"), std::string::npos);
  j = good;
  j["layers"][0]["candidates"][1]["energy_fj"] = -1.0;
  EXPECT_NE(message_for(j).find("energy_fj"), std::string::npos);
  j = good;
  j["layers"][0]["macs"] = 1.5;
  EXPECT_NE(message_for(j).find("layers[0].macs"), std::string::npos);
  j = good;
  j["layers"][1]["name"] = j["layers"][0]["name"];
  EXPECT_NE(message_for(j).find("not unique"), std::string::npos);
  j = good;
  j["appmuls"].erase(j["layers"][0]["candidates"][1]["appmul"].get<std::string>());
  EXPECT_NE(message_for(j).find("missing from \"appmuls\""), std::string::npos);
}

TEST(EstimateFile, InvalidJsonNamesTheFile) {
  const std::string path = temp_file("broken.est.json");
  write_file_atomic(path, "{\"version\": 1,");
  EXPECT_NE(error_of([&] { Estimate::load(path); }).find(path), std::string::npos);
}

Assignment example_assignment() {
  Assignment a;
  a.library = "lib/";
  a.layers = {{"conv1", "exact_w8s_a8u"}, {"fc", "am_w4s_a4u_03"}};
  AssignmentSummary s;
  s.energy_reduction = 0.25;
  s.predicted_dl = 0.01;
  s.energy_fj_per_image = 750;
  s.exact_energy_fj_per_image = 1000;
  s.per_layer["conv1"] = {"exact_w8s_a8u", 0, 500};
  s.per_layer["fc"] = {"am_w4s_a4u_03", 0.01, 250};
  s.solver = "cbc";
  s.seconds = 0.5;
  a.summary = s;
  return a;
}

TEST(AssignmentFile, SaveLoadRoundTrip) {
  const Assignment a = example_assignment();
  const std::string path = temp_file("round.assign.json");
  a.save(path);
  const Assignment back = Assignment::load(path);
  EXPECT_EQ(back.to_json(), a.to_json());
  EXPECT_EQ(back.appmul_for("fc"), "am_w4s_a4u_03");
  ASSERT_TRUE(back.summary.has_value());
  EXPECT_EQ(back.summary->per_layer.at("conv1").energy_fj_per_image, 500);
}

TEST(AssignmentFile, SummaryIsOptional) {
  Assignment a = example_assignment();
  a.summary.reset();
  const Assignment back = Assignment::from_json(a.to_json(), "a.json");
  EXPECT_FALSE(back.summary.has_value());
  EXPECT_EQ(back.layers, a.layers);
}

TEST(AssignmentFile, ErrorsNameFileAndKey) {
  nlohmann::json j = example_assignment().to_json();
  j.erase("layers");
  std::string message = error_of([&] { Assignment::from_json(j, "my.assign.json"); });
  EXPECT_NE(message.find("my.assign.json"), std::string::npos) << message;
  EXPECT_NE(message.find("\"layers\""), std::string::npos) << message;

  j = example_assignment().to_json();
  j["per_layer"]["fc"].erase("appmul");
  message = error_of([&] { Assignment::from_json(j, "my.assign.json"); });
  EXPECT_NE(message.find("per_layer.fc"), std::string::npos) << message;

  j = example_assignment().to_json();
  j["layers"]["fc"] = 3;
  message = error_of([&] { Assignment::from_json(j, "my.assign.json"); });
  EXPECT_NE(message.find("layers.fc"), std::string::npos) << message;

  message = error_of([&] { example_assignment().appmul_for("layer9.conv1"); });
  EXPECT_NE(message.find("layer9.conv1"), std::string::npos) << message;
}

}  // namespace
}  // namespace fames
