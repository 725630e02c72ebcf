#include "cli/common.h"

#include <fmt/core.h>

#include "pipeline/measured_search.h"

namespace fames::cli {

void add_data_options(CLI::App& cmd, DataOptions& options, const std::string& default_split) {
  options.split = default_split;
  cmd.add_option("--data", options.spec, "Dataset: " + dataset_spec_help());
  cmd.add_option("--split", options.split,
                 "train (the training files without the validation split), val or test")
      ->capture_default_str();
  cmd.add_option("--limit", options.limit, "Use a deterministic random subset of N images (0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--seed", options.seed, "Seed for --limit subsets and shuffling")->capture_default_str();
}

Dataset load_data(const DataOptions& options, const std::string& fallback_spec) {
  const std::string spec = !options.spec.empty() ? options.spec
                           : !fallback_spec.empty() ? fallback_spec
                                                    : std::string(kDefaultDatasetSpec);
  Dataset data = load_dataset(spec, parse_split(options.split));
  if (options.limit > 0) data = subset(data, options.limit, options.seed);
  return data;
}

CalibrationData load_calibration_data(const std::string& spec, const std::string& fallback_spec, int64_t samples,
                                      int64_t holdout, uint64_t seed) {
  DataOptions options;
  options.spec = spec;
  options.split = "train";
  const Dataset train = load_data(options, fallback_spec);
  auto [rest, held] = holdout_images(train, holdout, seed);
  return {subset(rest, samples, seed), std::move(held)};
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

void note_if_validation_seen(const nlohmann::json& meta, const Dataset& val, const std::string& model) {
  const int64_t unseen = meta.value("validation", nlohmann::json::object()).value("images", int64_t{0});
  if (unseen != val.size())
    fmt::print(stderr,
               "note: {} was trained on the training files without {} validation images, not on these {}: its "
               "validation figures may be optimistic (retrain it, or set --validation-images)\n",
               model, unseen, val.size());
}

void print_json(const nlohmann::json& value) { fmt::print("{}\n", value.dump(2)); }

}  // namespace fames::cli
