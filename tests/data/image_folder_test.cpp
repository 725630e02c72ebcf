// ImageFolder loading on tiny JPEG/PNG fixtures: pixel layout, class order, channel handling,
// normalization, CIFAR-10 given as an ImageFolder, and every bad-input error.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "data/dataset.h"
#include "data/image_codec.h"
#include "fixtures.h"
#include "util/error.h"

namespace fames {
namespace {

using testing_data::expect_error_mentions;
namespace fs = std::filesystem;

constexpr int kW = 6, kH = 4;

// An RGB pattern where every channel, row and column differs: (10y + x + s, 100 + y + s, 200 + x +
// s).
std::vector<uint8_t> rgb_pattern(int seed) {
  std::vector<uint8_t> hwc;
  for (int y = 0; y < kH; ++y) {
    for (int x = 0; x < kW; ++x) {
      hwc.push_back(uint8_t(10 * y + x + seed));
      hwc.push_back(uint8_t(100 + y + seed));
      hwc.push_back(uint8_t(200 + x + seed));
    }
  }
  return hwc;
}

std::vector<uint8_t> gray_pattern(int seed) {
  std::vector<uint8_t> hw;
  for (int y = 0; y < kH; ++y) {
    for (int x = 0; x < kW; ++x) hw.push_back(uint8_t(20 * y + 3 * x + seed));
  }
  return hw;
}

// Expects image `i` of `d` to hold the RGB pattern `seed` in CHW order, within `tolerance`.
void expect_rgb_image(const Dataset& d, int64_t i, int seed, int tolerance) {
  const std::vector<uint8_t> hwc = rgb_pattern(seed);
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < kW * kH; ++p) {
      ASSERT_NEAR(d.image(i)[c * kW * kH + p], hwc[3 * p + c], tolerance)
          << "image " << i << " channel " << c << " pixel " << p;
    }
  }
}

// root/{train,test}/{cat,dog}: train cat = 2 PNGs, train dog = 1 JPEG + 1 gray PNG, test = 1 each.
std::string write_split_folder(const std::string& name) {
  const std::string root = testing_data::fresh_dir(name);
  testing_data::write_png(root + "/train/cat/b.png", kW, kH, 3, rgb_pattern(2));
  testing_data::write_png(root + "/train/cat/a.png", kW, kH, 3, rgb_pattern(1));
  testing_data::write_jpeg(root + "/train/dog/x.JPG", kW, kH, 3, rgb_pattern(3));
  testing_data::write_png(root + "/train/dog/y.png", kW, kH, 1, gray_pattern(4));
  testing_data::write_bytes(root + "/train/dog/notes.txt", "not an image");
  testing_data::write_png(root + "/test/cat/t.png", kW, kH, 3, rgb_pattern(5));
  testing_data::write_jpeg(root + "/test/dog/u.jpeg", kW, kH, 3, rgb_pattern(6));
  return root;
}

TEST(ImageFolder, SplitsClassesPixelsAndLabels) {
  const std::string root = write_split_folder("folder_ok");
  const Dataset train = load_dataset("imagefolder:" + root, Split::kTrain);
  EXPECT_EQ(train.name, "imagefolder:" + root);
  ASSERT_EQ(train.size(), 4);
  EXPECT_EQ(train.channels, 3);
  EXPECT_EQ(train.height, kH);
  EXPECT_EQ(train.width, kW);
  EXPECT_EQ(train.classes, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(train.labels, (std::vector<int32_t>{0, 0, 1, 1}));
  expect_rgb_image(train, 0, 1, 0);  // a.png sorts before b.png; PNG is lossless
  expect_rgb_image(train, 1, 2, 0);
  expect_rgb_image(train, 2, 3, 3);  // quality-100 4:4:4 JPEG: within a few levels
  // The gray PNG is replicated into all three planes.
  const std::vector<uint8_t> gray = gray_pattern(4);
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < kW * kH; ++p) ASSERT_EQ(train.image(3)[c * kW * kH + p], gray[p]);
  }

  const Dataset test = load_dataset("imagefolder:" + root, Split::kTest);
  ASSERT_EQ(test.size(), 2);
  EXPECT_EQ(test.labels, (std::vector<int32_t>{0, 1}));
  expect_rgb_image(test, 0, 5, 0);
  expect_rgb_image(test, 1, 6, 3);
  // Both splits are normalized with the training images' statistics.
  EXPECT_EQ(test.mean, train.mean);
  EXPECT_EQ(test.stddev, train.stddev);
}

