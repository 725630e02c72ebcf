// Model checkpoints: one LibTorch archive holding the parameters and buffers (including each
// layer's bits and clipping values) plus a JSON "fames_meta" record that says how to rebuild the
// network. A checkpoint is self-describing: `fames eval --model FILE` needs nothing else.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "data/dataset.h"
#include "models/zoo.h"

namespace fames::models {

struct LoadedModel {
  std::shared_ptr<torch::nn::Module> module;
  ModelSpec spec;
  nlohmann::json meta;  // everything saved with the model (spec, dataset, training record, ...)
  std::vector<std::string> classes;  // label -> class name, when the checkpoint records them
};

// Writes atomically (temporary file, then rename). `meta` is merged into the record; the spec and
// each layer's quantization state are always written.
void save_model(const std::string& path, torch::nn::Module& model, const ModelSpec& spec, nlohmann::json meta = {});

// Throws fames::Error naming the file if it is missing, not a fames checkpoint, has metadata out of
// range (checkpoint_meta.h), or does not match the architecture it declares: every tensor must
// have the shape and type of the rebuilt network and a storage that holds it, and every layer's
// bit widths must be 2..8, and every zero point of a layer the record lists in
// "asymmetric_weights" must lie in 0..2^bw-1. If `expected_arch` is non-empty, a checkpoint of
// another architecture is an error too.
LoadedModel load_model(const std::string& path, const std::string& expected_arch = "");

// Checks that the model can run on `data` and that its labels mean the model's classes: the images
// must have the model's channels and size, and the dataset as many classes as the model (labels
// then follow the sorted class names, as at training). Throws fames::Error naming `data_flag`
// otherwise (and pointing at --classes-by-name for a class mismatch).
void check_dataset_fits(const Dataset& data, const LoadedModel& model, const std::string& data_flag);
// Like check_dataset_fits; with `by_name`, a dataset with other classes is accepted when each of
// its class names is one of the model's (recorded in the checkpoint, else those of the dataset the
// model names in its metadata), and its labels are renumbered to the model's.
void match_dataset_classes(Dataset& data, const LoadedModel& model, const std::string& data_flag,
                           bool by_name);

// Per-layer summary [{name, bw, ba, signed_w, signed_a, macs}], for cards and reports. macs need one forward
// pass to be known; run one batch first.
nlohmann::json layer_table(torch::nn::Module& model);

// Multiplication-weighted average bitwidth (weights and activations averaged).
double weighted_average_bits(torch::nn::Module& model);

}  // namespace fames::models
