// End to end, data-parallel: each stage on two ranks on 127.0.0.1 (scripts/launch.sh) gives what one
// process gives (LeNet-5, Fashion-MNIST, both with one thread per process), and a rank that dies
// mid-estimate ends the other with an error within the timeout. Needs FAMES_BIN, the zoo model and
// Fashion-MNIST; skipped without them.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "cli_runner.h"
#include "models/checkpoint.h"
#include "quant/quant_layer.h"

extern char** environ;

namespace fames::testing_cli {
namespace {
namespace fs = std::filesystem;

const std::string kModel = std::string(FAMES_SOURCE_DIR) + "/models/lenet5-fmnist-mp.pt";
const std::string kLaunch = std::string(FAMES_SOURCE_DIR) + "/scripts/launch.sh";

// `fames ARGS` on `ranks` ranks through scripts/launch.sh; output of every rank, merged.
CommandResult run_ranks(int ranks, const std::string& args) {
  const char* bin = std::getenv("FAMES_BIN");
  if (!bin) return {};
  return run_shell("bash " + kLaunch + " " + std::to_string(ranks) + " " + bin + " " + args);
}

// `fames ARGS` as one process with the environment assignments `env` (e.g. "WORLD_SIZE=2 RANK=1").
CommandResult run_fames_as(const std::string& env, const std::string& args) {
  const char* bin = std::getenv("FAMES_BIN");
  if (!bin) return {};
  return run_shell("env -u MASTER_ADDR -u MASTER_PORT " + env + " " + bin + " " + args);
}

bool near(double a, double b, double relative) {
  return std::abs(a - b) <= relative * std::max(std::abs(a), std::abs(b)) + 1e-12;
}

class DistCli : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    // A folder per test program run: ctest runs each test as its own process, two at a time.
    dir_ = process_temp_dir("fames_dist_cli");
    fs::remove_all(dir_);
    if (!ready()) return;
    const CommandResult r = run_fames("--quiet lib build --bits 2..8 --no-als --signed-a --out " + dir_ + "/lib");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static bool ready() {
    return std::getenv("FAMES_BIN") && fs::exists(kModel) && fs::exists("/usr/share/datasets/fashion-mnist");
  }
  // Both sides use one thread per process, so that a batch's arithmetic is the same on each.
  static std::string common() { return "--threads 1 --quiet --dist-timeout 60 "; }
  static std::string estimate_args(const std::string& out) {
    return common() + "estimate --model " + kModel + " --lib " + dir_ + "/lib --samples 200 --batch 32 " +
           "--bias-correction --out " + out;
  }
  static const std::string& dir() { return dir_; }