TEST(ImageFolder, NormalizationIsTheTrainingPixelStatistics) {
  const std::string root = write_split_folder("folder_stats");
  const Dataset train = load_dataset("imagefolder:" + root, Split::kTrain);
  const int64_t plane = kW * kH;
  for (int c = 0; c < 3; ++c) {
    double sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < train.size(); ++i) {
      for (int64_t p = 0; p < plane; ++p) {
        const double v = train.image(i)[c * plane + p] / 255.0;
        sum += v;
        sum_sq += v * v;
      }
    }
    const double n = double(plane) * train.size();
    const double mean = sum / n;
    EXPECT_NEAR(train.mean[c], mean, 1e-5) << c;
    EXPECT_NEAR(train.stddev[c], std::sqrt(sum_sq / n - mean * mean), 1e-5) << c;
  }
}

TEST(ImageFolder, GrayscaleFolderWithoutSplitsServesBothSplits) {
  const std::string root = testing_data::fresh_dir("folder_gray");
  testing_data::write_png(root + "/0/a.png", kW, kH, 1, gray_pattern(0));
  testing_data::write_jpeg(root + "/1/b.jpg", kW, kH, 1, gray_pattern(40));
  testing_data::write_png(root + "/1/c.png", kW, kH, 1, gray_pattern(80));
  fs::create_directories(root + "/.hidden");  // ignored, not an empty class
  for (Split split : {Split::kTrain, Split::kTest}) {
    const Dataset d = load_dataset("imagefolder:" + root, split);
    ASSERT_EQ(d.size(), 3);
    EXPECT_EQ(d.channels, 1);
    EXPECT_EQ(d.classes, (std::vector<std::string>{"0", "1"}));
    EXPECT_EQ(d.labels, (std::vector<int32_t>{0, 1, 1}));
    const std::vector<uint8_t> expected = gray_pattern(80);
    EXPECT_EQ(std::vector<uint8_t>(d.image(2), d.image(2) + kW * kH), expected);
    const std::vector<uint8_t> jpeg_expected = gray_pattern(40);
    for (int p = 0; p < kW * kH; ++p) EXPECT_NEAR(d.image(1)[p], jpeg_expected[p], 2);
  }
}

TEST(ImageFolder, CifarSpecAcceptsA32x32Folder) {
  const std::string root = testing_data::fresh_dir("folder_cifar");
  std::vector<uint8_t> hwc(32 * 32 * 3);
  for (size_t k = 0; k < hwc.size(); ++k) hwc[k] = uint8_t(k * 7);
  testing_data::write_png(root + "/train/ship/0.png", 32, 32, 3, hwc);
  testing_data::write_png(root + "/test/ship/0.png", 32, 32, 3, hwc);
  const Dataset d = load_dataset("cifar10:" + root, Split::kTest);
  EXPECT_EQ(d.name, "cifar10");
  EXPECT_EQ(d.size(), 1);
  EXPECT_EQ(d.image(0)[1024 + 1], hwc[3 * 1 + 1]);  // green plane, pixel 1
  EXPECT_FLOAT_EQ(d.mean[0], 0.4914f);
  EXPECT_FLOAT_EQ(d.stddev[2], 0.2616f);

  const std::string small = write_split_folder("folder_cifar_small");
  expect_error_mentions([&] { load_dataset("cifar10:" + small, Split::kTrain); }, "32x32");
}

