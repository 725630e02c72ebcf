#include "pipeline/run_manifest.h"

#include <fmt/format.h>

#include <chrono>

#include "core/json_fields.h"
#include "dist/process_group.h"
#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"

namespace fames::pipeline {
namespace {

constexpr const char* kFormat = "fames-run-manifest";

// The keys whose values differ between two option objects, comma-separated.
std::string changed_keys(const nlohmann::json& before, const nlohmann::json& now) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : now.items())
    if (!before.contains(key) || before[key] != value) keys.push_back(key);
  for (const auto& [key, value] : before.items())
    if (!now.contains(key)) keys.push_back(key);
  return fmt::format("{}", fmt::join(keys, ", "));
}

}  // namespace

StageRunner::StageRunner(std::string dir, std::string build, bool force)
    : dir_(std::move(dir)), build_(std::move(build)), force_(force) {
  manifest_ = {{"format", kFormat}, {"version", 1}, {"stages", nlohmann::json::object()}};
  const std::string path = path_of("manifest.json");
  if (!file_exists(path)) return;
  nlohmann::json j;
  try {  // with the depth limit: comparing records recurses into them
    j = detail::parse_json_file_text(read_file(path), path);
  } catch (const Error&) {
  }
  if (!j.is_object() || !j.contains("format") || j["format"] != kFormat ||
      !j.contains("stages") || !j["stages"].is_object()) {
    fmt::print(stderr, "warning: {} is not a fames run manifest; computing every stage\n", path);
    return;
  }
  manifest_["stages"] = j["stages"];
}

std::string StageRunner::input_hash(const std::string& path) {
  if (path.rfind(dir_ + "/", 0) == 0) return hash_text(hash_path(path));  // may change in a run
  auto it = external_hashes_.find(path);
  if (it == external_hashes_.end()) it = external_hashes_.emplace(path, hash_text(hash_path(path))).first;
  return it->second;
}

std::string StageRunner::why_stale(const Stage& stage,
                                   const std::map<std::string, std::string>& inputs) const {
  try {
    return compare_record(stage, inputs);
  } catch (const nlohmann::json::exception&) {  // a record edited by hand: not trusted
    return "its record in manifest.json is unreadable";
  }
}

std::string StageRunner::compare_record(const Stage& stage,
                                        const std::map<std::string, std::string>& inputs) const {
  const nlohmann::json& stages = manifest_["stages"];
  if (!stages.contains(stage.name) || !stages[stage.name].is_object()) return "no earlier result";
  const nlohmann::json& record = stages[stage.name];
  if (record.value("build", "") != build_) return "computed by another fames build";
  const nlohmann::json options = record.value("options", nlohmann::json::object());
  if (options != stage.options) return "options changed: " + changed_keys(options, stage.options);
  const nlohmann::json recorded_inputs = record.value("inputs", nlohmann::json::object());
  for (const auto& [key, hash] : inputs)
    if (recorded_inputs.value(key, "") != hash) return "input " + key + " changed";
  if (recorded_inputs.size() != inputs.size()) return "its inputs changed";
  const nlohmann::json outputs = record.value("outputs", nlohmann::json::object());
  if (outputs.size() != stage.outputs.size()) return "its outputs changed";
  for (const std::string& name : stage.outputs) {
    const std::string path = path_of(name);
    if (!file_exists(path)) return path + " is missing";
    if (outputs.value(name, "") != hash_text(hash_path(path))) return path + " changed since";
  }
  return "";
}

void StageRunner::run(const Stage& stage) {
  std::map<std::string, std::string> inputs;
  for (const auto& [key, path] : stage.inputs) inputs[key] = input_hash(path);
  std::string why = force_ ? "--force" : why_stale(stage, inputs);
  // Data-parallel: rank 0's record decides for every rank, so that all run the same stages.
  if (dist::root_decides(why.empty()) != why.empty()) why = why.empty() ? "rank 0 computes it" : "";
  if (why.empty()) {
    std::vector<std::string> kept;
    for (const std::string& name : stage.outputs) kept.push_back(path_of(name));
    fmt::print(stderr, "{}: unchanged, kept {}\n", stage.name, fmt::join(kept, ", "));
    const nlohmann::json& record = manifest_["stages"][stage.name];  // an object: why_stale checked
    const bool timed = record.contains("seconds") && record["seconds"].is_number();
    seconds_.emplace_back(stage.name, timed ? record["seconds"].get<double>() : 0.0);
    check_outputs_shared(stage);
    return;
  }
  fmt::print(stderr, "{}: computing ({})\n", stage.name, why);
  const std::string options_text = stage.options.dump();
  const std::string decided_by = build_ + "\n" + options_text + "\n" + nlohmann::json(inputs).dump();
  fingerprint_ = hash_text(fnv1a64(decided_by.data(), decided_by.size()));
  const auto start = std::chrono::steady_clock::now();
  stage.compute();
  fingerprint_.clear();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  check_outputs_shared(stage);
  nlohmann::json outputs = nlohmann::json::object();
  for (const std::string& name : stage.outputs) outputs[name] = hash_text(hash_path(path_of(name)));
  manifest_["stages"][stage.name] = {
      {"build", build_},
      {"options", stage.options},
      {"options_hash", hash_text(fnv1a64(options_text.data(), options_text.size()))},
      {"inputs", inputs},
      {"outputs", outputs},
      {"seconds", seconds}};
  if (dist::is_root()) write_file_atomic(path_of("manifest.json"), manifest_.dump(2) + "\n");
  seconds_.emplace_back(stage.name, seconds);
  fmt::print(stderr, "{}: done in {:.1f} s\n", stage.name, seconds);
}

void StageRunner::check_outputs_shared(const Stage& stage) const {
  if (!dist::active()) return;
  dist::barrier();  // rank 0 has written them
  std::string mine;
  for (const std::string& name : stage.outputs) {
    const std::string path = path_of(name);
    mine += name + " " + (file_exists(path) ? hash_text(hash_path(path)) : "missing") + "\n";
  }
  const std::vector<std::string> all = dist::all_gather(mine);
  std::vector<int> differ;
  for (size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0]) differ.push_back(static_cast<int>(r));
  if (!differ.empty())
    fail("rank(s) {} do not see the files that rank 0 wrote for stage {} in {}: a data-parallel fames run "
         "needs --out on a filesystem that every rank shares",
         fmt::join(differ, ", "), stage.name, dir_);
}

void StageRunner::run_unrecorded(const std::string& name, const std::function<void()>& compute) {
  const auto start = std::chrono::steady_clock::now();
  compute();
  seconds_.emplace_back(name, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  fmt::print(stderr, "{}: done in {:.1f} s\n", name, seconds_.back().second);
}

}  // namespace fames::pipeline
