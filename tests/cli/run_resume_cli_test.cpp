// `fames run` resumes: a run killed during calibration and rerun with the same flags keeps the
// stages before calibration and ends with the report an uninterrupted run writes; a changed
// calibration flag recomputes calibration and what depends on it but keeps est.json; --force
// recomputes everything; a search killed after a calibration keeps it, and `fames eval` measures
// the kept calibration with its AppMuls. LeNet-5 with small budgets. Needs FAMES_BIN, the zoo model
// and Fashion-MNIST; skipped without them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "cli_runner.h"

namespace fames::testing_cli {
namespace {
namespace fs = std::filesystem;

const std::string kModel = std::string(FAMES_SOURCE_DIR) + "/models/lenet5-fmnist-mp.pt";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts `fames ARGS` in the background with its output in `log`; returns its process id.
pid_t start_fames(const std::string& args, const std::string& log) {
  const std::string command = "exec " + std::string(std::getenv("FAMES_BIN")) + " " + args + " >" + log + " 2>&1";
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// The figures of a report.json that must not depend on how the run got there.
nlohmann::json figures(const std::string& report_path) {
  const nlohmann::json r = read_json_file(report_path);
  nlohmann::json out;
  for (const char* key : {"top1_exact", "top1_final", "top1_uncalibrated", "holdout_top1_exact",
                          "holdout_top1_final", "holdout_top1_uncalibrated", "energy_reduction",
                          "layers", "curves", "probes", "predicted_dl", "mode", "target",
                          "top1_change_standard_error", "holdout_top1_change_standard_error"})
    out[key] = r.at(key);
  return out;
}

bool says(const std::string& output, const std::string& line) {
  return output.find(line) != std::string::npos;
}

// Runs `fames ARGS` with its output in `log` and kills it (SIGKILL) once `ready(output so far)`
// holds; fails if the run ends first or is not ready within five minutes.
void kill_when(const std::string& args, const std::string& log, const std::function<bool(const std::string&)>& ready) {
  const pid_t pid = start_fames(args, log);
  ASSERT_GT(pid, 0);
  bool is_ready = false;
  for (int waited = 0; waited < 300'000 && !is_ready; waited += 5) {
    is_ready = ready(slurp(log));
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "the run ended before it was killed:\n" << slurp(log);
    if (!is_ready) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(is_ready) << slurp(log);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
}

class RunResumeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::getenv("FAMES_BIN") || !fs::exists(kModel) || !fs::exists("/usr/share/datasets/fashion-mnist"))
      GTEST_SKIP() << "needs FAMES_BIN, " << kModel << " and Fashion-MNIST";
    // One folder per test: ctest -j runs the tests of this suite at the same time.
    dir = ::testing::TempDir() + "/fames_run_resume_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir);
    const CommandResult r = run_fames("--quiet lib build --bits 2..8 --no-als --signed-a --out " + dir + "/lib");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  std::string flags(const std::string& out, const std::string& calibration_samples = "4096",
                    const std::string& more = "") const {
    return "run --model " + kModel + " --lib " + dir + "/lib --out " + out +
           " --energy-reduction 0.3 --seed 3 --samples 64 --holdout 300 --sweep 3 --ga-seconds 0"
           " --no-uniform --calibration-epochs 3 --calibration-samples " + calibration_samples + more;
  }
  std::string dir;
};

TEST_F(RunResumeCli, AChangedCalibrationFlagRedoesCalibrationOnlyAndForceRedoesAll) {
  const std::string out = dir + "/clean";
  CommandResult r = run_fames(flags(out));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(says(r.output, "estimate: computing (no earlier result)")) << r.output;
  const auto est_time = fs::last_write_time(out + "/est.json");
  const std::string est = slurp(out + "/est.json");

  r = run_fames(flags(out, "2048"));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* kept : {"exact_eval: unchanged", "estimate: unchanged, kept " , "select: unchanged",
                           "assign: unchanged", "layer_measure: unchanged"})
    EXPECT_TRUE(says(r.output, kept)) << kept << "\n" << r.output;
  EXPECT_TRUE(says(r.output, "calibrate: computing (options changed: calibration_samples)")) << r.output;
  EXPECT_TRUE(says(r.output, "final_eval: computing (input model-calibrated.pt changed)")) << r.output;
  EXPECT_EQ(fs::last_write_time(out + "/est.json"), est_time);
  EXPECT_EQ(slurp(out + "/est.json"), est);

  r = run_fames(flags(out, "2048", " --force"));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* stage : {"exact_eval", "estimate", "select", "assign", "calibrate", "final_eval", "layer_measure"})
    EXPECT_TRUE(says(r.output, std::string(stage) + ": computing (--force)")) << stage << "\n" << r.output;
  EXPECT_NE(fs::last_write_time(out + "/est.json"), est_time);
  EXPECT_EQ(slurp(out + "/est.json"), est);  // recomputed, the same
}

