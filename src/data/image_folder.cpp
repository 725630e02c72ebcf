// ImageFolder datasets: ROOT/<class>/<image>, read in parallel. Two passes over the files: the
// first reads every file and its header (to learn the common size and whether any image is in
// colour), the second decodes straight into the dataset's pixel array. The compressed bytes stay
// in memory in between, which is small next to the decoded pixels.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "data/image_codec.h"
#include "data/loaders.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

namespace fs = std::filesystem;

// Normalization statistics come from at most this many training images, spread evenly over the
// (class-sorted) file list: enough for three correct decimals, cheap to decode for the test split.
constexpr int64_t kStatsSampleImages = 2000;
// Refuse datasets whose decoded pixels would not sensibly fit in memory (instead of bad_alloc).
constexpr uint64_t kMaxPixelBytes = uint64_t(32) << 30;


bool is_image_name(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

bool is_hidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

// Decodes `list` into a dataset (pixels, labels, classes, size, channels; no name or stats).
Dataset decode_files(FileList list) {
  const int64_t n = static_cast<int64_t>(list.paths.size());
  std::vector<std::string> contents(n);
  std::vector<ImageInfo> infos(n);
  parallel_for_files(n, [&](int64_t i) {
    contents[i] = read_file(list.paths[i]);
    infos[i] = read_image_info(contents[i], list.paths[i]);
  });

  Dataset dataset;
  dataset.width = infos[0].width;
  dataset.height = infos[0].height;
  dataset.channels = 1;
  for (int64_t i = 0; i < n; ++i) {
    if (infos[i].width != dataset.width || infos[i].height != dataset.height) {
      fail("{} is {}x{} but {} is {}x{}; all images of a dataset must share one size",
           list.paths[i], infos[i].width, infos[i].height, list.paths[0], dataset.width,
           dataset.height);
    }
    dataset.channels = std::max<int64_t>(dataset.channels, infos[i].channels);
  }
  const uint64_t total = uint64_t(n) * dataset.image_bytes();
  if (total > kMaxPixelBytes) {
    fail("{} images of {}x{}x{} would need {} GiB of memory decoded; use a smaller folder", n,
         dataset.channels, dataset.height, dataset.width, total >> 30);
  }
  dataset.pixels.resize(total);
  const int64_t image_bytes = dataset.image_bytes();
  parallel_for_files(n, [&](int64_t i) {
    thread_local std::vector<uint8_t> scratch;
    decode_image_chw(contents[i], list.paths[i], static_cast<int>(dataset.channels),
                     static_cast<int>(dataset.width), static_cast<int>(dataset.height),
                     dataset.pixels.data() + i * image_bytes, scratch);
    std::string().swap(contents[i]);  // release compressed bytes early
  });
  dataset.classes = std::move(list.classes);
  dataset.labels = std::move(list.labels);
  return dataset;
}

}  // namespace

// The folder holding the class folders for `split`: ROOT/train or ROOT/test when either exists,
// otherwise ROOT itself (a single-split dataset used for both splits).
std::string split_folder(const std::string& root, Split split) {
  if (!fs::is_directory(root)) fail("image folder {} not found (or not a directory)", root);
  if (!fs::is_directory(root + "/train") && !fs::is_directory(root + "/test")) return root;
  const std::string folder = root + "/" + split_name(split);
  if (!fs::is_directory(folder)) {
    fail("{} not found: the image folder {} has a train/ or test/ subfolder, so it needs both",
         folder, root);
  }
  return folder;
}

