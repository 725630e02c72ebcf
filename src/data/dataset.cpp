#include "data/dataset.h"

#include <algorithm>
#include <filesystem>

#include "data/image_stream.h"
#include "data/loaders.h"
#include "util/error.h"

namespace fames {
namespace {

namespace fs = std::filesystem;

const char* const kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// splitmix64: a tiny generator with a fixed, documented output sequence, so subsets are the same
// on every platform and standard library (std::shuffle and the std distributions are not).
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound) without modulo bias: reject the lowest (2^64 mod bound) outputs.
  uint64_t below(uint64_t bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (true) {
      const uint64_t r = next();
      if (r >= threshold) return r % bound;
    }
  }
};

// The first `count` entries of a seeded Fisher-Yates permutation of 0..n-1, sorted ascending.
std::vector<int64_t> choose_sorted(int64_t n, int64_t count, uint64_t seed) {
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  SplitMix64 rng{seed};
  for (int64_t i = 0; i < count; ++i) {
    const int64_t j = i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - i)));
    std::swap(order[i], order[j]);
  }
  order.resize(count);
  std::sort(order.begin(), order.end());
  return order;
}

// 0..n-1 without the ascending indices `sorted`.
std::vector<int64_t> all_but(int64_t n, const std::vector<int64_t>& sorted) {
  std::vector<int64_t> rest;
  rest.reserve(n - static_cast<int64_t>(sorted.size()));
  size_t next = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (next < sorted.size() && sorted[next] == i) ++next;
    else rest.push_back(i);
  }
  return rest;
}

Dataset load_cifar10(const std::string& dir, Split split) {
  if (!fs::is_directory(dir)) fail("CIFAR-10 directory {} not found (--data cifar10:DIR)", dir);
  Dataset dataset;
  if (try_load_cifar_binary(dir, split, dataset)) return dataset;
  if (!fs::is_directory(dir + "/train") && !fs::is_directory(dir + "/test")) {
    fail(
        "{} holds neither the CIFAR-10 binary batches (data_batch_1.bin ... test_batch.bin, "
        "directly or in cifar-10-batches-bin/) nor train/ and test/ image folders",
        dir);
  }
  dataset = load_image_folder(dir, split);
  if (dataset.channels != 3 || dataset.height != 32 || dataset.width != 32) {
    fail(
        "the images in {} are {}x{} with {} channel(s), not 32x32 RGB as CIFAR-10 is; use "
        "--data imagefolder:{} for other data",
        dir, dataset.width, dataset.height, dataset.channels, dir);
  }
  dataset.name = "cifar10";
  set_cifar10_normalization(dataset);
  return dataset;
}

}  // namespace

const char* const kDefaultDatasetSpec = "fashion-mnist";

std::string dataset_spec_help() {
  return "fashion-mnist (default), fashion-mnist:DIR, cifar10:DIR, imagefolder:DIR or stream[@CROP[/RESIZE]]:DIR";
}

Split parse_split(const std::string& text) {
  if (text == "train") return Split::kTrain;
  if (text == "val") return Split::kVal;
  if (text == "test") return Split::kTest;
  fail("--split must be 'train', 'val' or 'test', not '{}'", text);
}

const char* split_name(Split split) {
  return split == Split::kTrain ? "train" : split == Split::kVal ? "val" : "test";
}

