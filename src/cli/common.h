// Options and helpers shared by several subcommands (dataset flags, JSON output).
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "appmul/synth/als_library.h"
#include "data/dataset.h"

namespace fames::models {
struct TrainOptions;
}

namespace fames::cli {

struct DataOptions {
  std::string spec;          // --data; empty = the model's own dataset, else the default
  std::string split = "test";
  int64_t limit = 0;         // 0 = all
  uint64_t seed = 1;
  bool classes_by_name = false;  // --classes-by-name (models::match_dataset_classes)
};

// Adds --data, --split, --limit, --seed, --classes-by-name to `cmd`. `default_split` is "train" or
// "test".
void add_data_options(CLI::App& cmd, DataOptions& options, const std::string& default_split);

// --epochs, --batch, --lr and --wd of a training command (train, quantize), bounded; `what` names
// the training in the help ("", "QAT").
void add_training_options(CLI::App& cmd, models::TrainOptions& train, const std::string& what);

// Loads the dataset the options name (fallback spec if --data was not given), applying --limit.
Dataset load_data(const DataOptions& options, const std::string& fallback_spec = "");

// Images for the stages after quantization: the `holdout` images of judging_split() (validation
// images, or held-out training images without a validation split; the same for every command, so
// their accuracies compare) and, from the training split, `samples` images to work on (0 = all).
// Throws fames::Error naming --holdout if the split is not larger than `holdout`.
struct CalibrationData {
  Dataset tune, holdout;
  std::string judged_on;  // "val", or "train" without a validation split
};
CalibrationData load_calibration_data(const std::string& spec, const std::string& fallback_spec, int64_t samples,
                                      int64_t holdout, uint64_t seed);

// Checks for numeric flags. CLI11 reports a failure as "--flag: message" and exits non-zero.
// Every one rejects nan and inf (CLI11's own Range and PositiveNumber let nan through).
CLI::Validator finite_number();                  // any finite number
CLI::Validator positive();                       // a finite number > 0
// A temperature flag's value: 0 for "fit", else the number (> 0). Throws fames::Error naming `flag`.
double temperature_of(const std::string& value, const std::string& flag);

// --holdout's help, the same for every command that judges on judging_split()'s images.
std::string holdout_help(const std::string& judges);
// --calibrate-on loss|top1: which validation figure a calibration step must improve to be kept
// (CalibrateOptions::keep_on_top1); `keep_on_top1` must outlive the command's parsing.
void add_calibrate_on(CLI::App* cmd, bool& keep_on_top1);
CLI::Validator at_least(double min);             // a finite number >= min
CLI::Validator in_range(double min, double max);  // a finite number in [min, max]
// --threads: 0 (all cores) up to kThreadsPerCore threads per core; more only thrashes (and a
// hundred thousand threads hang the machine).
constexpr int kThreadsPerCore = 4;
CLI::Validator thread_count();

// The ALS settings that `lib build`, `lib compare` and `lib tailor` share flags for: --metric (name;
// fames::Error if unknown), --max-error, --seed (ALS sampling and the energy stream), --pairs
// (energy estimate), the members kept per signature and --seed-steps.
AlsLibraryOptions als_library_options(const std::string& metric, double max_error, uint64_t seed, int pairs,
                                      int max_per_signature, int seed_steps);

// load_data() for a command that trains (`command`: "train", "quantize"): refuses any split but
// train, naming --split, so that no model is trained on validation or test images.
Dataset load_training_data(const DataOptions& options, const std::string& command,
                           const std::string& fallback_spec = "");

// What a checkpoint records of the validation split its training set excluded (meta "validation").
nlohmann::json validation_record(const Dataset& train);

// The checkpoint's record of validation images its training left out (0 when it has none).
int64_t validation_images_unseen(const nlohmann::json& meta);
// One line on stderr when the model's checkpoint does not say it never trained on `val` (the
// validation split as loaded now): figures judged on it would then be optimistic.
void note_if_validation_seen(const nlohmann::json& meta, const Dataset& val, const std::string& model);

// The assignment a command should apply to checkpoint `model`: `assign` (the --assign flag) if
// given, else the one a calibrated checkpoint records (meta.calibration.assignment; relative paths
// from the working folder, else beside the checkpoint; a note on stderr says which), else "". A
// calibrated model's output corrections and clips belong to those AppMuls, so with exact
// multipliers they would only add an error. fames::Error if the recorded file is missing.
std::string assignment_for(const std::string& model, const nlohmann::json& meta, const std::string& assign,
                           const std::string& using_it_for);

// Prints `value` as indented JSON on stdout.
void print_json(const nlohmann::json& value);

}  // namespace fames::cli
