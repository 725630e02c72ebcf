// Training and evaluation loops for zoo models (float pretraining and quantization-aware training).
//
// Training is resumable: after every finished epoch the full state (model, optimizer, epoch, RNG)
// is written atomically to `resume_path`; starting again with the same options continues from the
// last finished epoch. Progress bars go to stderr.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <string>

#include "data/dataset.h"

namespace fames::models {

struct TrainOptions {
  int epochs = 30;
  int64_t batch_size = 128;
  double lr = 0.1;              // peak learning rate; cosine decay to 0 over all epochs
  double momentum = 0.9;
  double weight_decay = 5e-4;   // not applied to clipping parameters, biases and BN
  int warmup_epochs = 0;        // linear warm-up
  bool augment = true;
  uint64_t seed = 1;
  std::string resume_path;      // empty: no resume state
  std::string label = "train";  // progress-bar label
};

struct EvalResult {
  double top1 = 0;    // fraction correct, 0..1
  double loss = 0;    // mean cross-entropy
  int64_t samples = 0;
};

// Called after each epoch with (epoch index from 1, train loss, train accuracy).
using EpochCallback = std::function<void(int epoch, double loss, double accuracy)>;

void train(torch::nn::Module& model, const Dataset& train_set, const TrainOptions& options,
           const EpochCallback& on_epoch = nullptr);

EvalResult evaluate(torch::nn::Module& model, const Dataset& data, int64_t batch_size = 256,
                    const std::string& label = "eval");

}  // namespace fames::models
