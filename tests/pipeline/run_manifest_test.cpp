#include "pipeline/run_manifest.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "util/error.h"
#include "util/files.h"

namespace fames::pipeline {
namespace {
namespace fs = std::filesystem;

// A folder with one external input file and a stage that copies it, counting its runs.
class StageRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = ::testing::TempDir() + "/fames_run_manifest_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root);
    dir = root + "/R";
    input = root + "/input.txt";
    write_file_atomic(input, "v1");
  }
  Stage copy_stage(nlohmann::json options = {{"k", 1}}) {
    return {"copy", std::move(options), {{"model", input}}, {"out.txt"}, [this] {
              ++runs;
              write_file_atomic(dir + "/out.txt", "copied " + read_file(input));
            }};
  }
  // Runs the stage with a fresh runner (as a new process would) and returns what it printed.
  std::string run(const Stage& stage, bool force = false, const std::string& build = "b1") {
    ::testing::internal::CaptureStderr();
    StageRunner runner(dir, build, force);
    runner.run(stage);
    return ::testing::internal::GetCapturedStderr();
  }
  std::string root, dir, input;
  int runs = 0;
};

TEST_F(StageRunnerTest, KeepsAStageWhoseOptionsInputsAndOutputsAreUnchanged) {
  EXPECT_NE(run(copy_stage()).find("copy: computing (no earlier result)"), std::string::npos);
  EXPECT_EQ(runs, 1);
  const std::string printed = run(copy_stage());
  EXPECT_EQ(runs, 1);
  EXPECT_NE(printed.find("copy: unchanged, kept " + dir + "/out.txt"), std::string::npos) << printed;
  const nlohmann::json manifest = nlohmann::json::parse(read_file(dir + "/manifest.json"));
  EXPECT_EQ(manifest["stages"]["copy"]["options"], nlohmann::json({{"k", 1}}));
  EXPECT_TRUE(manifest["stages"]["copy"]["outputs"].contains("out.txt"));
}

TEST_F(StageRunnerTest, RecomputesWhenAnOptionChanges) {
  run(copy_stage());
  const std::string printed = run(copy_stage({{"k", 2}}));
  EXPECT_EQ(runs, 2);
  EXPECT_NE(printed.find("options changed: k"), std::string::npos) << printed;
  run(copy_stage({{"k", 2}}));
  EXPECT_EQ(runs, 2);  // and the new options are what is kept now
}

TEST_F(StageRunnerTest, RecomputesWhenAnInputsContentChanges) {
  run(copy_stage());
  write_file_atomic(input, "v2");
  EXPECT_NE(run(copy_stage()).find("input model changed"), std::string::npos);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(read_file(dir + "/out.txt"), "copied v2");
}

TEST_F(StageRunnerTest, RecomputesWhenAnOutputIsMissingOrWasEdited) {
  run(copy_stage());
  fs::remove(dir + "/out.txt");
  EXPECT_NE(run(copy_stage()).find("out.txt is missing"), std::string::npos);
  EXPECT_EQ(runs, 2);
  write_file_atomic(dir + "/out.txt", "edited by hand");
  EXPECT_NE(run(copy_stage()).find("out.txt changed since"), std::string::npos);
  EXPECT_EQ(runs, 3);
}

TEST_F(StageRunnerTest, ForceAndAnotherBuildRecompute) {
  run(copy_stage());
  EXPECT_NE(run(copy_stage(), true).find("copy: computing (--force)"), std::string::npos);
  EXPECT_EQ(runs, 2);
  EXPECT_NE(run(copy_stage(), false, "b2").find("another fames build"), std::string::npos);
  EXPECT_EQ(runs, 3);
}

TEST_F(StageRunnerTest, AStageThatFailsLeavesNoRecord) {
  Stage failing = copy_stage();
  failing.compute = [this] {
    write_file_atomic(dir + "/out.txt", "half");
    throw Error("killed");
  };
  StageRunner runner(dir, "b1", false);
  EXPECT_THROW(runner.run(failing), Error);
  EXPECT_FALSE(fs::exists(dir + "/manifest.json"));
  run(copy_stage());
  EXPECT_EQ(runs, 1);  // the half result was not trusted
}

TEST_F(StageRunnerTest, AnUnreadableManifestKeepsNothing) {
  run(copy_stage());
  write_file_atomic(dir + "/manifest.json", "{ truncated");
  EXPECT_NE(run(copy_stage()).find("is not a fames run manifest"), std::string::npos);
  EXPECT_EQ(runs, 2);
}

// Edited by hand into other types or nested too deep: recomputed with a warning, never an
// exception from the JSON library.
TEST_F(StageRunnerTest, AMistypedManifestKeepsNothing) {
  run(copy_stage());
  for (const std::string& text : {std::string(R"({"format": 7, "stages": {}})"),
                                  "{\"format\": \"fames-run-manifest\", \"stages\": " + std::string(5000, '[')}) {
    write_file_atomic(dir + "/manifest.json", text);
    EXPECT_NE(run(copy_stage()).find("is not a fames run manifest"), std::string::npos);
  }
  nlohmann::json manifest = nlohmann::json::parse(read_file(dir + "/manifest.json"));
  manifest["stages"]["copy"]["seconds"] = "long";
  write_file_atomic(dir + "/manifest.json", manifest.dump());
  StageRunner runner(dir, "b1", false);
  ::testing::internal::CaptureStderr();
  runner.run(copy_stage());
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("copy: unchanged"), std::string::npos);
  ASSERT_EQ(runner.seconds().size(), 1u);
  EXPECT_EQ(runner.seconds()[0].second, 0.0);
  EXPECT_EQ(runs, 3);
}

TEST_F(StageRunnerTest, AKeptStageReportsTheSecondsItTookWhenComputed) {
  run(copy_stage());
  const double recorded = nlohmann::json::parse(read_file(dir + "/manifest.json"))["stages"]["copy"]["seconds"];
  StageRunner runner(dir, "b1", false);
  ::testing::internal::CaptureStderr();
  runner.run(copy_stage());
  ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(runner.seconds().size(), 1u);
  EXPECT_EQ(runner.seconds()[0].first, "copy");
  EXPECT_EQ(runner.seconds()[0].second, recorded);
}

}  // namespace
}  // namespace fames::pipeline
