// Image-classification datasets held in memory as uint8 pixels, loaded from one spec string.
//
// Contract:
// - A Dataset owns its pixels: n images stored one after another, each CHW (channel planes, then
//   rows, then columns), values 0..255. labels[i] is in [0, classes.size()).
// - mean/stddev are the per-channel normalization constants in 0..1 units (pixel/255); the
//   consumer computes (pixel/255 - mean[c]) / stddev[c]. Only the first `channels` entries matter.
// - Every loader decodes everything once, up front; nothing is read lazily afterwards. Except
//   streaming datasets ("stream:DIR", data/image_stream.h): `stream` is set, `pixels` stays empty
//   and image() must not be called; models::make_batch decodes their images when it needs them.
// - Bad input (missing or truncated files, wrong magic numbers, undecodable images, empty class
//   folders, unknown specs) throws fames::Error naming the file or flag. Nothing else is thrown.
// - Functions are thread-safe (no shared state); loading uses OpenMP internally.
// The spec strings are described in docs/formats.md, section "Datasets".
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fames {

struct ImageStream;  // data/image_stream.h

struct Dataset {
  std::string name;  // "fashion-mnist", "cifar10" or "imagefolder:<dir>"
  int64_t channels = 0, height = 0, width = 0;
  std::vector<std::string> classes;      // label -> class name
  std::vector<uint8_t> pixels;           // [n][channels][height][width]
  std::vector<int32_t> labels;           // [n]
  std::array<float, 3> mean{0, 0, 0};    // per channel, 0..1 units
  std::array<float, 3> stddev{1, 1, 1};  // per channel, 0..1 units, > 0
  // Training images that load_dataset() kept out of this set for the validation split (kTrain
  // only; 0 otherwise), recorded by train and quantize so a model says which split it never saw.
  int64_t validation_excluded = 0;
  std::shared_ptr<const ImageStream> stream;  // streaming datasets only: the files, decoded on demand

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t image_bytes() const { return channels * height * width; }
  // Start of image i (CHW). REQUIRES 0 <= i < size() and an in-memory dataset (no stream).
  const uint8_t* image(int64_t i) const { return pixels.data() + i * image_bytes(); }
};

// kTrain and kVal partition the dataset's training files: kVal is the validation split, a fixed,
// seeded, class-balanced subset that training never sees and that every accuracy-judged choice
// uses; kTrain is the rest. kTest is the test files, for final figures only.
enum class Split { kTrain, kVal, kTest };

// "train", "val", "test"; anything else throws fames::Error naming --split.
Split parse_split(const std::string& text);
const char* split_name(Split split);

// How many training files form the validation split, for every load_dataset() in this process:
// kValidationTenth (the default) takes a tenth of them (5,000 of CIFAR-10's 50,000, 6,000 of
// Fashion-MNIST's 60,000), 0 none (kTrain is then every training file and kVal is an error).
// Each class gives its share in proportion to its size; which images is fixed by a constant seed,
// so every command and every run sees the same split. Set once (the CLI's --validation-images)
// before any dataset is loaded; throws fames::Error naming the flag for a negative count other
// than kValidationTenth.
constexpr int64_t kValidationTenth = -1;
void set_validation_images(int64_t count);
int64_t validation_images();
// The validation image count for a training split of `train_files` images under the setting.
int64_t validation_count(int64_t train_files);

// Loads one split of the dataset named by `spec` (the --data flag):
//   "fashion-mnist"          the gzipped IDX files in /usr/share/datasets/fashion-mnist
//   "fashion-mnist:DIR"      the same four files in DIR (".gz" optional)
//   "cifar10:DIR"            cifar-10-batches-bin (DIR itself or DIR/cifar-10-batches-bin), or an
//                            ImageFolder root DIR with train/ and test/ holding the CIFAR-10 JPEGs
//   "imagefolder:DIR"        DIR/<class>/*.jpg|*.jpeg|*.png, classes sorted by name give labels;
//                            with DIR/train and DIR/test the split picks one, otherwise DIR is
//                            used for both splits
//   "stream[@C[/R]]:DIR"     the same folder streamed: images of any size, decoded per batch,
//                            resized and cropped to C x C (data/image_stream.h)
// kTrain and kVal both read the training files and keep their own part (see Split).
// Throws fames::Error for unknown specs (naming --data) and for any bad input file, and for kVal
// when the validation split is empty (naming --validation-images).
Dataset load_dataset(const std::string& spec, Split split);

// The default spec ("fashion-mnist") and the names accepted before the colon, for help texts.
extern const char* const kDefaultDatasetSpec;
std::string dataset_spec_help();

// A deterministic random subset of `limit` images (limit <= 0 or >= size(): a copy of all).
// The same (dataset, limit, seed) always gives the same images on every platform; the chosen
// images keep their original relative order.
Dataset subset(const Dataset& dataset, int64_t limit, uint64_t seed);

// Splits a training set into (train part, held-out part) with `holdout` images drawn by a seeded
// shuffle; the two parts are disjoint and together hold every image once, each in original order.
// REQUIRES 0 <= holdout < size(); otherwise throws fames::Error.
std::pair<Dataset, Dataset> split_holdout(const Dataset& dataset, int64_t holdout, uint64_t seed);

// The held-out images: split_holdout() of the training split with a seed derived from `seed` and
// salted, so that they are not the first images `fames estimate --seed S` draws for the same S.
// Returns (rest, held-out). REQUIRES 0 < n < train.size(), else throws fames::Error naming --holdout.
std::pair<Dataset, Dataset> holdout_images(const Dataset& train, int64_t n, uint64_t seed);

// The images the stages learn from and the `n` images they judge their choices on (accuracy bounds,
// early stopping, the GA's fitness, the sweep), drawn with `seed`. With a validation split:
// (the training split, n images of the validation split, n <= 0 meaning all of them), which no model
// trained on; with none (--validation-images 0): holdout_images() of the training split (n <= 0:
// kDefaultHoldout of them, at most a fifth of the split), as before the split existed. `judged_on` says which ("val" or "train").
// Throws fames::Error naming --holdout when n does not fit.
constexpr int64_t kDefaultHoldout = 1000;
struct JudgingSplit {
  Dataset learn, judge;
  std::string judged_on;
};
JudgingSplit judging_split(const std::string& spec, int64_t n, uint64_t seed);

// A copy of `dataset` holding only the images at `indices` (in that order), same metadata (for a
// streaming dataset: their files).
// REQUIRES every index in [0, size()).
Dataset select_images(const Dataset& dataset, const std::vector<int64_t>& indices);

}  // namespace fames
