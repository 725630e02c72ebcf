#include "cli/common.h"

#include <fmt/core.h>

#include "pipeline/measured_search.h"

namespace fames::cli {

void add_data_options(CLI::App& cmd, DataOptions& options, const std::string& default_split) {
  options.split = default_split;
  cmd.add_option("--data", options.spec, "Dataset: " + dataset_spec_help());
  cmd.add_option("--split", options.split, "train or test")->capture_default_str();
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

void print_json(const nlohmann::json& value) { fmt::print("{}\n", value.dump(2)); }

}  // namespace fames::cli