 protected:
  static std::string dir_;
};
std::string DistCli::dir_;

#define REQUIRE_INPUTS() \
  if (!ready()) GTEST_SKIP() << "needs FAMES_BIN, " << kModel << " and Fashion-MNIST"

TEST_F(DistCli, EstimateOnTwoRanksEqualsOneProcessAndSelectsTheSame) {
  REQUIRE_INPUTS();
  CommandResult r = run_fames(estimate_args(dir_ + "/one.json"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_ranks(2, estimate_args(dir_ + "/two.json"));
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json one = read_json_file(dir_ + "/one.json"), two = read_json_file(dir_ + "/two.json");
  EXPECT_EQ(one["samples"], two["samples"]);
  ASSERT_EQ(one["layers"].size(), two["layers"].size());
  int compared = 0;
  for (size_t k = 0; k < one["layers"].size(); ++k) {
    const auto &a = one["layers"][k]["candidates"], &b = two["layers"][k]["candidates"];
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i, ++compared) {
      EXPECT_EQ(a[i]["appmul"], b[i]["appmul"]);
      EXPECT_TRUE(near(a[i]["dl"].get<double>(), b[i]["dl"].get<double>(), 1e-6))
          << one["layers"][k]["name"] << " " << a[i]["appmul"] << ": " << a[i]["dl"] << " vs " << b[i]["dl"];
    }
  }
  EXPECT_GT(compared, 50);
  for (const char* est : {"one", "two"}) {
    r = run_fames("--quiet select --est " + dir_ + "/" + est + ".json --energy-reduction 0.3 --out " + dir_ + "/" +
                  est + "-assign.json");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  EXPECT_EQ(read_json_file(dir_ + "/one-assign.json")["layers"], read_json_file(dir_ + "/two-assign.json")["layers"]);
}

TEST_F(DistCli, EstimateKeepingTheWholeFactorOnTwoRanksEqualsOneProcess) {
  REQUIRE_INPUTS();
  // --terms-out keeps every layer's factor rows instead of their projections onto the library.
  CommandResult r = run_fames(estimate_args(dir_ + "/f1.json") + " --terms-out " + dir_ + "/f1.terms");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_ranks(2, estimate_args(dir_ + "/f2.json") + " --terms-out " + dir_ + "/f2.terms");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json one = read_json_file(dir_ + "/f1.json"), two = read_json_file(dir_ + "/f2.json");
  for (size_t k = 0; k < one["layers"].size(); ++k)
    for (size_t i = 0; i < one["layers"][k]["candidates"].size(); ++i) {
      const double a = one["layers"][k]["candidates"][i]["dl"], b = two["layers"][k]["candidates"][i]["dl"];
      EXPECT_TRUE(near(a, b, 1e-6)) << one["layers"][k]["name"] << " " << i << ": " << a << " vs " << b;
    }
  EXPECT_EQ(fs::file_size(dir_ + "/f1.terms"), fs::file_size(dir_ + "/f2.terms"));
}

TEST_F(DistCli, EvalOnTwoRanksGivesTheSameTop1AndLoss) {
  REQUIRE_INPUTS();
  const std::string args = common() + "eval --model " + kModel + " --limit 1500 --batch 200 --json";
  CommandResult one = run_fames(args), two = run_ranks(2, args);
  ASSERT_EQ(one.status, 0) << one.output;
  ASSERT_EQ(two.status, 0) << two.output;
  // Only rank 0 prints: the merged output is one JSON object.
  const nlohmann::json a = nlohmann::json::parse(one.output), b = nlohmann::json::parse(two.output);
  EXPECT_EQ(a["samples"], 1500);
  EXPECT_EQ(a["top1"].get<double>(), b["top1"].get<double>());
  EXPECT_EQ(a["loss"].get<double>(), b["loss"].get<double>());
}

// Every layer's clipping values, in model order.
std::vector<double> clips_of(const std::string& path) {
  auto loaded = models::load_model(path);
  std::vector<double> out;
  for (const auto& [name, layer] : quant::quant_layers(*loaded.module))
    for (const torch::Tensor& t : {layer->weight_clip, layer->act_clip}) {
      const torch::Tensor d = t.detach().to(torch::kDouble).contiguous().reshape({-1});
      out.insert(out.end(), d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
    }
  return out;
}

TEST_F(DistCli, CalibrateOnTwoRanksGivesTheSameClips) {
  REQUIRE_INPUTS();
  CommandResult r = run_fames(estimate_args(dir_ + "/cal-est.json"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_fames("--quiet select --est " + dir_ + "/cal-est.json --energy-reduction 0.3 --out " + dir_ + "/cal-assign.json");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string args = common() + "calibrate --model " + kModel + " --assign " + dir_ +
                           "/cal-assign.json --samples 256 --holdout 300 --epochs 2 --batch 64 --bias-correction --json --out ";
  r = run_fames(args + dir_ + "/cal1.pt");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_ranks(2, args + dir_ + "/cal2.pt");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::vector<double> one = clips_of(dir_ + "/cal1.pt"), two = clips_of(dir_ + "/cal2.pt"),
                            before = clips_of(kModel);
  ASSERT_EQ(one.size(), two.size());
  size_t moved = 0;
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_TRUE(near(one[i], two[i], 1e-4)) << i << ": " << one[i] << " vs " << two[i];
    moved += one[i] != before[i];
  }
  EXPECT_GT(moved, 0u) << "calibration changed no clip: the comparison would prove nothing";
}

// Every parameter of a checkpoint, flattened, in module order.
std::vector<torch::Tensor> parameters_of(const std::string& path) {
  auto loaded = models::load_model(path);
  std::vector<torch::Tensor> out;
  for (const auto& p : loaded.module->named_parameters()) out.push_back(p.value().detach().reshape({-1}));
  return out;
}

TEST_F(DistCli, TrainingOnTwoRanksGivesTheSameWeights) {
  REQUIRE_INPUTS();
  // Float training from the zoo model (LeNet-5 has no BatchNorm, so two ranks compute what one
  // process does, up to the order of float additions; with quantization on, such differences flip
  // rounding decisions and grow): 4 steps of a global batch of 64 with augmentation.
  const std::string args = common() + "train --init " + kModel + " --float --limit 256 --epochs 1 --batch 64 --out ";
  CommandResult r = run_fames(args + dir_ + "/train1.pt");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_ranks(2, args + dir_ + "/train2.pt");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(fs::exists(dir_ + "/train2.pt.resume")) << "the resume state outlived a finished run";
  const auto one = parameters_of(dir_ + "/train1.pt"), two = parameters_of(dir_ + "/train2.pt"),
             before = parameters_of(kModel);
  ASSERT_EQ(one.size(), two.size());
  ASSERT_EQ(one.size(), before.size());
  double moved = 0;
  for (size_t i = 0; i < one.size(); ++i) {
    const double scale = one[i].abs().max().item<double>() + 1e-12;
    EXPECT_LE((one[i] - two[i]).abs().max().item<double>() / scale, 1e-4) << "parameter " << i;
    moved = std::max(moved, (one[i] - before[i]).abs().max().item<double>() / scale);
  }
  EXPECT_GT(moved, 1e-3) << "training changed no weight: the comparison would prove nothing";
}

// A command that is not data-parallel runs on rank 0 alone: rank 1 ends at once without joining
// (no MASTER_ADDR needed), rank 0 does the work as one process.
TEST_F(DistCli, ACommandThatIsNotDataParallelRunsOnRankZeroAlone) {
  REQUIRE_INPUTS();
  const std::string card = dir_ + "/rank-lib";
  const std::string args = common() + "lib build --bits 2..3 --no-als --out " + card;
  CommandResult r = run_fames_as("WORLD_SIZE=2 RANK=1", args);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(fs::exists(card)) << "rank 1 wrote the output";
  r = run_fames_as("WORLD_SIZE=2 RANK=0", args);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(card));
  // A data-parallel command still needs the rendezvous and says which variable is missing.
  r = run_fames_as("WORLD_SIZE=2 RANK=1", common() + "eval --model " + kModel + " --limit 10");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("MASTER_ADDR"), std::string::npos) << r.output;
}

TEST_F(DistCli, RunOnTwoRanksReportsTheSameFigures) {
  REQUIRE_INPUTS();
  const std::string args = common() + "run --model " + kModel + " --lib " + dir_ +
                           "/lib --samples 64 --calibration-samples 256 --holdout 300 --sweep 3 "
                           "--calibration-epochs 1 --ga-seconds 0 --no-uniform --max-accuracy-loss 2 --out ";
  CommandResult r = run_fames(args + dir_ + "/run1");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_ranks(2, args + dir_ + "/run2");
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json a = read_json_file(dir_ + "/run1/report.json"), b = read_json_file(dir_ + "/run2/report.json");
  for (const char* key : {"top1_exact", "holdout_top1_exact", "energy_reduction", "top1_uncalibrated", "top1_final",
                          "holdout_top1_final"})
    EXPECT_EQ(a[key], b[key]) << key;
  ASSERT_EQ(a["layers"].size(), b["layers"].size());
  for (size_t k = 0; k < a["layers"].size(); ++k) {
    EXPECT_EQ(a["layers"][k]["appmul"], b["layers"][k]["appmul"]);
    for (const char* key : {"predicted_dl", "measured_dl"})
      EXPECT_TRUE(near(a["layers"][k][key].get<double>(), b["layers"][k][key].get<double>(), 1e-6))
          << a["layers"][k]["name"] << " " << key;
  }
}

// Starts rank `rank` of 2 of `fames ARGS` with its output in `log`, in the folder `cwd` if given.
pid_t start_rank(int rank, const std::string& port, const std::string& args, const std::string& log,
                 const std::string& cwd = "") {
  std::vector<std::string> env{"MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port, "WORLD_SIZE=2",
                               "RANK=" + std::to_string(rank), "LOCAL_WORLD_SIZE=2"};
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string shell = "/bin/sh", flag = "-c",
              command = (cwd.empty() ? "" : "cd " + cwd + " && ") + "exec " + std::string(std::getenv("FAMES_BIN")) +
                        " " + args + " >" + log + " 2>&1";
  std::vector<char*> argv{shell.data(), flag.data(), command.data(), nullptr};
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), envp.data()), 0);
  return pid;
}

