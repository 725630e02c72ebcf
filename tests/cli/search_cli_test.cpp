// End to end: `fames search-ga` and `fames pareto` on the LeNet-5 zoo model with a tiny budget
// (a few seconds each), plus their error messages. Needs FAMES_BIN, the zoo model and
// Fashion-MNIST; skipped without them.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "report/plot.h"

namespace {
namespace fs = std::filesystem;

struct CommandResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

CommandResult run(const std::string& args) {
  CommandResult r;
  FILE* pipe = popen((std::string(std::getenv("FAMES_BIN")) + " --quiet " + args + " 2>&1").c_str(), "r");
  std::array<char, 4096> buffer{};
  while (pipe && fgets(buffer.data(), buffer.size(), pipe)) r.output += buffer.data();
  const int status = pipe ? pclose(pipe) : -1;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

const std::string kModel = std::string(FAMES_SOURCE_DIR) + "/models/lenet5-fmnist-mp.pt";

class SearchCli : public testing::Test {
 protected:
  // One library and estimate for the suite (~10 s). ctest runs each test in its own process, so
  // they are kept on disk and rebuilt only when the fames binary is newer than the estimate.
  static void SetUpTestSuite() {
    if (!std::getenv("FAMES_BIN") || !fs::exists(kModel) || !fs::exists("/usr/share/datasets/fashion-mnist"))
      return;
    dir_ = testing::TempDir() + "/fames_search_cli." + std::to_string(getpid());
    const std::string est_path = dir_ + "/est.json";
    if (fs::exists(est_path) && fs::last_write_time(est_path) > fs::last_write_time(std::getenv("FAMES_BIN"))) {
      ready_ = true;
      return;
    }
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const CommandResult lib = run("lib build --bits 2..8 --no-als --signed-a --out " + dir_ + "/lib");
    const CommandResult est = run("estimate --model " + kModel + " --lib " + dir_ + "/lib --samples 32 --out " +
                                  dir_ + "/est.json");
    ready_ = lib.status == 0 && est.status == 0;
    setup_output_ = lib.output + est.output;
  }
  void SetUp() override {
    if (!std::getenv("FAMES_BIN")) GTEST_SKIP() << "FAMES_BIN not set";
    if (!fs::exists(kModel)) GTEST_SKIP() << kModel << " missing";
    if (!fs::exists("/usr/share/datasets/fashion-mnist")) GTEST_SKIP() << "Fashion-MNIST missing";
    ASSERT_TRUE(ready_) << setup_output_;
  }
  static std::string dir_, setup_output_;
  static bool ready_;
};
std::string SearchCli::dir_, SearchCli::setup_output_;
bool SearchCli::ready_ = false;

TEST_F(SearchCli, SearchGaWritesAReproducibleFront) {
  const std::string flags = "search-ga --model " + kModel + " --est " + dir_ +
                            "/est.json --holdout 200 --population 6 --generations 2 --seed 3 --out ";
  const CommandResult r = run(flags + dir_ + "/ga1.json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json ga = read_json(dir_ + "/ga1.json");
  EXPECT_EQ(ga["format"], "fames-ga");
  const size_t evaluations = ga["evaluations"].get<size_t>();
  EXPECT_GE(evaluations, 6u);
  EXPECT_LE(evaluations, 18u);
  EXPECT_EQ(ga["history"].size(), evaluations);
  EXPECT_GT(ga["exact_top1"].get<double>(), 0.5);
  ASSERT_FALSE(ga["front"].empty());
  double last_energy = -1, last_top1 = -1;
  for (const auto& p : ga["front"]) {
    EXPECT_EQ(p["solver"], "nsga2");
    EXPECT_FALSE(p["layers"].empty());
    EXPECT_GE(p["energy_fj_per_image"].get<double>(), last_energy);
    EXPECT_GE(p["top1"].get<double>(), last_top1) << "a front sorted by energy gains accuracy";
    last_energy = p["energy_fj_per_image"].get<double>();
    last_top1 = p["top1"].get<double>();
  }
  // The same seed evaluates the same configurations with the same results.
  ASSERT_EQ(run(flags + dir_ + "/ga2.json").status, 0);
  const nlohmann::json again = read_json(dir_ + "/ga2.json");
  ASSERT_EQ(again["history"].size(), evaluations);
  for (size_t i = 0; i < evaluations; ++i) {
    EXPECT_EQ(again["history"][i][1], ga["history"][i][1]);
    EXPECT_EQ(again["history"][i][2], ga["history"][i][2]);
  }
  EXPECT_EQ(again["front"].size(), ga["front"].size());
}

TEST_F(SearchCli, SearchGaFromALibraryAlone) {
  const CommandResult r = run("search-ga --model " + kModel + " --lib " + dir_ +
                              "/lib --holdout 100 --population 4 --generations 1 --json --out " + dir_ + "/ga_lib.json");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json ga = read_json(dir_ + "/ga_lib.json");
  EXPECT_EQ(ga["estimate"], "");
  EXPECT_FALSE(ga["front"].empty());
}

TEST_F(SearchCli, ParetoWritesJsonCsvAndPlot) {
  const std::string out = dir_ + "/pareto";
  const CommandResult r = run("pareto --est " + dir_ + "/est.json --model " + kModel +
                              " --steps 3 --holdout 200 --out " + out);
  if (fames::report::find_gnuplot().empty()) {
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("gnuplot"), std::string::npos) << r.output;
    return;
  }
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json doc = read_json(out + "/pareto.json");
  ASSERT_EQ(doc["points"].size(), 3u);
  double last = -1;
  for (const auto& p : doc["points"]) {
    EXPECT_GE(p["energy_reduction"].get<double>(), p["requested_reduction"].get<double>() - 1e-9);
    EXPECT_GE(p["energy_reduction"].get<double>(), last);
    last = p["energy_reduction"].get<double>();
    EXPECT_GT(p["top1"].get<double>(), 0.0);
    EXPECT_NEAR(p["top1_drop"].get<double>(), doc["exact_top1"].get<double>() - p["top1"].get<double>(), 1e-12);
  }
  std::ifstream csv(out + "/pareto.csv");
  std::string line;
  int lines = 0;
  while (std::getline(csv, line)) ++lines;
  EXPECT_EQ(lines, 4);
  EXPECT_GT(fs::file_size(out + "/pareto.png"), 1000u);
  EXPECT_GT(fs::file_size(out + "/pareto.svg"), 1000u);
}

// The bench on a tiny budget: FAMES's pick and the GA's match are judged on images neither saw
// (--judge), and the same comparison on the GA's own held-out images is kept beside it.
TEST_F(SearchCli, BenchSelectVsGaJudgesOnUnseenImages) {
  const std::string flags = "bench select-vs-ga --model " + kModel + " --lib " + dir_ +
                            "/lib --samples 32 --holdout 200 --energy-reduction 0.2 --json";
  for (int judge : {150, 0}) {
    const CommandResult r = run(flags + " --ga-time-limit 4 --judge " + std::to_string(judge));
    ASSERT_EQ(r.status, 0) << r.output;
    const nlohmann::json b = nlohmann::json::parse(r.output);
    EXPECT_EQ(b["judge"], judge);
    EXPECT_GE(b["energy_reduction"].get<double>(), 0.2 - 1e-9);
    EXPECT_GT(b["fames_top1"].get<double>(), 0.5);
    EXPECT_GT(b["fames_seconds"].get<double>(), 0.0);
    EXPECT_NEAR(b["speedup"].get<double>(), b["ga_seconds"].get<double>() / b["fames_seconds"].get<double>(), 1e-9);
    EXPECT_LE(b["ga_seconds"].get<double>(), b["ga_total_seconds"].get<double>() + 1e-9);
    EXPECT_LE(b["ga_evaluations"].get<int64_t>(), b["ga_total_evaluations"].get<int64_t>());
    if (b["ga_reached"].get<bool>()) {
      EXPECT_GE(b["ga_top1"].get<double>(), b["fames_top1"].get<double>());
      EXPECT_GE(b["ga_energy_reduction"].get<double>(), b["energy_reduction"].get<double>() - 1e-12);
    }
    const nlohmann::json& own = b["held_out"];
    EXPECT_GT(own["fames_top1"].get<double>(), 0.5);
    if (own["reached"].get<bool>()) {
      EXPECT_GE(own["ga_top1"].get<double>(), own["fames_top1"].get<double>());
    }
    if (judge == 0) {
      EXPECT_EQ(b["fames_top1"], own["fames_top1"]);
      EXPECT_EQ(b["ga_seconds"], own["ga_seconds"]);
    }
  }
  // --stop-at-speedup: unless it matches first, the GA runs until its own time is 2x FAMES's.
  const CommandResult bounded = run(flags + " --judge 150 --stop-at-speedup 2");
  ASSERT_EQ(bounded.status, 0) << bounded.output;
  const nlohmann::json b = nlohmann::json::parse(bounded.output);
  const double fames = b["fames_seconds"].get<double>(), ga = b["ga_total_seconds"].get<double>();
  EXPECT_LT(ga, 2 * fames + 10);
  if (!b["ga_reached"].get<bool>()) {
    EXPECT_GE(ga, 2 * fames);
    EXPECT_GE(b["speedup"].get<double>(), 2.0);
  }
  const CommandResult big = run(flags + " --judge 100000");
  EXPECT_EQ(big.status, 1);
  EXPECT_NE(big.output.find("--judge"), std::string::npos) << big.output;
}

TEST_F(SearchCli, BadRequestsAreOneClearError) {
  CommandResult r = run("search-ga --model " + kModel + " --out " + dir_ + "/never.json");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("--lib"), std::string::npos) << r.output;
  r = run("search-ga --model " + kModel + " --est " + dir_ + "/est.json --holdout -1 --out " + dir_ + "/never.json");
  EXPECT_NE(r.status, 0);  // the flag's range check: CLI11's validation exit code
  EXPECT_NE(r.output.find("--holdout"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ + "/never.json"));
  for (const char* cmd : {"search-ga", "pareto", "bench select-vs-ga"}) {
    r = run(std::string(cmd) + " --help");
    EXPECT_EQ(r.status, 0) << cmd;
    EXPECT_NE(r.output.find("Example:"), std::string::npos) << cmd;
  }
}

}  // namespace