namespace {

int64_t g_validation_images = kValidationTenth;

// Which training files form the validation split: per class a share proportional to its size
// (largest remainders first, ties to the lower label), each class's images drawn by a seeded
// shuffle. Sorted ascending.
std::vector<int64_t> validation_indices(const Dataset& train_files, int64_t count) {
  const int64_t n = train_files.size();
  const int64_t classes = static_cast<int64_t>(train_files.classes.size());
  std::vector<std::vector<int64_t>> by_class(classes);
  for (int64_t i = 0; i < n; ++i) by_class[train_files.labels[i]].push_back(i);
  std::vector<int64_t> share(classes);
  std::vector<std::pair<int64_t, int64_t>> remainders;  // (-remainder, class)
  int64_t given = 0;
  for (int64_t c = 0; c < classes; ++c) {
    const int64_t size = static_cast<int64_t>(by_class[c].size());
    share[c] = count * size / n;
    given += share[c];
    remainders.push_back({-(count * size % n), c});
  }
  std::sort(remainders.begin(), remainders.end());
  for (int64_t k = 0; given < count; ++k, ++given) ++share[remainders[k].second];
  // "val" in ASCII: the split never moves, whatever seed a command is given.
  constexpr uint64_t kValidationSeed = 0x76616cull;
  std::vector<int64_t> chosen;
  chosen.reserve(count);
  for (int64_t c = 0; c < classes; ++c) {
    const auto& members = by_class[c];
    for (int64_t k : choose_sorted(static_cast<int64_t>(members.size()), share[c], kValidationSeed + c))
      chosen.push_back(members[k]);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

Dataset load_files(const std::string& spec, Split files) {
  const size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string dir = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "fashion-mnist")
    return load_fashion_mnist(dir.empty() ? kFashionMnistDir : dir, files);
  if (kind.rfind("stream", 0) == 0) return load_image_stream(spec, files);
  if (kind != "cifar10" && kind != "imagefolder") {
    fail("--data '{}' is not a known dataset: expected {}", spec, dataset_spec_help());
  }
  if (dir.empty()) fail("--data {} needs a directory: {}:DIR", spec, kind);
  return kind == "cifar10" ? load_cifar10(dir, files) : load_image_folder(dir, files);
}

}  // namespace

void set_validation_images(int64_t count) {
  if (count < 0 && count != kValidationTenth)
    fail("--validation-images must be >= 0 (or left at its default, a tenth), got {}", count);
  g_validation_images = count;
}

int64_t validation_images() { return g_validation_images; }

int64_t validation_count(int64_t train_files) {
  return g_validation_images == kValidationTenth ? train_files / 10 : std::min(g_validation_images, train_files);
}

namespace {
// The training split: every training file but the validation ones (`val`).
Dataset training_part(const Dataset& files, const std::vector<int64_t>& val) {
  Dataset train = select_images(files, all_but(files.size(), val));
  train.validation_excluded = static_cast<int64_t>(val.size());
  return train;
}

// Keeps the held-out images apart from `fames estimate --seed S` (a subset with the same seed).
constexpr uint64_t kHoldoutSalt = 0x686f6c646f7574ull;
}  // namespace

Dataset load_dataset(const std::string& spec, Split split) {
  if (split == Split::kTest) return load_files(spec, Split::kTest);
  Dataset files = load_files(spec, Split::kTrain);
  const int64_t count = validation_count(files.size());
  if (split == Split::kVal && count == 0)
    fail("--split val: the validation split of {} is empty (--validation-images is {}, {} training images)",
         spec, g_validation_images, files.size());
  if (count == 0) return files;
  const std::vector<int64_t> val = validation_indices(files, count);
  if (split == Split::kVal) return select_images(files, val);
  return training_part(files, val);
}

JudgingSplit judging_split(const std::string& spec, int64_t n, uint64_t seed) {
  Dataset files = load_files(spec, Split::kTrain);
  const int64_t count = validation_count(files.size());
  if (count == 0) {
    // n <= 0: the default count, or a fifth of a small training split.
    if (n <= 0) n = std::max<int64_t>(1, std::min<int64_t>(kDefaultHoldout, files.size() / 5));
    auto [rest, held] = holdout_images(files, n, seed);
    return {std::move(rest), std::move(held), "train"};
  }
  if (n > count)
    fail("--holdout must be at most {} (the validation split of {} has {} images; 0 takes all), got {}", count,
         spec, count, n);
  if (n <= 0) n = count;
  const std::vector<int64_t> val = validation_indices(files, count);
  // Salted as holdout_images() is, so that a subset with the same seed draws other images.
  return {training_part(files, val), subset(select_images(files, val), n, seed ^ kHoldoutSalt), "val"};
}

Dataset select_images(const Dataset& dataset, const std::vector<int64_t>& indices) {
  Dataset out;
  out.name = dataset.name;
  out.channels = dataset.channels;
  out.height = dataset.height;
  out.width = dataset.width;
  out.classes = dataset.classes;
  out.mean = dataset.mean;
  out.stddev = dataset.stddev;
  out.validation_excluded = dataset.validation_excluded;
  out.labels.reserve(indices.size());
  if (dataset.stream) {
    auto stream = std::make_shared<ImageStream>(*dataset.stream);
    stream->paths.clear();
    for (int64_t i : indices) {
      stream->paths.push_back(dataset.stream->paths[i]);
      out.labels.push_back(dataset.labels[i]);
    }
    out.stream = std::move(stream);
    return out;
  }
  const int64_t image_bytes = dataset.image_bytes();
  out.pixels.resize(indices.size() * image_bytes);
  for (size_t k = 0; k < indices.size(); ++k) {
    std::copy_n(dataset.image(indices[k]), image_bytes, out.pixels.begin() + k * image_bytes);
    out.labels.push_back(dataset.labels[indices[k]]);
  }
  return out;
}

Dataset subset(const Dataset& dataset, int64_t limit, uint64_t seed) {
  if (limit <= 0 || limit >= dataset.size()) return dataset;
  return select_images(dataset, choose_sorted(dataset.size(), limit, seed));
}

std::pair<Dataset, Dataset> split_holdout(const Dataset& dataset, int64_t holdout, uint64_t seed) {
  if (holdout < 0 || holdout >= dataset.size()) {
    fail("cannot hold out {} of the {} images of {}: need 0 <= held-out count < images", holdout,
         dataset.size(), dataset.name);
  }
  const std::vector<int64_t> held = choose_sorted(dataset.size(), holdout, seed);
  return {select_images(dataset, all_but(dataset.size(), held)), select_images(dataset, held)};
}

std::pair<Dataset, Dataset> holdout_images(const Dataset& train, int64_t n, uint64_t seed) {
  if (n <= 0 || n >= train.size())
    fail("--holdout must be between 1 and {} (the training split has {} images), got {}",
         train.size() - 1, train.size(), n);
  return split_holdout(train, n, seed ^ kHoldoutSalt);
}

}  // namespace fames