TEST(ImageFolder, BadInputsNameTheFile) {
  const auto load = [](const std::string& root) {
    return [root] { load_dataset("imagefolder:" + root, Split::kTrain); };
  };
  expect_error_mentions(load("/nonexistent/images"), "/nonexistent/images");

  const std::string no_classes = testing_data::fresh_dir("bad_no_classes");
  testing_data::write_bytes(no_classes + "/README", "x");
  expect_error_mentions(load(no_classes), no_classes);

  std::string root = write_split_folder("bad_empty_class");
  fs::create_directories(root + "/train/emu");
  testing_data::write_bytes(root + "/train/emu/readme.txt", "no images here");
  expect_error_mentions(load(root), root + "/train/emu");

  root = write_split_folder("bad_size");
  testing_data::write_png(root + "/train/dog/z.png", kW + 1, kH, 3,
                          std::vector<uint8_t>((kW + 1) * kH * 3, 9));
  expect_error_mentions(load(root), root + "/train/dog/z.png");

  root = write_split_folder("bad_truncated_jpeg");
  const std::string jpeg = root + "/train/dog/x.JPG";
  const std::string bytes = testing_data::read_bytes(jpeg);
  testing_data::write_bytes(jpeg, bytes.substr(0, bytes.size() * 2 / 3));
  expect_error_mentions(load(root), jpeg);

  root = write_split_folder("bad_garbage_png");
  testing_data::write_bytes(root + "/train/cat/a.png", "definitely not a PNG");
  expect_error_mentions(load(root), root + "/train/cat/a.png");

  root = write_split_folder("bad_truncated_png");
  const std::string png = root + "/train/cat/b.png";
  const std::string png_bytes = testing_data::read_bytes(png);
  testing_data::write_bytes(png, png_bytes.substr(0, png_bytes.size() - 20));
  expect_error_mentions(load(root), png);

  root = write_split_folder("bad_missing_split");
  fs::remove_all(root + "/test");
  expect_error_mentions([root] { load_dataset("imagefolder:" + root, Split::kTest); },
                        root + "/test");

  root = write_split_folder("bad_class_mismatch");
  testing_data::write_png(root + "/test/emu/e.png", kW, kH, 3, rgb_pattern(0));
  expect_error_mentions([root] { load_dataset("imagefolder:" + root, Split::kTest); },
                        root + "/test");
}

TEST(ImageCodec, ReportsNativeChannels) {
  const std::string dir = testing_data::fresh_dir("codec");
  testing_data::write_jpeg(dir + "/c.jpg", kW, kH, 3, rgb_pattern(0));
  testing_data::write_jpeg(dir + "/g.jpg", kW, kH, 1, gray_pattern(0));
  testing_data::write_png(dir + "/g.png", kW, kH, 1, gray_pattern(0));
  const ImageInfo color = read_image_info(testing_data::read_bytes(dir + "/c.jpg"), "c.jpg");
  EXPECT_EQ(color.width, kW);
  EXPECT_EQ(color.height, kH);
  EXPECT_EQ(color.channels, 3);
  EXPECT_EQ(read_image_info(testing_data::read_bytes(dir + "/g.jpg"), "g.jpg").channels, 1);
  EXPECT_EQ(read_image_info(testing_data::read_bytes(dir + "/g.png"), "g.png").channels, 1);
}

// Timing on the real CIFAR-10 JPEG set, when FAMES_CIFAR10_DIR points at its root
// (the folder holding train/ and test/).
TEST(ImageFolder, RealCifar10JpegTrainSplitIfGiven) {
  const char* dir = std::getenv("FAMES_CIFAR10_DIR");
  if (!dir) GTEST_SKIP() << "set FAMES_CIFAR10_DIR to the CIFAR-10 JPEG ImageFolder root";
  const auto start = std::chrono::steady_clock::now();
  const Dataset d = load_dataset(std::string("cifar10:") + dir, Split::kTrain);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(d.size(), 50000);
  EXPECT_EQ(d.classes.size(), 10u);
  std::vector<int> per_class(10, 0);
  for (int32_t label : d.labels) per_class.at(label)++;
  for (int count : per_class) EXPECT_EQ(count, 5000);
  // The training-set pixel statistics agree with the published constants (JPEG loses little).
  const int64_t plane = 32 * 32;
  for (int c = 0; c < 3; ++c) {
    double sum = 0;
    for (int64_t i = 0; i < d.size(); ++i) {
      for (int64_t p = 0; p < plane; ++p) sum += d.image(i)[c * plane + p];
    }
    EXPECT_NEAR(sum / (double(plane) * d.size()) / 255.0, d.mean[c], 0.01) << c;
  }
  std::printf("[ info ] CIFAR-10 JPEG train split (50,000 files) loaded in %.2f s\n", seconds);
}

}  // namespace
}  // namespace fames