// Waits up to `limit` for `pid`; returns its exit status (-1: killed by a signal, -2: still running).
int wait_for(pid_t pid, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -2;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Rank 1 is killed (SIGKILL) or frozen (SIGSTOP) once the estimate runs: rank 0 must end with an
// error naming itself, within the timeout (10 s) plus the rest of its own shard (measured: 13 s
// killed, 20 s frozen, on a loaded machine), and write nothing.
void lose_rank_one_mid_estimate(int signal) {
  static std::mt19937 rng(std::random_device{}());
  const std::string port = std::to_string(20000 + rng() % 40000), tag = std::to_string(signal);
  const std::string out = DistCli::dir() + "/lost" + tag + ".json";
  // 4096 samples: long enough (several seconds per rank) that the signal lands mid-estimate.
  const std::string args = "--threads 1 --dist-timeout 10 estimate --model " + kModel + " --lib " + DistCli::dir() +
                           "/lib --samples 4096 --batch 64 --out " + out;
  const pid_t rank0 = start_rank(0, port, args, DistCli::dir() + "/rank0-" + tag + ".log");
  const pid_t rank1 = start_rank(1, port, args, DistCli::dir() + "/rank1-" + tag + ".log");
  // Rank 0's progress bar shows when the estimate has started (loading takes seconds).
  const std::string log0 = DistCli::dir() + "/rank0-" + tag + ".log";
  for (int i = 0; i < 600 && read_text(log0).find("estimate (") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_EQ(kill(rank1, signal), 0);
  const auto start = std::chrono::steady_clock::now();
  const int status = wait_for(rank0, std::chrono::seconds(90));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  kill(rank1, SIGKILL);
  waitpid(rank1, nullptr, 0);
  if (status == -2) kill(rank0, SIGKILL), waitpid(rank0, nullptr, 0);
  const std::string log = read_text(log0);
  EXPECT_EQ(status, 1) << "after " << seconds << " s: " << log;
  EXPECT_NE(log.find("rank 0 of 2"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(out)) << "a failed run wrote its output";
}

TEST_F(DistCli, RunStopsOnEveryRankWhenARankDoesNotSeeTheReportFolder) {
  REQUIRE_INPUTS();
  // Each rank in a working folder of its own with a relative --out: rank 1 cannot read what rank 0
  // writes, as on hosts without a shared filesystem.
  static std::mt19937 rng(std::random_device{}());
  const std::string port = std::to_string(20000 + rng() % 40000), base = dir() + "/unshared";
  for (const char* sub : {"/cwd0", "/cwd1"}) fs::create_directories(base + sub);
  const std::string args = "--threads 1 --quiet --dist-timeout 30 run --model " + kModel + " --lib " + dir() +
                           "/lib --samples 64 --holdout 300 --sweep 2 --ga-seconds 0 --no-uniform "
                           "--energy-reduction 0.3 --out R";
  const pid_t rank0 = start_rank(0, port, args, base + "/rank0.log", base + "/cwd0");
  const pid_t rank1 = start_rank(1, port, args, base + "/rank1.log", base + "/cwd1");
  const int status0 = wait_for(rank0, std::chrono::seconds(120)), status1 = wait_for(rank1, std::chrono::seconds(60));
  if (status0 == -2) kill(rank0, SIGKILL), waitpid(rank0, nullptr, 0);
  if (status1 == -2) kill(rank1, SIGKILL), waitpid(rank1, nullptr, 0);
  for (const std::string& log : {base + "/rank0.log", base + "/rank1.log"})
    EXPECT_NE(read_text(log).find("do not see the files that rank 0 wrote"), std::string::npos)
        << log << ": " << read_text(log);
  EXPECT_EQ(status0, 1);
  EXPECT_EQ(status1, 1);
  EXPECT_FALSE(fs::exists(base + "/cwd0/R/report.json"));
}

TEST_F(DistCli, KillingOneRankMidEstimateEndsTheOtherWithAnError) {
  REQUIRE_INPUTS();
  lose_rank_one_mid_estimate(SIGKILL);
}

TEST_F(DistCli, AFrozenRankEndsTheOtherWithAnErrorAfterTheTimeout) {
  REQUIRE_INPUTS();
  lose_rank_one_mid_estimate(SIGSTOP);
}

}  // namespace
}  // namespace fames::testing_cli
