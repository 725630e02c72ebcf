// The format-specific loaders behind load_dataset (data/dataset.h). Each returns a complete
// Dataset (pixels, labels, classes, name, normalization) or throws fames::Error naming the file.
#pragma once
#include <string>

#include "data/dataset.h"

namespace fames {

// Fashion-MNIST IDX files in `dir`: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].
Dataset load_fashion_mnist(const std::string& dir, Split split);

// CIFAR-10 binary release: `dir` is cifar-10-batches-bin or contains it.
// Returns false (and leaves `out` alone) if neither holds data_batch_1.bin or test_batch.bin.
bool try_load_cifar_binary(const std::string& dir, Split split, Dataset& out);

// The standard CIFAR-10 mean/stddev (also used for CIFAR-10 given as an ImageFolder).
void set_cifar10_normalization(Dataset& dataset);

// ImageFolder: see load_dataset. Normalization is computed from the training images
// (see compute_folder_normalization in image_folder.cpp).
Dataset load_image_folder(const std::string& dir, Split split);

// Per-channel mean and population standard deviation (0..1 units) over the images at `indices`.
void compute_channel_stats(const Dataset& dataset, const std::vector<int64_t>& indices,
                           std::array<float, 3>& mean, std::array<float, 3>& stddev);

}  // namespace fames
