// The `fames` program on hostile input (docs/reliability.md): numeric flags out of range, and
// readers fed bombs through `fames lib import`, run under a 3 GB address-space cap and a 60 s
// limit. Each must exit non-zero with one error line naming the flag or file, without a signal
// and without writing its output.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "cli_runner.h"
#include "util/files.h"

namespace {

using fames::testing_cli::CommandResult;

#define REQUIRE_BIN() \
  if (!std::getenv("FAMES_BIN")) GTEST_SKIP() << "FAMES_BIN not set"

// Runs fames under `ulimit -v` 3 GB and a 60 s timeout (a kill shows as status -1 or 137).
CommandResult run_capped(const std::string& args) {
  const char* bin = std::getenv("FAMES_BIN");
  CommandResult r;
  if (!bin) return r;
  const std::string command = "ulimit -v 3145728; exec timeout -s KILL 60 " + std::string(bin) +
                              " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  while (pipe && fgets(buffer, sizeof buffer, pipe)) r.output += buffer;
  const int status = pipe ? pclose(pipe) : -1;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// One line naming `what`, exit status 1 (fames::Error) or 105/106 (CLI11's validation errors).
void expect_one_clear_error(const CommandResult& r, const std::string& what) {
  EXPECT_TRUE(r.status == 1 || r.status == 105 || r.status == 106) << r.status << ": " << r.output;
  EXPECT_NE(r.output.find(what), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Sanitizer"), std::string::npos) << r.output;
}

TEST(HostileCli, NumericFlagsAreBounded) {
  REQUIRE_BIN();
  expect_one_clear_error(run_capped("--threads 100000 version"), "--threads");
  expect_one_clear_error(run_capped("eval --model m.pt --batch 0"), "--batch");
  expect_one_clear_error(run_capped("eval --model m.pt --batch -5"), "--batch");
  expect_one_clear_error(run_capped("run --samples 0"), "--samples");
  expect_one_clear_error(run_capped("run --samples -5"), "--samples");
  expect_one_clear_error(run_capped("run --calibration-samples -1"), "--calibration-samples");  // 0 is all
  expect_one_clear_error(run_capped("run --calibration-patience 0"), "--calibration-patience");
  expect_one_clear_error(run_capped("calibrate --model m.pt --assign a.json --out c.pt --samples -1"), "--samples");
  expect_one_clear_error(run_capped("select --est /dev/null --energy-reduction nan"),
                         "--energy-reduction");
  expect_one_clear_error(run_capped("lib import t.npy --into lib --energy-fj nan"), "--energy-fj");
  expect_one_clear_error(run_capped("lib import t.npy --into lib --energy-fj inf"), "--energy-fj");
}

TEST(HostileCli, ImportingABombWritesNothing) {
  REQUIRE_BIN();
  const std::string dir = testing::TempDir() + "/hostile_cli/";
  std::filesystem::remove_all(dir);
  // Replication of replication: 2^24 bits from 150 bytes, and parentheses 200000 deep.
  fames::write_file_atomic(dir + "bomb.v",
                           "module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O;\n"
                           "assign O = {4096{{4096{A}}}};\nendmodule\n");
  fames::write_file_atomic(dir + "deep.v", "module m(A, B, O);\ninput [1:0] A, B;\n"
                                           "output [3:0] O;\nassign O = " +
                                               std::string(200000, '(') + "A" +
                                               std::string(200000, ')') + ";\nendmodule\n");
  for (const char* bomb : {"bomb.v", "deep.v"}) {
    const CommandResult r = run_capped("lib import " + dir + bomb + " --into " + dir + "lib");
    expect_one_clear_error(r, dir + bomb + ":4:");
    EXPECT_FALSE(std::filesystem::exists(dir + "lib")) << "no library may be written on failure";
  }
}

// A valid est.json of one layer with two candidates, for the commands that read one.
constexpr const char* kEstimate = R"({"version": 1, "model": "m.pt", "library": "lib", "samples": 8,
  "hessian": "gn", "layers": [{"name": "conv1", "signature": "w4s_a4u", "macs": 10, "exact": "e4",
  "candidates": [{"appmul": "e4", "dl": 0.0, "energy_fj": 10.0}, {"appmul": "t4", "dl": 0.1, "energy_fj": 5.0}]}],
  "appmuls": {"e4": {"signature": "w4s_a4u", "energy_fj": 10.0, "mred": 0.0},
              "t4": {"signature": "w4s_a4u", "energy_fj": 5.0, "mred": 0.02}}})";

// JSON files with a key missing or a value of the wrong type: the error names the file (and the
// key), where it was nlohmann's bare "type_error.302" or "key 'bw' not found" before.
TEST(HostileCli, MistypedJsonNamesItsFile) {
  REQUIRE_BIN();
  const std::string dir = testing::TempDir() + "/hostile_json_cli/";
  std::filesystem::remove_all(dir);
  const std::vector<std::pair<std::string, std::string>> cards = {
      {R"({"layers": [{"bw": "x", "ba": 4}]})", "layers[0].bw must be an integer"},
      {R"({"layers": [{"ba": 4}]})", "layers[0]: missing key \"bw\""},
      {R"({"layers": [{"bw": 1e300, "ba": 4}]})", "layers[0].bw must be an integer"}};
  for (const auto& [text, message] : cards) {
    fames::write_file_atomic(dir + "card.json", text);
    const CommandResult r = run_capped("lib build --model " + dir + "card.json --out " + dir + "lib --no-als");
    expect_one_clear_error(r, "--model '" + dir + "card.json': " + message);
    EXPECT_FALSE(std::filesystem::exists(dir + "lib")) << "no library may be written on failure";
  }
  fames::write_file_atomic(dir + "est.json", kEstimate);
  fames::write_file_atomic(dir + "m.pt", "not read");
  fames::write_file_atomic(dir + "ga.json", R"({"front": [{"energy_reduction": 0.1, "top1": "high"}]})");
  expect_one_clear_error(run_capped("pareto --est " + dir + "est.json --model " + dir + "m.pt --ga " + dir +
                                    "ga.json --out " + dir + "pareto"),
                         "--ga '" + dir + "ga.json': front[0].top1 must be a finite number");
  EXPECT_FALSE(std::filesystem::exists(dir + "pareto"));
  fames::write_file_atomic(dir + "reuse.json", R"({"pair_results": [{"layer": "conv1", "appmul": 4}]})");
  expect_one_clear_error(run_capped("validate --est " + dir + "est.json --reuse " + dir + "reuse.json"),
                         "--reuse '" + dir + "reuse.json': pair_results[0].appmul must be a string");
  expect_one_clear_error(run_capped("validate --est " + dir + "est.json --pairs 12abc"), "--pairs");
}

}  // namespace