// Class folders sorted by name (labels 0..k-1), image files in each sorted by name. Files with
// other extensions and hidden entries are ignored; an empty class folder is an error.
FileList list_image_files(const std::string& folder) {
  FileList list;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.is_directory() && !is_hidden(entry.path())) {
      list.classes.push_back(entry.path().filename().string());
    }
  }
  if (ec) fail("cannot list the image folder {}: {}", folder, ec.message());
  if (list.classes.empty()) fail("image folder {} has no class subfolders", folder);
  std::sort(list.classes.begin(), list.classes.end());
  for (size_t label = 0; label < list.classes.size(); ++label) {
    const std::string class_folder = folder + "/" + list.classes[label];
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(class_folder, ec)) {
      if (entry.is_regular_file() && !is_hidden(entry.path()) && is_image_name(entry.path())) {
        files.push_back(entry.path().string());
      }
    }
    if (ec) fail("cannot list the class folder {}: {}", class_folder, ec.message());
    if (files.empty()) fail("class folder {} holds no .jpg, .jpeg or .png images", class_folder);
    std::sort(files.begin(), files.end());
    list.paths.insert(list.paths.end(), files.begin(), files.end());
    list.labels.insert(list.labels.end(), files.size(), static_cast<int32_t>(label));
  }
  return list;
}

// Indices of the images that define the normalization statistics: evenly spread, deterministic.
std::vector<int64_t> stats_sample(int64_t n) {
  const int64_t k = std::min(n, kStatsSampleImages);
  std::vector<int64_t> indices(k);
  for (int64_t i = 0; i < k; ++i) indices[i] = i * n / k;
  return indices;
}

void ChannelSums::add(const uint8_t* chw, int64_t channels, int64_t plane) {
  for (int64_t c = 0; c < channels && c < 3; ++c) {
    const uint8_t* p = chw + c * plane;
    for (int64_t k = 0; k < plane; ++k) {
      sum[c] += p[k];
      squares[c] += uint64_t(p[k]) * p[k];
    }
  }
  values += plane;
}

void ChannelSums::finish(int64_t channels, std::array<float, 3>& mean, std::array<float, 3>& stddev) const {
  for (int64_t c = 0; c < channels && c < 3; ++c) {
    const double count = double(values);
    const double m = count > 0 ? sum[c] / count : 0.0;
    const double variance = count > 0 ? std::max(0.0, squares[c] / count - m * m) : 0.0;
    mean[c] = static_cast<float>(m / 255.0);
    // A constant channel would divide by zero downstream; fall back to 1 (no scaling).
    const double sd = std::sqrt(variance) / 255.0;
    stddev[c] = sd > 1e-6 ? static_cast<float>(sd) : 1.0f;
  }
  for (int64_t c = channels; c < 3; ++c) {
    mean[c] = mean[0];
    stddev[c] = stddev[0];
  }
}

void compute_channel_stats(const Dataset& dataset, const std::vector<int64_t>& indices,
                           std::array<float, 3>& mean, std::array<float, 3>& stddev) {
  // Integer sums are exact; a 32 GiB dataset of 255s stays far below 2^63.
  ChannelSums sums;
  for (int64_t index : indices) sums.add(dataset.image(index), dataset.channels, dataset.height * dataset.width);
  sums.finish(dataset.channels, mean, stddev);
}

Dataset load_image_folder(const std::string& root, Split split) {
  const std::string folder = split_folder(root, split);
  Dataset dataset = decode_files(list_image_files(folder));
  dataset.name = "imagefolder:" + root;

  // Normalization always comes from the training images, so both splits get the same constants.
  const std::string train_folder = split_folder(root, Split::kTrain);
  if (train_folder == folder) {
    compute_channel_stats(dataset, stats_sample(dataset.size()), dataset.mean, dataset.stddev);
  } else {
    FileList train = list_image_files(train_folder);
    if (train.classes != dataset.classes) {
      fail("the class folders of {} differ from those of {}; both splits need the same classes",
           folder, train_folder);
    }
    FileList sample;
    sample.classes = train.classes;
    for (int64_t index : stats_sample(static_cast<int64_t>(train.paths.size()))) {
      sample.paths.push_back(train.paths[index]);
      sample.labels.push_back(train.labels[index]);
    }
    const Dataset train_sample = decode_files(std::move(sample));
    std::vector<int64_t> all(train_sample.size());
    for (int64_t i = 0; i < train_sample.size(); ++i) all[i] = i;
    compute_channel_stats(train_sample, all, dataset.mean, dataset.stddev);
  }
  return dataset;
}

}  // namespace fames
