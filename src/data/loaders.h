// The format-specific loaders behind load_dataset (data/dataset.h). Each returns a complete
// Dataset (pixels, labels, classes, name, normalization) or throws fames::Error naming the file.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "util/error.h"

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

// Per-channel sums of pixel values and their squares (exact integers), for normalization constants.
struct ChannelSums {
  std::array<uint64_t, 3> sum{}, squares{};
  uint64_t values = 0;  // pixels per channel added so far
  // Adds one CHW image of `channels` planes of `plane` pixels (channels beyond 3 are ignored).
  void add(const uint8_t* chw, int64_t channels, int64_t plane);
  // Mean and population standard deviation (0..1 units); channels beyond `channels` copy channel 0.
  void finish(int64_t channels, std::array<float, 3>& mean, std::array<float, 3>& stddev) const;
};

// The ImageFolder files of one split: classes sorted by name (labels 0..k-1), files of each class
// sorted by name.
struct FileList {
  std::vector<std::string> classes;
  std::vector<std::string> paths;
  std::vector<int32_t> labels;
};

// The folder holding the class folders for `split`: ROOT/train or ROOT/test when either exists,
// otherwise ROOT itself. Throws fames::Error naming the folder when it is missing.
std::string split_folder(const std::string& root, Split split);
// Lists `folder`'s class folders and their .jpg/.jpeg/.png files (hidden entries and other files
// ignored). Throws fames::Error for an empty class folder or none at all.
FileList list_image_files(const std::string& folder);

// The indices of the images (of n) that define an ImageFolder's normalization: evenly spread.
std::vector<int64_t> stats_sample(int64_t n);

// Runs body(i) for i in [0, n) on all OpenMP threads, `chunk` indices at a time. The first
// fames::Error (lowest index) is rethrown on the calling thread once the loop has stopped;
// exceptions never cross OpenMP.
template <typename Body>
void parallel_for_files(int64_t n, const Body& body, int64_t chunk = 64) {
  std::vector<std::string> errors(n);
  std::atomic<bool> failed{false};
#pragma omp parallel for schedule(dynamic, chunk)
  for (int64_t i = 0; i < n; ++i) {
    if (failed.load(std::memory_order_relaxed)) continue;
    try {
      body(i);
    } catch (const std::exception& e) {
      errors[i] = e.what();
      failed = true;
    }
  }
  if (!failed) return;
  for (const std::string& error : errors) {
    if (!error.empty()) throw Error(error);
  }
}

}  // namespace fames
