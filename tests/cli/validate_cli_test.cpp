// fames validate measures on validation images by default (images neither the model nor the
// estimate saw) and on the estimation samples with --measure-on samples (LeNet-5, Fashion-MNIST).
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_runner.h"

namespace fames::testing_cli {
namespace {
namespace fs = std::filesystem;

const std::string kModel = std::string(FAMES_SOURCE_DIR) + "/models/lenet5-fmnist-mp.pt";

TEST(ValidateCli, MeasuresOnValidationImagesUnlessAskedForTheSamples) {
  if (!std::getenv("FAMES_BIN") || !fs::exists("/usr/share/datasets/fashion-mnist"))
    GTEST_SKIP() << "needs FAMES_BIN and Fashion-MNIST";
  const std::string dir = process_temp_dir("fames_validate_cli");
  fs::remove_all(dir);
  CommandResult r = run_fames("--quiet lib build --bits 2..8 --no-als --signed-a --out " + dir + "/lib");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_fames("--quiet estimate --model " + kModel + " --lib " + dir + "/lib --samples 64 --out " + dir + "/est.json");
  ASSERT_EQ(r.status, 0) << r.output;
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

}  // namespace
}  // namespace fames::testing_cli
