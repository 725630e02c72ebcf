// CIFAR-10 in its binary release (cifar-10-batches-bin): each batch file is a run of 3073-byte
// records, one label byte (0..9) followed by a 32x32 image stored as R, G and B planes -- already
// the CHW layout of Dataset. batches.meta.txt lists the class names, one per line.
#include <filesystem>

#include "data/loaders.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kCifarSide = 32, kCifarChannels = 3;
constexpr int64_t kCifarImageBytes = kCifarChannels * kCifarSide * kCifarSide;
constexpr int64_t kCifarRecordBytes = 1 + kCifarImageBytes;
static_assert(kCifarRecordBytes == 3073, "CIFAR-10 binary record: 1 label byte + 3072 pixels");

const std::vector<std::string> kCifarClasses = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                "dog",      "frog",       "horse", "ship", "truck"};

// The class names from batches.meta.txt (blank lines ignored), or the standard ten if absent.
std::vector<std::string> read_cifar_classes(const std::string& batch_dir) {
  const std::string path = batch_dir + "/batches.meta.txt";
  if (!file_exists(path)) return kCifarClasses;
  std::vector<std::string> classes;
  std::string text = read_file(path), line;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) classes.push_back(line);
    start = end + 1;
  }
  if (classes.empty()) fail("{} lists no class names", path);
  return classes;
}

void append_batch(const std::string& path, Dataset& dataset) {
  const std::string bytes = read_file(path);
  const int64_t size = static_cast<int64_t>(bytes.size());
  if (size == 0 || size % kCifarRecordBytes != 0) {
    fail(
        "{} is truncated or not a CIFAR-10 batch: {} bytes is not a whole number of {}-byte "
        "records",
        path, size, kCifarRecordBytes);
  }
  const int64_t records = size / kCifarRecordBytes;
  const size_t old_pixels = dataset.pixels.size();
  dataset.pixels.resize(old_pixels + records * kCifarImageBytes);
  for (int64_t r = 0; r < records; ++r) {
    const char* record = bytes.data() + r * kCifarRecordBytes;
    const auto label = static_cast<unsigned char>(record[0]);
    if (label >= dataset.classes.size()) {
      fail("{}: record {} has label {} but there are only {} classes", path, r, label,
           dataset.classes.size());
    }
    dataset.labels.push_back(label);
    std::copy(record + 1, record + kCifarRecordBytes,
              dataset.pixels.begin() + old_pixels + r * kCifarImageBytes);
  }
}

}  // namespace

bool try_load_cifar_binary(const std::string& dir, Split split, Dataset& out) {
  std::string batch_dir;
  for (const std::string& candidate : {dir, dir + "/cifar-10-batches-bin"}) {
    if (fs::exists(candidate + "/data_batch_1.bin") || fs::exists(candidate + "/test_batch.bin")) {
      batch_dir = candidate;
      break;
    }
  }
  if (batch_dir.empty()) return false;

  Dataset dataset;
  dataset.name = "cifar10";
  dataset.channels = kCifarChannels;
  dataset.height = dataset.width = kCifarSide;
  dataset.classes = read_cifar_classes(batch_dir);
  std::vector<std::string> files;
  if (split == Split::kTrain) {
    for (int b = 1; b <= 5; ++b)
      files.push_back(batch_dir + "/data_batch_" + std::to_string(b) + ".bin");
  } else {
    files.push_back(batch_dir + "/test_batch.bin");
  }
  for (const std::string& file : files) {
    if (!fs::exists(file)) fail("CIFAR-10 batch file {} not found", file);
    append_batch(file, dataset);
  }
  set_cifar10_normalization(dataset);
  out = std::move(dataset);
  return true;
}

void set_cifar10_normalization(Dataset& dataset) {
  // The widely used CIFAR-10 training-set statistics.
  dataset.mean = {0.4914f, 0.4822f, 0.4465f};
  dataset.stddev = {0.2470f, 0.2435f, 0.2616f};
}

}  // namespace fames
