// Fashion-MNIST (gzipped IDX) and CIFAR-10 binary loaders on tiny fixtures, their bad-input
// errors, and the real Fashion-MNIST test split when the Debian package is installed.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "data/dataset.h"
#include "fixtures.h"
#include "util/error.h"

namespace fames {
namespace {

using testing_data::expect_error_mentions;
namespace fs = std::filesystem;

constexpr uint32_t kRows = 4, kCols = 3;

uint8_t idx_pixel(uint32_t image, uint32_t y, uint32_t x) {
  return static_cast<uint8_t>(image * 37 + y * 5 + x * 11 + 1);
}

// Writes `count` images with labels (i * 3) % 10 for one split prefix ("train" or "t10k").
void write_idx_split(const std::string& dir, const std::string& prefix, uint32_t count,
                     bool gzip = true) {
  std::vector<uint8_t> pixels, labels;
  for (uint32_t i = 0; i < count; ++i) {
    for (uint32_t y = 0; y < kRows; ++y) {
      for (uint32_t x = 0; x < kCols; ++x) pixels.push_back(idx_pixel(i, y, x));
    }
    labels.push_back(static_cast<uint8_t>((i * 3) % 10));
  }
  const std::string images = testing_data::idx_bytes({count, kRows, kCols}, pixels);
  const std::string label_file = testing_data::idx_bytes({count}, labels);
  if (gzip) {
    testing_data::write_gzip(dir + "/" + prefix + "-images-idx3-ubyte.gz", images);
    testing_data::write_gzip(dir + "/" + prefix + "-labels-idx1-ubyte.gz", label_file);
  } else {
    testing_data::write_bytes(dir + "/" + prefix + "-images-idx3-ubyte", images);
    testing_data::write_bytes(dir + "/" + prefix + "-labels-idx1-ubyte", label_file);
  }
}

void expect_idx_contents(const Dataset& d, uint32_t count) {
  ASSERT_EQ(d.size(), count);
  EXPECT_EQ(d.name, "fashion-mnist");
  EXPECT_EQ(d.channels, 1);
  EXPECT_EQ(d.height, kRows);
  EXPECT_EQ(d.width, kCols);
  ASSERT_EQ(d.classes.size(), 10u);
  EXPECT_EQ(d.classes[9], "Ankle boot");
  EXPECT_FLOAT_EQ(d.mean[0], 0.2860f);
  EXPECT_FLOAT_EQ(d.stddev[0], 0.3530f);
  ASSERT_EQ(d.pixels.size(), size_t(count) * kRows * kCols);
  for (uint32_t i = 0; i < count; ++i) {
    EXPECT_EQ(d.labels[i], int32_t((i * 3) % 10));
    for (uint32_t y = 0; y < kRows; ++y) {
      for (uint32_t x = 0; x < kCols; ++x) {
        ASSERT_EQ(d.image(i)[y * kCols + x], idx_pixel(i, y, x)) << i << " " << y << " " << x;
      }
    }
  }
}

TEST(FashionMnist, ReadsGzippedIdxBothSplits) {
  const std::string dir = testing_data::fresh_dir("idx_ok");
  write_idx_split(dir, "train", 7);
  write_idx_split(dir, "t10k", 3);
  expect_idx_contents(load_dataset("fashion-mnist:" + dir, Split::kTrain), 7);
  expect_idx_contents(load_dataset("fashion-mnist:" + dir, Split::kTest), 3);
}

TEST(FashionMnist, ReadsUncompressedIdx) {
  const std::string dir = testing_data::fresh_dir("idx_plain");
  write_idx_split(dir, "t10k", 4, /*gzip=*/false);
  expect_idx_contents(load_dataset("fashion-mnist:" + dir, Split::kTest), 4);
}

TEST(FashionMnist, MissingDirectoryAndFiles) {
  expect_error_mentions([] { load_dataset("fashion-mnist:/nonexistent/fmnist", Split::kTest); },
                        "/nonexistent/fmnist");
  const std::string dir = testing_data::fresh_dir("idx_missing");
  write_idx_split(dir, "t10k", 2);
  fs::remove(dir + "/t10k-labels-idx1-ubyte.gz");
  expect_error_mentions([&] { load_dataset("fashion-mnist:" + dir, Split::kTest); },
                        "t10k-labels-idx1-ubyte");
  expect_error_mentions([&] { load_dataset("fashion-mnist:" + dir, Split::kTrain); },
                        "train-images-idx3-ubyte");
}

TEST(FashionMnist, WrongMagicWrongSizesAndBadLabels) {
  const std::string dir = testing_data::fresh_dir("idx_bad");
  const std::string images = dir + "/t10k-images-idx3-ubyte.gz";
  const std::string labels = dir + "/t10k-labels-idx1-ubyte.gz";
  const auto load = [&] { load_dataset("fashion-mnist:" + dir, Split::kTest); };
  write_idx_split(dir, "t10k", 2);

  // A label file where the image file belongs: one dimension instead of three.
  testing_data::write_gzip(images, testing_data::idx_bytes({2}, {0, 1}));
  expect_error_mentions(load, images);
  // Header promises 3 images, data holds 2.
  testing_data::write_gzip(
      images, testing_data::idx_bytes({3, kRows, kCols}, std::vector<uint8_t>(2 * kRows * kCols)));
  expect_error_mentions(load, images);
  // Trailing garbage after the array.
  testing_data::write_gzip(
      images,
      testing_data::idx_bytes({2, kRows, kCols}, std::vector<uint8_t>(2 * kRows * kCols + 1)));
  expect_error_mentions(load, images);
  // Header cut short.
  testing_data::write_gzip(images, std::string("\0\0\x08\x03\0\0", 6));
  expect_error_mentions(load, images);

  write_idx_split(dir, "t10k", 2);
  testing_data::write_gzip(labels, testing_data::idx_bytes({3}, {0, 1, 2}));  // 3 labels, 2 images
  expect_error_mentions(load, labels);
  testing_data::write_gzip(labels, testing_data::idx_bytes({2}, {0, 10}));  // label 10 of 0..9
  expect_error_mentions(load, labels);
}

TEST(FashionMnist, TruncatedAndCorruptGzip) {
  const std::string dir = testing_data::fresh_dir("idx_gzip");
  const std::string images = dir + "/t10k-images-idx3-ubyte.gz";
  const auto load = [&] { load_dataset("fashion-mnist:" + dir, Split::kTest); };
  write_idx_split(dir, "t10k", 50);
  const std::string good = testing_data::read_bytes(images);
  ASSERT_GT(good.size(), 40u);

  testing_data::write_bytes(images, good.substr(0, good.size() / 2));
  expect_error_mentions(load, images);

  std::string corrupt = good;
  for (size_t i = 12; i < corrupt.size() - 8; i += 3) corrupt[i] = static_cast<char>(~corrupt[i]);
  testing_data::write_bytes(images, corrupt);
  expect_error_mentions(load, images);
}

TEST(FashionMnist, RealTestSplitIfInstalled) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist")) GTEST_SKIP() << "dataset not installed";
  const auto start = std::chrono::steady_clock::now();
  const Dataset d = load_dataset("fashion-mnist", Split::kTest);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(d.size(), 10000);
  EXPECT_EQ(d.channels, 1);
  EXPECT_EQ(d.height, 28);
  EXPECT_EQ(d.width, 28);
  EXPECT_EQ(d.classes.size(), 10u);
  // The published test split is balanced: 1,000 images per class.
  std::vector<int> per_class(10, 0);
  for (int32_t label : d.labels) per_class.at(label)++;
  for (int count : per_class) EXPECT_EQ(count, 1000);
  // Pixel mean over the test split is close to the training-set constant 0.2860.
  double sum = 0;
  for (uint8_t p : d.pixels) sum += p;
  EXPECT_NEAR(sum / d.pixels.size() / 255.0, 0.286, 0.01);
  std::printf("[ info ] Fashion-MNIST test split loaded in %.3f s\n", seconds);
}

// --- CIFAR-10 binary batches ---

uint8_t cifar_pixel(int record, int c, int k) {
  return static_cast<uint8_t>(record * 7 + c * 50 + k);
}

std::vector<uint8_t> cifar_chw(int record) {
  std::vector<uint8_t> chw(3 * 1024);
  for (int c = 0; c < 3; ++c) {
    for (int k = 0; k < 1024; ++k) chw[c * 1024 + k] = cifar_pixel(record, c, k);
  }
  return chw;
}

// Five training batches of 2 records and a test batch of 3; record r has label r % 10.
std::string write_cifar_batches(const std::string& name) {
  const std::string dir = testing_data::fresh_dir(name) + "/cifar-10-batches-bin";
  int record = 0;
  for (int b = 1; b <= 5; ++b) {
    std::string batch;
    for (int k = 0; k < 2; ++k, ++record)
      batch += testing_data::cifar_record(record % 10, cifar_chw(record));
    testing_data::write_bytes(dir + "/data_batch_" + std::to_string(b) + ".bin", batch);
  }
  std::string test;
  for (int k = 0; k < 3; ++k) test += testing_data::cifar_record(9 - k, cifar_chw(100 + k));
  testing_data::write_bytes(dir + "/test_batch.bin", test);
  testing_data::write_bytes(
      dir + "/batches.meta.txt",
      "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
  return dir;
}

TEST(Cifar10Binary, ReadsBatchesInOrder) {
  const std::string dir = write_cifar_batches("cifar_ok");
  const testing_data::ValidationImages none(0);  // every training file, in order
  for (const std::string& spec :
       {"cifar10:" + dir, "cifar10:" + fs::path(dir).parent_path().string()}) {
    const Dataset train = load_dataset(spec, Split::kTrain);
    ASSERT_EQ(train.size(), 10);
    EXPECT_EQ(train.name, "cifar10");
    EXPECT_EQ(train.channels, 3);
    EXPECT_EQ(train.height, 32);
    EXPECT_EQ(train.width, 32);
    ASSERT_EQ(train.classes.size(), 10u);
    EXPECT_EQ(train.classes[0], "airplane");
    EXPECT_EQ(train.classes[9], "truck");
    EXPECT_FLOAT_EQ(train.mean[2], 0.4465f);
    EXPECT_FLOAT_EQ(train.stddev[1], 0.2435f);
    for (int r = 0; r < 10; ++r) {
      EXPECT_EQ(train.labels[r], r % 10);
      EXPECT_EQ(std::vector<uint8_t>(train.image(r), train.image(r) + 3072), cifar_chw(r)) << r;
    }
  }
  const Dataset test = load_dataset("cifar10:" + dir, Split::kTest);
  ASSERT_EQ(test.size(), 3);
  EXPECT_EQ(test.labels, (std::vector<int32_t>{9, 8, 7}));
  EXPECT_EQ(test.image(2)[1024 + 5], cifar_pixel(102, 1, 5));
}

TEST(Cifar10Binary, TruncatedMissingAndBadLabel) {
  const std::string dir = write_cifar_batches("cifar_bad");
  const std::string batch3 = dir + "/data_batch_3.bin";
  const std::string test = dir + "/test_batch.bin";
  std::string bytes = testing_data::read_bytes(batch3);
  testing_data::write_bytes(batch3, bytes.substr(0, bytes.size() - 100));
  expect_error_mentions([&] { load_dataset("cifar10:" + dir, Split::kTrain); }, batch3);
  fs::remove(batch3);
  expect_error_mentions([&] { load_dataset("cifar10:" + dir, Split::kTrain); }, batch3);

  testing_data::write_bytes(test, testing_data::cifar_record(10, cifar_chw(0)));
  expect_error_mentions([&] { load_dataset("cifar10:" + dir, Split::kTest); }, test);
  testing_data::write_bytes(test, "");
  expect_error_mentions([&] { load_dataset("cifar10:" + dir, Split::kTest); }, test);
}

TEST(Cifar10, MissingOrUnrecognisedDirectory) {
  expect_error_mentions([] { load_dataset("cifar10:/nonexistent/cifar", Split::kTrain); },
                        "/nonexistent/cifar");
  const std::string empty = testing_data::fresh_dir("cifar_empty");
  expect_error_mentions([&] { load_dataset("cifar10:" + empty, Split::kTrain); }, empty);
}

TEST(DatasetSpec, UnknownSpecsAndSplits) {
  expect_error_mentions([] { load_dataset("mnist", Split::kTrain); }, "--data");
  expect_error_mentions([] { load_dataset("cifar10", Split::kTrain); }, "cifar10:DIR");
  expect_error_mentions([] { load_dataset("imagefolder:", Split::kTrain); }, "imagefolder:DIR");
  EXPECT_EQ(parse_split("train"), Split::kTrain);
  EXPECT_EQ(parse_split("test"), Split::kTest);
  EXPECT_EQ(parse_split("val"), Split::kVal);
  expect_error_mentions([] { parse_split("validation"); }, "--split");
  EXPECT_STREQ(split_name(Split::kTest), "test");
}

}  // namespace
}  // namespace fames
