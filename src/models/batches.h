// Turns an in-memory Dataset into normalised float batches for LibTorch, with the standard
// augmentation for small images (random crop with 4-pixel zero padding and horizontal flip).
#pragma once
#include <torch/torch.h>

#include <random>
#include <vector>

#include "data/dataset.h"

namespace fames::models {

struct Batch {
  torch::Tensor images;  // float [n][c][h][w], normalised
  torch::Tensor labels;  // int64 [n]
};

// Images at `indices`. With `augment`, each image gets a random 4-pixel-padded crop and a random
// horizontal flip drawn from `rng` (images of 32x32 and larger only; smaller ones are not cropped).
Batch make_batch(const Dataset& data, const std::vector<int64_t>& indices, bool augment, std::mt19937_64& rng);

// Consecutive batch [begin, begin + count) without augmentation.
Batch make_batch(const Dataset& data, int64_t begin, int64_t count);

}  // namespace fames::models
