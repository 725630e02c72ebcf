// Model checkpoints: one LibTorch archive holding the parameters and buffers (including each
// layer's bits and clipping values) plus a JSON "fames_meta" record that says how to rebuild the
// network. A checkpoint is self-describing: `fames eval --model FILE` needs nothing else.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "models/zoo.h"

namespace fames::models {

struct LoadedModel {
  std::shared_ptr<torch::nn::Module> module;
  ModelSpec spec;
  nlohmann::json meta;  // everything saved with the model (spec, dataset, training record, ...)
};

// Writes atomically (temporary file, then rename). `meta` is merged into the record; the spec and
// each layer's quantization state are always written.
void save_model(const std::string& path, torch::nn::Module& model, const ModelSpec& spec, nlohmann::json meta = {});

// Throws fames::Error naming the file if it is missing, not a fames checkpoint, or does not match
// the architecture it declares. If `expected_arch` is non-empty, a checkpoint of another
// architecture is an error too.
LoadedModel load_model(const std::string& path, const std::string& expected_arch = "");

// Per-layer summary [{name, bw, ba, signed_a, macs}], for cards and reports. macs need one forward
// pass to be known; run one batch first.
nlohmann::json layer_table(torch::nn::Module& model);

// Multiplication-weighted average bitwidth (weights and activations averaged).
double weighted_average_bits(torch::nn::Module& model);

}  // namespace fames::models
