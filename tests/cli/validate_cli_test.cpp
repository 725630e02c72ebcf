// fames validate measures on validation images by default (images neither the model nor the
// estimate saw) and on the estimation samples with --measure-on samples (LeNet-5, Fashion-MNIST).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"

namespace fames::testing_cli {
namespace {
namespace fs = std::filesystem;

const std::string kModel = std::string(FAMES_SOURCE_DIR) + "/models/lenet5-fmnist-mp.pt";

// A fresh `dir` with a family library and the zoo LeNet-5's estimate on `samples` samples in it
// (`fames estimate` with `estimate_flags` besides).
void make_estimate(const std::string& dir, int samples, const std::string& estimate_flags = "") {
  fs::remove_all(dir);
  CommandResult r = run_fames("--quiet lib build --bits 2..8 --no-als --signed-a --out " + dir + "/lib");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_fames("--quiet estimate --model " + kModel + " --lib " + dir + "/lib --samples " + std::to_string(samples) +
                " " + estimate_flags + " --out " + dir + "/est.json");
  ASSERT_EQ(r.status, 0) << r.output;
}

TEST(ValidateCli, MeasuresOnValidationImagesUnlessAskedForTheSamples) {
  if (!std::getenv("FAMES_BIN") || !fs::exists("/usr/share/datasets/fashion-mnist"))
    GTEST_SKIP() << "needs FAMES_BIN and Fashion-MNIST";
  const std::string dir = process_temp_dir("fames_validate_cli");
  ASSERT_NO_FATAL_FAILURE(make_estimate(dir, 64));
  CommandResult r;
  const std::string validate = "--quiet validate --est " + dir + "/est.json --pairs 6 ";
  r = run_fames(validate + "--json --out " + dir + "/val.json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json on_val = nlohmann::json::parse(r.output);
  EXPECT_EQ(on_val["measured_on"], "val");
  EXPECT_EQ(on_val["samples"], 64);
  // Beside the estimate's ranking, the proxies' on the same pairs.
  ASSERT_EQ(on_val["controls"].size(), 3u);
  for (const auto& control : on_val["controls"]) {
    EXPECT_GE(control["spearman"].get<double>(), -1.0) << control;
    EXPECT_LE(control["spearman"].get<double>(), 1.0) << control;
  }
  EXPECT_EQ(on_val["controls"][2]["name"], "hawq");
  // Losses at the fitted temperature by default; at 1 when asked, where the exact model's loss can
  // only be higher. Measurements are reused only at the temperature they were taken at.
  EXPECT_EQ(on_val["temperature_fitted"], true);
  r = run_fames(validate + "--temperature 1 --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json raw = nlohmann::json::parse(r.output);
  EXPECT_EQ(raw["temperature"], 1.0);
  EXPECT_EQ(raw["temperature_fitted"], false);
  EXPECT_GE(raw["base_loss"].get<double>(), on_val["base_loss"].get<double>());
  r = run_fames(validate + "--temperature 1 --reuse " + dir + "/val.json");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("pass --temperature fit"), std::string::npos) << r.output;
  r = run_fames(validate + "--temperature -2");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("--temperature must be 'fit' or a number > 0"), std::string::npos) << r.output;
  r = run_fames(validate + "--measure-on samples --images 1 --json --out " + dir + "/samples.json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json on_samples = nlohmann::json::parse(r.output);
  EXPECT_EQ(on_samples["measured_on"], "samples");
  EXPECT_EQ(on_samples["samples"], 64) << "--images counts validation images only";
  // Other images, other losses: the base loss of the exact model differs between the two.
  EXPECT_NE(on_val["base_loss"], on_samples["base_loss"]);
  // Measurements are reused only for the images they were taken on.
  r = run_fames(validate + "--reuse " + dir + "/samples.json");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("measured on samples, not on val"), std::string::npos) << r.output;
  r = run_fames("--quiet --validation-images 0 validate --est " + dir + "/est.json --pairs 2");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("validation split of fashion-mnist is empty"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

// With bias correction each substituted layer is corrected over the estimation samples (training
// images), the correction the estimate predicts for and `fames run` applies, not over the
// validation images it is measured on; a file from before, which took it on the validation
// images, is not reused.
TEST(ValidateCli, BiasCorrectionIsTakenOnTheEstimationSamples) {
  if (!std::getenv("FAMES_BIN") || !fs::exists("/usr/share/datasets/fashion-mnist"))
    GTEST_SKIP() << "needs FAMES_BIN and Fashion-MNIST";
  const std::string dir = process_temp_dir("fames_validate_cli_bc");
  ASSERT_NO_FATAL_FAILURE(make_estimate(dir, 64, "--bias-correction"));
  const std::string validate = "--quiet validate --est " + dir + "/est.json --pairs 4 ";
  CommandResult r = run_fames(validate + "--json --out " + dir + "/val.json");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["corrected_on"], "samples");
  r = run_fames(validate + "--reuse " + dir + "/val.json");
  EXPECT_EQ(r.status, 0) << r.output;
  std::ifstream in(dir + "/val.json");
  nlohmann::json older = nlohmann::json::parse(in);
  older.erase("corrected_on");
  std::ofstream(dir + "/older.json") << older.dump();
  r = run_fames(validate + "--reuse " + dir + "/older.json");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("correction taken on the validation images"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

// --out F keeps the measured pairs in F.partial until F is written: a run that fails afterwards
// (here on a broken --configs file) leaves them, and the next run with the same inputs takes them
// as measured instead of measuring again; a partial file of other inputs is ignored.
TEST(ValidateCli, ARerunContinuesFromThePairsMeasuredBefore) {
  if (!std::getenv("FAMES_BIN") || !fs::exists("/usr/share/datasets/fashion-mnist"))
    GTEST_SKIP() << "needs FAMES_BIN and Fashion-MNIST";
  const std::string dir = process_temp_dir("fames_validate_resume");
  ASSERT_NO_FATAL_FAILURE(make_estimate(dir, 32));
  std::ofstream(dir + "/broken.json") << "{";
  const std::string validate = "--quiet validate --est " + dir + "/est.json --pairs 4 --out " + dir + "/val.json ";
  CommandResult r = run_fames(validate + "--configs " + dir + "/broken.json");
  ASSERT_EQ(r.status, 1) << r.output;
  const std::string partial = dir + "/val.json.partial";
  ASSERT_TRUE(fs::exists(partial)) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/val.json"));
  nlohmann::json kept = read_json_file(partial);
  ASSERT_EQ(kept["pair_results"].size(), 4u);
  // A value no measurement gives: the rerun must take it from the file.
  kept["pair_results"][1]["measured"] = 123.0;
  std::ofstream(partial) << kept.dump();
  r = run_fames(validate);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(fs::exists(partial)) << "removed once the output is written";
  nlohmann::json out = read_json_file(dir + "/val.json");
  const nlohmann::json& pair = kept["pair_results"][1];
  int found = 0;
  for (const auto& p : out["pair_results"])
    if (p["layer"] == pair["layer"] && p["appmul"] == pair["appmul"]) found += p["measured"] == 123.0;
  EXPECT_EQ(found, 1) << out.dump();
  // Made for other images (another count): measured again, with a note.
  kept["key"]["images"] = 999;
  std::ofstream(partial) << kept.dump();
  r = run_fames(validate);
  ASSERT_EQ(r.status, 0) << r.output;
  out = read_json_file(dir + "/val.json");
  for (const auto& p : out["pair_results"]) EXPECT_NE(p["measured"], 123.0) << p;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fames::testing_cli
