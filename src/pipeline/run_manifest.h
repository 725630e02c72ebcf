// The manifest of a `fames run` report folder (R/manifest.json) and the runner that consults it:
// a stage is kept when its record says it finished with the same options, the same input files
// (by content hash) and outputs that are still there unchanged; otherwise it is computed and its
// record rewritten. The manifest is rewritten atomically after every finished stage, so a run
// killed at any point leaves either the old record or the new one, never a record of half a stage.
//
// Format: {"format": "fames-run-manifest", "version": 1, "stages": {NAME: {"build", "options",
// "options_hash", "inputs": {KEY: HASH}, "outputs": {FILE: HASH}, "seconds"}}}. Input keys are
// "model", "library" or a file of R; output files are relative to R; hashes are util/hash.h's
// hash_text. "build" is the fames version and the hash of the executable: a rebuilt fames keeps
// nothing. A missing or unreadable manifest keeps nothing (with a warning if unreadable).
//
// Data-parallel runs (dist/): rank 0's manifest decides which stages run on every rank, and rank 0
// alone writes the manifest; the runner checks after each stage that every rank sees the files rank
// 0 wrote (R must be on a filesystem that every rank shares).
#pragma once
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace fames::pipeline {

struct Stage {
  std::string name;
  nlohmann::json options;  // everything besides the inputs that decides the result
  // key -> path: "model" and "library" (outside R) or a file name relative to R.
  std::vector<std::pair<std::string, std::string>> inputs;
  std::vector<std::string> outputs;  // file names relative to R
  std::function<void()> compute;     // writes every output (atomically)
};

class StageRunner {
 public:
  // Reads dir/manifest.json if there. `build` identifies the program (see above).
  StageRunner(std::string dir, std::string build, bool force);

  // Keeps or computes `stage`, printing one line on stderr either way ("NAME: unchanged, kept
  // R/FILE" or "NAME: computing (WHY)" then "NAME: done in S s"). Throws what compute throws.
  void run(const Stage& stage);
  // A stage that writes no file (load): times it and prints its line.
  void run_unrecorded(const std::string& name, const std::function<void()>& compute);

  // While a stage computes: a hash of what decides its result (build, options, input contents). A
  // stage that keeps files of its own progress (fames run's calibration probes) names them by it, so
  // that only a rerun of the same computation picks them up.
  const std::string& fingerprint() const { return fingerprint_; }

  // Seconds per stage run so far, in order; a kept stage counts the seconds it took when computed.
  const std::vector<std::pair<std::string, double>>& seconds() const { return seconds_; }

 private:
  // Why `stage` must run, or "" when its record matches.
  std::string why_stale(const Stage& stage, const std::map<std::string, std::string>& inputs) const;
  std::string compare_record(const Stage& stage, const std::map<std::string, std::string>& inputs) const;
  std::string input_hash(const std::string& path);
  // Data-parallel: after rank 0 wrote (or kept) `stage`'s outputs, every rank must see the same files,
  // since the later stages read them from R; throws fames::Error on every rank otherwise.
  void check_outputs_shared(const Stage& stage) const;
  std::string path_of(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_, build_, fingerprint_;
  bool force_;
  nlohmann::json manifest_;
  std::map<std::string, std::string> external_hashes_;  // model and library: hashed once a run
  std::vector<std::pair<std::string, double>> seconds_;
};

}  // namespace fames::pipeline
