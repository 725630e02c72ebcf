#include "cli/common.h"

#include <fmt/core.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <thread>

#include "models/trainer.h"
#include "util/error.h"

namespace fames::cli {

void add_data_options(CLI::App& cmd, DataOptions& options, const std::string& default_split) {
  options.split = default_split;
  cmd.add_option("--data", options.spec, "Dataset: " + dataset_spec_help());
  cmd.add_option("--split", options.split,
                 "train (the training files without the validation split), val or test")
      ->capture_default_str();
  cmd.add_option("--limit", options.limit, "Use a deterministic random subset of N images (0 = all)")
      ->check(at_least(0));
  cmd.add_option("--seed", options.seed, "Seed for --limit subsets and shuffling")->capture_default_str();
  cmd.add_flag("--classes-by-name", options.classes_by_name,
               "Allow a dataset with other classes than the model's: match its class folders to the "
               "model's classes by name (default: the class counts must agree)");
}

void add_training_options(CLI::App& cmd, models::TrainOptions& train, const std::string& what) {
  const std::string prefix = what.empty() ? "" : what + " ";
  cmd.add_option("--epochs", train.epochs, what.empty() ? "Epochs" : what + " epochs")->capture_default_str()->check(at_least(0));
  cmd.add_option("--batch", train.batch_size, "Batch size")->capture_default_str()->check(positive());
  cmd.add_option("--lr", train.lr, "Peak " + prefix + "learning rate (cosine schedule)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd.add_option("--wd", train.weight_decay, "Weight decay")->capture_default_str()->check(at_least(0));
}

namespace {
// --data, else the model's dataset, else the default.
std::string dataset_spec(const std::string& spec, const std::string& fallback_spec) {
  return !spec.empty() ? spec : !fallback_spec.empty() ? fallback_spec : std::string(kDefaultDatasetSpec);
}
}  // namespace

Dataset load_data(const DataOptions& options, const std::string& fallback_spec) {
  Dataset data = load_dataset(dataset_spec(options.spec, fallback_spec), parse_split(options.split));
  if (options.limit > 0) data = subset(data, options.limit, options.seed);
  return data;
}

CalibrationData load_calibration_data(const std::string& spec, const std::string& fallback_spec, int64_t samples,
                                      int64_t holdout, uint64_t seed) {
  JudgingSplit split = judging_split(dataset_spec(spec, fallback_spec), holdout, seed);
  return {subset(split.learn, samples, seed), std::move(split.judge), split.judged_on};
}

namespace {

// A validator for finite numbers that also satisfy `ok`; `what` completes "must be ...".
CLI::Validator number_check(std::function<bool(double)> ok, const std::string& what) {
  return CLI::Validator(
      [ok, what](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v) || !std::isfinite(v) || !ok(v))
          return fmt::format("'{}' must be {}", text, what);
        return "";
      },
      what);
}

}  // namespace

CLI::Validator finite_number() {
  return number_check([](double) { return true; }, "a finite number");
}

void add_calibrate_on(CLI::App* cmd, bool& keep_on_top1) {
  cmd->add_option_function<std::string>(
         "--calibrate-on", [&keep_on_top1](const std::string& on) { keep_on_top1 = on == "top1"; },
         "Keep a calibration step if it lowers the validation loss (loss) or raises the validation "
         "top-1, ties by the loss (top1: the figure an accuracy bound is on)")
      ->check(CLI::IsMember({"loss", "top1"}))
      ->default_str("loss");
}

std::string holdout_help(const std::string& judges) {
  return "Validation images that " + judges +
         " (0: the whole validation split; held-out training images when the dataset has none)";
}

CLI::Validator positive() {
  return number_check([](double v) { return v > 0; }, "a number > 0");
}

CLI::Validator at_least(double min) {
  return number_check([min](double v) { return v >= min; }, fmt::format("a number >= {}", min));
}

CLI::Validator in_range(double min, double max) {
  return number_check([min, max](double v) { return v >= min && v <= max; },
                      fmt::format("a number in [{}, {}]", min, max));
}

CLI::Validator thread_count() {
  const double cores = std::max(1u, std::thread::hardware_concurrency());
  return number_check([cores](double v) { return v >= 0 && v <= kThreadsPerCore * cores; },
                      fmt::format("0 (all cores) .. {} ({} per core)", kThreadsPerCore * cores,
                                  kThreadsPerCore));
}

AlsLibraryOptions als_library_options(const std::string& metric, double max_error, uint64_t seed, int pairs,
                                      int max_per_signature, int seed_steps) {
  AlsLibraryOptions options;
  options.als.metric = parse_als_metric(metric);
  options.als.max_error = max_error;
  options.als.seed = seed;
  options.als.cost.pairs = pairs;
  options.als.cost.seed = seed;
  options.max_per_signature = max_per_signature;
  options.seed_steps = seed_steps;
  return options;
}

Dataset load_training_data(const DataOptions& options, const std::string& command, const std::string& fallback_spec) {
  if (parse_split(options.split) != Split::kTrain)
    fail("--split {}: fames {} trains on the training split only, so that validation and test images stay unseen",
         options.split, command);
  return load_data(options, fallback_spec);
}

nlohmann::json validation_record(const Dataset& train) {
  return {{"images", train.validation_excluded}, {"setting", validation_images()}};
}

int64_t validation_images_unseen(const nlohmann::json& meta) {
  // The record is optional and not part of the validated metadata: anything else counts as none.
  if (!meta.contains("validation") || !meta["validation"].is_object()) return 0;
  const nlohmann::json& record = meta["validation"];
  return record.contains("images") && record["images"].is_number_integer() ? record["images"].get<int64_t>() : 0;
}

void note_if_validation_seen(const nlohmann::json& meta, const Dataset& val, const std::string& model) {
  const int64_t unseen = validation_images_unseen(meta);
  if (unseen != val.size())
    fmt::print(stderr,
               "note: {} was trained on the training files without {} validation images, not on these {}: its "
               "validation figures may be optimistic (retrain it, or set --validation-images)\n",
               model, unseen, val.size());
}

std::string assignment_for(const std::string& model, const nlohmann::json& meta, const std::string& assign,
                           const std::string& using_it_for) {
  namespace fs = std::filesystem;
  if (!assign.empty()) return assign;
  const auto calibration = meta.find("calibration");
  if (calibration == meta.end() || !calibration->is_object() || !calibration->contains("assignment") ||
      !calibration->at("assignment").is_string())
    return {};
  const fs::path recorded = calibration->at("assignment").get<std::string>();
  for (const fs::path& candidate : {recorded, fs::path(model).parent_path() / recorded.filename()}) {
    if (fs::exists(candidate)) {
      fmt::print(stderr, "note: {} was calibrated for the AppMuls of {}: {} with them (--assign picks others)\n",
                 model, candidate.string(), using_it_for);
      return candidate.string();
    }
  }
  fail("{} was calibrated for the AppMuls of {}, which is missing: pass that assignment with --assign", model,
       recorded.string());
}

void print_json(const nlohmann::json& value) { fmt::print("{}\n", value.dump(2)); }

double temperature_of(const std::string& value, const std::string& flag) {
  if (value == "fit") return 0;
  size_t used = 0;
  double t = 0;
  try {
    t = std::stod(value, &used);
  } catch (const std::exception&) {
  }
  if (used == 0 || used != value.size() || !(t > 0) || !std::isfinite(t))
    fail("{} must be 'fit' or a number > 0, got '{}'", flag, value);
  return t;
}

}  // namespace fames::cli
