// Training and evaluation loops for zoo models (float pretraining and quantization-aware training).
//
// Training is resumable: after every finished epoch the full state (model, optimizer, epoch, RNG)
// is written atomically to `resume_path`; starting again with the same options continues from the
// last finished epoch. Progress bars go to stderr.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

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
  std::vector<uint8_t> correct;  // per sample, in dataset order: 1 if top-1 was right
};

// top-1 of `other` minus top-1 of `base`, both measured on the same samples, with the standard
// error of that difference: the samples are paired, so only those on which the two disagree carry
// it (a drop measured on 5,000 images is a sample, not the drop on the whole distribution).
struct PairedTop1Difference {
  double difference = 0;       // fraction, -1..1
  double standard_error = 0;   // of the difference, same unit
  int64_t only_base = 0, only_other = 0;  // samples right in one evaluation and not in the other
};
// REQUIRES: both evaluations of the same samples (equal, non-empty `correct`); fails otherwise.
PairedTop1Difference paired_top1_difference(const EvalResult& base, const EvalResult& other);

// Called after each epoch with (epoch index from 1, train loss, train accuracy).
using EpochCallback = std::function<void(int epoch, double loss, double accuracy)>;

void train(torch::nn::Module& model, const Dataset& train_set, const TrainOptions& options,
           const EpochCallback& on_epoch = nullptr);

EvalResult evaluate(torch::nn::Module& model, const Dataset& data, int64_t batch_size = 256,
                    const std::string& label = "eval");

}  // namespace fames::models
