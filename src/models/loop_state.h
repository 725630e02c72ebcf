// A training loop's state between two epochs, so that a loop stopped anywhere continues from its
// last finished epoch and ends as one that never stopped: the model's parameters and buffers, the
// optimizer's state, the random stream, and what else the loop keeps (tensors and a JSON record).
// Loaded into a model and optimizer built as the saved ones were (same tensors, same order).
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace fames::models {

struct LoopState {
  int epoch = 0;                       // epochs finished
  std::vector<torch::Tensor> tensors;  // the loop's own (e.g. the best epoch's parameters)
  nlohmann::json record;               // the loop's own
};

// Writes atomically (temporary file, then rename).
void save_loop_state(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     const std::mt19937_64& rng, const LoopState& state);

// Restores `model`, `optimizer` and `rng` and returns the rest. Throws fames::Error naming `path`
// (and saying to delete it) if the file is not a loop state or does not fit the model or optimizer.
LoopState load_loop_state(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                          std::mt19937_64& rng);

}  // namespace fames::models
