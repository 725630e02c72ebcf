// End to end: `fames run` on the LeNet-5 zoo model with a tiny budget writes a complete report, and
// `fames calibrate` writes a model that `fames eval --assign` reads. Needs FAMES_BIN, the zoo model
// and Fashion-MNIST; skipped without them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "cli_runner.h"
#include "report/plot.h"

namespace fames::testing_cli {
namespace {
namespace fs = std::filesystem;

const std::string kModel = std::string(FAMES_SOURCE_DIR) + "/models/lenet5-fmnist-mp.pt";

#define REQUIRE_INPUTS()                                  \
  if (!std::getenv("FAMES_BIN") || !fs::exists(kModel) || \
      !fs::exists("/usr/share/datasets/fashion-mnist"))   \
  GTEST_SKIP() << "needs FAMES_BIN, " << kModel << " and Fashion-MNIST"

TEST(RunCli, WritesACompleteReportAndACalibratedModelThatEvalReads) {
  REQUIRE_INPUTS();
  const std::string dir = process_temp_dir("fames_run_cli");
  fs::remove_all(dir);
  CommandResult r =
      run_fames("--quiet lib build --bits 2..8 --no-als --signed-a --out " + dir + "/lib");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_fames("--quiet run --model " + kModel + " --lib " + dir + "/lib --out " + dir +
                "/report --samples 64 --calibration-samples 256 --holdout 300 --sweep 3 "
                "--calibration-epochs 1"
                " --ga-seconds 2 --max-accuracy-loss 2 --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json report = read_json_file(dir + "/report/report.json");
  for (const char* key :
       {"energy_reduction", "top1_exact", "top1_final", "layers", "stage_seconds"})
    EXPECT_TRUE(report.contains(key)) << key;
  const double reduction = report["energy_reduction"].get<double>();
  EXPECT_GE(reduction, 0.0);
  EXPECT_LT(reduction, 1.0);
  EXPECT_GT(report["top1_exact"].get<double>(), 0.5);  // the zoo model is ~90% accurate
  // The held-out choice respects the 2-point bound it was asked for.
  EXPECT_GE(report["holdout_top1_final"].get<double>(),
            report["holdout_top1_exact"].get<double>() - 0.02 - 1e-9);
  EXPECT_EQ(report["layers"].size(), 5u);  // LeNet-5: two conv and three linear layers
  for (const char* stage : {"estimate", "select", "calibrate", "final_eval"})
    EXPECT_TRUE(report["stage_seconds"].contains(stage)) << stage;
  EXPECT_FALSE(report["curves"]["ga"].empty());
  EXPECT_TRUE(fs::exists(dir + "/report/report.md"));
  if (!report::find_gnuplot().empty()) {
    for (const char* f : {"pareto.png", "pareto.svg", "layers.png", "layers.svg"})
      EXPECT_TRUE(fs::exists(dir + "/report/" + f)) << f;
  }

  // The run's calibrated model and assignment evaluate with `fames eval`, matching its test top-1.
  r = run_fames("--quiet eval --model " + dir + "/report/model-calibrated.pt --assign " + dir +
                "/report/assign.json --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json eval = nlohmann::json::parse(r.output);
  EXPECT_NEAR(eval["top1"].get<double>(), report["top1_final"].get<double>(), 1e-9);
  // Without --assign, the calibrated model is evaluated with the assignment it records.
  r = run_fames("--quiet eval --model " + dir + "/report/model-calibrated.pt --json");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("calibrated for the AppMuls of " + dir + "/report/assign.json"), std::string::npos) << r.output;
  EXPECT_NEAR(nlohmann::json::parse(r.output.substr(r.output.find('{')))["top1"].get<double>(),
              report["top1_final"].get<double>(), 1e-9);
  // --baseline: the change from the exact model on the same images, with its paired standard error.
  r = run_fames("--quiet eval --model " + dir + "/report/model-calibrated.pt --baseline " + kModel + " --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json paired = nlohmann::json::parse(r.output.substr(r.output.find('{')))["baseline"];
  const double samples = 10000;  // Fashion-MNIST's test split
  EXPECT_NEAR(paired["top1_change"].get<double>(),
              (paired["only_model_right"].get<double>() - paired["only_baseline_right"].get<double>()) / samples, 1e-12);
  EXPECT_NEAR(paired["top1"].get<double>() + paired["top1_change"].get<double>(), report["top1_final"].get<double>(),
              1e-9);
  EXPECT_GT(paired["only_baseline_right"].get<int>() + paired["only_model_right"].get<int>(), 0) << paired;
  EXPECT_GT(paired["top1_change_standard_error"].get<double>(), 0.0);
  EXPECT_LT(paired["top1_change_standard_error"].get<double>(), 0.01) << "at most 1 point on 10,000 images";
  // fames run reports the same pairing of the same test images.
  EXPECT_NEAR(report["top1_change_standard_error"].get<double>(), paired["top1_change_standard_error"].get<double>(),
              1e-12);
  EXPECT_GE(report["holdout_top1_change_standard_error"].get<double>(), 0.0);
  EXPECT_LT(report["holdout_top1_change_standard_error"].get<double>(), 0.05) << "300 held-out images";
  r = run_fames("--quiet eval --model " + kModel + " --baseline " + dir + "/no-such.pt");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--baseline"), std::string::npos) << r.output;

  // The run's estimate records the dataset and seed of its samples, so `fames validate` can
  // redraw them and measure the run's own predictions.
  const nlohmann::json est = read_json_file(dir + "/report/est.json");
  EXPECT_EQ(est.value("seed", -1), 1);
  EXPECT_FALSE(est.value("data", std::string()).empty()) << est.dump().substr(0, 300);
  r = run_fames("--quiet validate --est " + dir + "/report/est.json --pairs 2 --images 100 --json");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["pairs"], 2);

  // fames export of it writes the Verilog of the recorded assignment's AppMuls.
  r = run_fames("--quiet export --model " + dir + "/report/model-calibrated.pt --out " + dir + "/design --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json exported = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(exported["manifest"]["layers"].size(), report["layers"].size()) << r.output;

  // fames calibrate on the same assignment writes a model that evaluates too.
  r = run_fames("--quiet calibrate --model " + kModel + " --assign " + dir +
                "/report/assign.json --out " + dir +
                "/cal.pt --samples 256 --holdout 300 --epochs 1 --bias-correction --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json cal = nlohmann::json::parse(r.output);
  EXPECT_LE(cal["holdout_loss_after"].get<double>(), cal["holdout_loss_before"].get<double>());
  r = run_fames("--quiet eval --model " + dir + "/cal.pt --assign " + dir +
                "/report/assign.json --json");
  EXPECT_EQ(r.status, 0) << r.output;

  // --bound-confidence: each probe is judged less that many paired standard errors. At 100 no
  // approximate configuration can pass, so the same search ends at exact multipliers.
  r = run_fames("--quiet run --model " + kModel + " --lib " + dir + "/lib --out " + dir +
                "/strict --samples 64 --calibration-samples 256 --holdout 300 --sweep 3 --calibration-epochs 1"
                " --ga-seconds 0 --no-uniform --max-accuracy-loss 2 --bound-confidence 100 --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json strict = read_json_file(dir + "/strict/report.json");
  EXPECT_EQ(strict["energy_reduction"].get<double>(), 0.0) << strict["probes"];
  ASSERT_FALSE(strict["probes"].empty());
  EXPECT_GT(strict["probes"][0]["holdout_top1_change_standard_error"].get<double>(), 0.0) << strict["probes"];
  // Before giving up it bisected below the search's start (the largest sweep point within the
  // bound uncalibrated), between it and exact multipliers.
  const double bound = strict["holdout_top1_exact"].get<double>() - 0.02;
  double start = 0;
  for (const nlohmann::json& point : strict["curves"]["fames"])
    if (point["top1"].get<double>() >= bound) start = std::max(start, point["energy_reduction"].get<double>());
  ASSERT_GT(start, 0.0) << strict["curves"];
  double lowest_approximate = 1;
  for (const nlohmann::json& probe : strict["probes"]) {
    const double reduction = probe["energy_reduction"].get<double>();
    if (reduction > 0) lowest_approximate = std::min(lowest_approximate, reduction);
  }
  EXPECT_LT(lowest_approximate, start - 1e-9) << strict["probes"];
}

TEST(RunCli, ImpossibleRequestsAreClearErrors) {
  REQUIRE_INPUTS();
  CommandResult r = run_fames("run --model " + kModel + " --lib /nonexistent/lib --out /tmp/never");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("/nonexistent/lib"), std::string::npos) << r.output;
  r = run_fames("calibrate --model " + kModel +
                " --assign /nonexistent/a.json --out /tmp/never.pt");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("/nonexistent/a.json"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists("/tmp/never.pt"));
}

}  // namespace
}  // namespace fames::testing_cli
