// Options and helpers shared by several subcommands (dataset flags, JSON output).
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "data/dataset.h"

namespace fames::cli {

struct DataOptions {
  std::string spec;          // --data; empty = the model's own dataset, else the default
  std::string split = "test";
  int64_t limit = 0;         // 0 = all
  uint64_t seed = 1;
};

// Adds --data, --split, --limit, --seed to `cmd`. `default_split` is "train" or "test".
void add_data_options(CLI::App& cmd, DataOptions& options, const std::string& default_split);

// Loads the dataset the options name (fallback spec if --data was not given), applying --limit.
Dataset load_data(const DataOptions& options, const std::string& fallback_spec = "");

// Training-split images for the stages after quantization: the held-out images of
// holdout_images(train, holdout, seed) (the same for every command, so validation accuracies
// compare) and, disjoint from them, `samples` images to work on (0 = all the rest).
// Throws fames::Error naming --holdout if the split is not larger than `holdout`.
struct CalibrationData {
  Dataset tune, holdout;
};
CalibrationData load_calibration_data(const std::string& spec, const std::string& fallback_spec, int64_t samples,
                                      int64_t holdout, uint64_t seed);

// Prints `value` as indented JSON on stdout.
// load_data() for a command that trains (`command`: "train", "quantize"): refuses any split but
// train, naming --split, so that no model is trained on validation or test images.
Dataset load_training_data(const DataOptions& options, const std::string& command,
                           const std::string& fallback_spec = "");

// What a checkpoint records of the validation split its training set excluded (meta "validation").
nlohmann::json validation_record(const Dataset& train);

// One line on stderr when the model's checkpoint does not say it never trained on `val` (the
// validation split as loaded now): figures judged on it would then be optimistic.
void note_if_validation_seen(const nlohmann::json& meta, const Dataset& val, const std::string& model);

void print_json(const nlohmann::json& value);

}  // namespace fames::cli