TEST_F(RunResumeCli, ARunKilledDuringCalibrationResumesThereAndEndsAsACleanRun) {
  const std::string clean = dir + "/clean", killed = dir + "/killed", log = dir + "/killed.log";
  CommandResult r = run_fames(flags(clean));
  ASSERT_EQ(r.status, 0) << r.output;

  kill_when(flags(killed), log, [&](const std::string& output) {
    return fs::exists(killed + "/assign.json") && says(output, "calibrate: computing");
  });
  if (HasFatalFailure()) return;
  const nlohmann::json manifest = read_json_file(killed + "/manifest.json");
  EXPECT_TRUE(manifest["stages"].contains("assign"));
  EXPECT_FALSE(manifest["stages"].contains("calibrate"));
  EXPECT_FALSE(fs::exists(killed + "/report.json"));

  r = run_fames(flags(killed));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* kept : {"estimate: unchanged, kept " , "select: unchanged", "assign: unchanged"})
    EXPECT_TRUE(says(r.output, kept)) << kept << "\n" << r.output;
  EXPECT_TRUE(says(r.output, "calibrate: computing (no earlier result)")) << r.output;
  EXPECT_EQ(figures(killed + "/report.json"), figures(clean + "/report.json"));
  EXPECT_EQ(slurp(killed + "/est.json"), slurp(clean + "/est.json"));
  EXPECT_EQ(read_json_file(killed + "/assign.json")["layers"], read_json_file(clean + "/assign.json")["layers"]);
}

TEST_F(RunResumeCli, ASearchKilledAfterAProbeKeepsThatCalibration) {
  const std::string clean = dir + "/clean", killed = dir + "/killed", log = dir + "/killed.log";
  // max-accuracy-loss mode: the bound makes the search calibrate several configurations.
  const auto search = [&](const std::string& out) {
    std::string f = flags(out);
    f.replace(f.find("--energy-reduction 0.3"), 22, "--max-accuracy-loss 0.5");
    f.replace(f.find("--sweep 3"), 9, "--sweep 6");
    return f;
  };
  CommandResult r = run_fames(search(clean));
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_GE(read_json_file(clean + "/report.json")["probes"].size(), 2u) << r.output;
  EXPECT_FALSE(fs::exists(clean + "/probes")) << "kept calibrations outlive the stage";

  kill_when(search(killed), log, [](const std::string& output) { return says(output, "energy saved, held-out top-1"); });
  if (HasFatalFailure()) return;
  ASSERT_FALSE(read_json_file(killed + "/manifest.json")["stages"].contains("calibrate")) << slurp(log);

  // The kept probe carries its AppMuls: fames eval measures it with them (the configuration whose
  // energy saving the probe printed), as the search did, before the search ends.
  std::string probe;
  for (const auto& entry : fs::directory_iterator(killed + "/probes"))
    if (entry.path().extension() == ".pt") probe = entry.path().string();
  ASSERT_FALSE(probe.empty()) << slurp(log);
  const std::string probe_assignment = probe.substr(0, probe.size() - 3) + ".assign.json";
  CommandResult eval = run_fames("eval --model " + probe + " --split val --limit 300 --json");
  ASSERT_EQ(eval.status, 0) << eval.output;
  EXPECT_TRUE(says(eval.output, "was calibrated for the AppMuls of " + probe_assignment))
      << eval.output;
  const double saved = read_json_file(probe_assignment)["energy_reduction"];
  EXPECT_TRUE(says(slurp(log), fmt::format("probe: {:.1f}% energy saved", 100 * saved)))
      << saved << "\n" << slurp(log);

  r = run_fames(search(killed));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(says(r.output, "probe: kept from an earlier run of this stage")) << r.output;
  EXPECT_EQ(figures(killed + "/report.json"), figures(clean + "/report.json"));
  EXPECT_FALSE(fs::exists(killed + "/probes"));
}

// The library `fames run` builds when --lib is not given is exactly what `fames lib build --bits
// 2..8 --signed-a --no-als` writes, under the same library-cache entry (one entry for both).
TEST(RunDefaultLibrary, IsWhatLibBuildWritesUnderTheSameCacheEntry) {
  if (!std::getenv("FAMES_BIN")) GTEST_SKIP() << "needs FAMES_BIN";
  const std::string dir = process_temp_dir("fames_run_default_library");
  fs::remove_all(dir);
  const char* previous = std::getenv("XDG_CACHE_HOME");
  const std::string saved = previous ? previous : "";
  setenv("XDG_CACHE_HOME", (dir + "/cache").c_str(), 1);
  CommandResult built = run_fames("--quiet lib build --bits 2..8 --signed-a --no-als --out " + dir + "/lib");
  // The run builds its library before it reads the model, so a missing model ends it right after.
  CommandResult run = run_fames("--quiet run --model " + dir + "/no-model.pt --out " + dir + "/report");
  previous ? setenv("XDG_CACHE_HOME", saved.c_str(), 1) : unsetenv("XDG_CACHE_HOME");
  ASSERT_EQ(built.status, 0) << built.output;
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_TRUE(says(run.output, "no-model.pt")) << run.output;
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir + "/cache/fames/lib")) entries += e.is_directory();
  EXPECT_EQ(entries, 1);  // the run restored lib build's entry instead of adding its own
  const std::string families = dir + "/cache/fames/library-families";
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir + "/lib")) {
    ++files;
    EXPECT_EQ(slurp(e.path().string()), slurp(families + "/" + e.path().filename().string()))
        << e.path().filename();
  }
  EXPECT_GT(files, 100);
}

}  // namespace
}  // namespace fames::testing_cli
