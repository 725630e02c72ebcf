// Streaming ImageFolder (data/image_stream.h) on small JPEG/PNG fixtures: identical pixels and
// normalization to the in-memory ImageFolder when no resizing is asked for, the evaluation
// transform on images of other sizes, the training transform's determinism, subsets, bad specs.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "data/dataset.h"
#include "data/image_stream.h"
#include "fixtures.h"
#include "util/error.h"

namespace fames {
namespace {

using testing_data::expect_error_mentions;

// A 3-channel pattern that differs in every pixel and channel, width w, height h.
std::vector<uint8_t> pattern(int w, int h, int seed) {
  std::vector<uint8_t> hwc;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) hwc.push_back(static_cast<uint8_t>((7 * x + 13 * y + 50 * c + seed) % 256));
  return hwc;
}

// Folder with train/ and test/, two classes, square `side` images (PNG and JPEG mixed).
std::string square_folder(const std::string& name, int side) {
  const std::string root = testing_data::fresh_dir(name);
  int seed = 0;
  for (const char* split : {"train", "test"})
    for (const char* cls : {"a", "b"})
      for (int i = 0; i < 3; ++i, ++seed) {
        const std::string path = root + "/" + split + "/" + cls + "/" + std::to_string(i);
        if (i % 2) {
          testing_data::write_png(path + ".png", side, side, 3, pattern(side, side, seed));
        } else {
          testing_data::write_jpeg(path + ".jpg", side, side, 3, pattern(side, side, seed));
        }
      }
  return root;
}

std::vector<uint8_t> stream_pixels(const Dataset& d, std::mt19937_64* rng = nullptr) {
  std::vector<int64_t> all(d.size());
  for (int64_t i = 0; i < d.size(); ++i) all[i] = i;
  std::vector<uint8_t> out(static_cast<size_t>(d.size() * d.image_bytes()));
  read_stream_images(d, all, rng, out.data());
  return out;
}

TEST(ImageStream, WithoutResizingGivesTheInMemoryFolderExactly) {
  const std::string root = square_folder("stream_same", 16);
  for (Split split : {Split::kTrain, Split::kTest}) {
    const Dataset memory = load_dataset("imagefolder:" + root, split);
    const Dataset stream = load_dataset("stream@16/16:" + root, split);
    ASSERT_TRUE(stream.stream);
    EXPECT_TRUE(stream.pixels.empty());
    EXPECT_EQ(stream.labels, memory.labels);
    EXPECT_EQ(stream.classes, memory.classes);
    EXPECT_EQ(stream.mean, memory.mean);
    EXPECT_EQ(stream.stddev, memory.stddev);
    EXPECT_EQ(stream_pixels(stream), memory.pixels);
  }
}

TEST(ImageStream, EvaluationTransformResizesTheShorterSideAndCropsTheCentre) {
  const std::string root = testing_data::fresh_dir("stream_sizes");
  // A uniform colour stays that colour; a wide image keeps its centre.
  testing_data::write_png(root + "/flat/0.png", 40, 24, 3, std::vector<uint8_t>(40 * 24 * 3, 77));
  std::vector<uint8_t> halves(60 * 20 * 3);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 60; ++x)
      for (int c = 0; c < 3; ++c) halves[(y * 60 + x) * 3 + c] = x < 20 || x >= 40 ? 0 : 200;  // bright middle third
  testing_data::write_png(root + "/wide/0.png", 60, 20, 3, halves);
  const Dataset d = load_dataset("stream@10/10:" + root, Split::kTest);
  ASSERT_EQ(d.size(), 2);
  EXPECT_EQ(d.height, 10);
  const std::vector<uint8_t> px = stream_pixels(d);
  for (int64_t k = 0; k < 300; ++k) EXPECT_EQ(px[k], 77) << k;
  // The 60x20 image scales to 30x10; its centre 10x10 is the bright middle third.
  for (int64_t k = 300; k < 600; ++k) EXPECT_EQ(px[k], 200) << k;
}

TEST(ImageStream, TrainingTransformIsDeterministicAndStaysInsideTheImage) {
  const std::string root = square_folder("stream_train", 24);
  const Dataset d = load_dataset("stream@12/12:" + root, Split::kTrain);
  std::mt19937_64 a(5), b(5), c(6);
  const std::vector<uint8_t> first = stream_pixels(d, &a), again = stream_pixels(d, &b), other = stream_pixels(d, &c);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
  EXPECT_EQ(a(), b()) << "the rng advanced differently";
  // A uniform image stays uniform under any crop and flip.
  const std::string flat = testing_data::fresh_dir("stream_train_flat");
  testing_data::write_jpeg(flat + "/x/0.jpg", 50, 30, 3, std::vector<uint8_t>(50 * 30 * 3, 120));
  const Dataset f = load_dataset("stream@8/8:" + flat, Split::kTrain);
  for (int seed = 0; seed < 20; ++seed) {
    std::mt19937_64 rng(seed);
    for (uint8_t v : stream_pixels(f, &rng)) ASSERT_NEAR(v, 120, 1) << seed;
  }
}

TEST(ImageStream, SubsetsKeepTheirFiles) {
  const std::string root = square_folder("stream_subset", 8);
  const Dataset d = load_dataset("stream@8/8:" + root, Split::kTrain);
  const Dataset memory = load_dataset("imagefolder:" + root, Split::kTrain);
  const Dataset picked = select_images(d, {4, 1});
  ASSERT_TRUE(picked.stream);
  EXPECT_EQ(picked.labels, (std::vector<int32_t>{d.labels[4], d.labels[1]}));
  const std::vector<uint8_t> px = stream_pixels(picked);
  const int64_t n = memory.image_bytes();
  EXPECT_TRUE(std::equal(px.begin(), px.begin() + n, memory.image(4)));
  EXPECT_TRUE(std::equal(px.begin() + n, px.end(), memory.image(1)));
}

TEST(ImageStream, MalformedSpecsAndMissingFoldersAreClearErrors) {
  const std::string root = square_folder("stream_bad", 8);
  expect_error_mentions([&] { load_dataset("stream@0:" + root, Split::kTest); }, "--data");
  expect_error_mentions([&] { load_dataset("stream@32/16:" + root, Split::kTest); }, "--data");
  expect_error_mentions([&] { load_dataset("stream@x:" + root, Split::kTest); }, "--data");
  expect_error_mentions([&] { load_dataset("stream:/nonexistent/folder", Split::kTest); }, "/nonexistent/folder");
}

}  // namespace
}  // namespace fames
