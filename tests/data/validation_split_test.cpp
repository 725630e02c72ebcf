// The validation split: carved from the training files, disjoint from what training sees,
// class-balanced, the same in every load, sized by --validation-images.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "data/dataset.h"
#include "fixtures.h"

namespace fames {
namespace {

constexpr uint32_t kSide = 2;

// A Fashion-MNIST-format training split of `count` images whose first pixel is the image's
// index mod 256 and second its index / 256 (so each image is identifiable), labels
// `label_of(i)`, and a 3-image test split.
std::string write_training_files(const std::string& name, uint32_t count, uint8_t (*label_of)(uint32_t)) {
  const std::string dir = testing_data::fresh_dir(name);
  std::vector<uint8_t> pixels, labels;
  for (uint32_t i = 0; i < count; ++i) {
    pixels.insert(pixels.end(), {uint8_t(i % 256), uint8_t(i / 256), 0, 0});
    labels.push_back(label_of(i));
  }
  testing_data::write_gzip(dir + "/train-images-idx3-ubyte.gz", testing_data::idx_bytes({count, kSide, kSide}, pixels));
  testing_data::write_gzip(dir + "/train-labels-idx1-ubyte.gz", testing_data::idx_bytes({count}, labels));
  testing_data::write_gzip(dir + "/t10k-images-idx3-ubyte.gz", testing_data::idx_bytes({3, kSide, kSide}, std::vector<uint8_t>(12)));
  testing_data::write_gzip(dir + "/t10k-labels-idx1-ubyte.gz", testing_data::idx_bytes({3}, {0, 1, 2}));
  return "fashion-mnist:" + dir;
}

std::set<int> image_ids(const Dataset& d) {
  std::set<int> ids;
  for (int64_t i = 0; i < d.size(); ++i) ids.insert(d.image(i)[0] + 256 * d.image(i)[1]);
  return ids;
}

std::map<int32_t, int> per_class(const Dataset& d) {
  std::map<int32_t, int> counts;
  for (int32_t label : d.labels) ++counts[label];
  return counts;
}

using ValidationSetting = testing_data::ValidationImages;

TEST(ValidationSplit, ATenthOfTheTrainingFilesDisjointFromTrainAndBalanced) {
  const std::string spec = write_training_files("val_tenth", 600, [](uint32_t i) { return uint8_t(i % 10); });
  const Dataset train = load_dataset(spec, Split::kTrain), val = load_dataset(spec, Split::kVal);
  EXPECT_EQ(val.size(), 60);
  EXPECT_EQ(train.size(), 540);
  EXPECT_EQ(train.validation_excluded, 60);
  EXPECT_EQ(val.validation_excluded, 0);
  const std::set<int> a = image_ids(train), b = image_ids(val);
  EXPECT_EQ(a.size() + b.size(), 600u);
  for (int id : b) EXPECT_EQ(a.count(id), 0u) << id;
  for (const auto& [label, count] : per_class(val)) EXPECT_EQ(count, 6) << label;
  // Not simply the first or last images of each class.
  EXPECT_NE(*b.begin(), 0);
  EXPECT_LT(*b.begin(), 300);
  EXPECT_GT(*b.rbegin(), 300);
  // The same images on every load, and the test split untouched.
  EXPECT_EQ(image_ids(load_dataset(spec, Split::kVal)), b);
  EXPECT_EQ(load_dataset(spec, Split::kTest).size(), 3);
}

TEST(ValidationSplit, UnevenClassesGiveProportionalShares) {
  // Class 0 holds three quarters of the images.
  const std::string spec = write_training_files("val_uneven", 400, [](uint32_t i) { return uint8_t(i % 4 == 3 ? 1 : 0); });
  ValidationSetting setting(40);
  const Dataset val = load_dataset(spec, Split::kVal);
  EXPECT_EQ(val.size(), 40);
  EXPECT_EQ(per_class(val)[0], 30);
  EXPECT_EQ(per_class(val)[1], 10);
}

TEST(ValidationSplit, SizeSettingAndNone) {
  const std::string spec = write_training_files("val_size", 200, [](uint32_t i) { return uint8_t(i % 5); });
  {
    ValidationSetting setting(25);
    EXPECT_EQ(load_dataset(spec, Split::kVal).size(), 25);
    EXPECT_EQ(load_dataset(spec, Split::kTrain).size(), 175);
  }
  {
    ValidationSetting setting(0);
    EXPECT_EQ(load_dataset(spec, Split::kTrain).size(), 200);
    testing_data::expect_error_mentions([&] { load_dataset(spec, Split::kVal); }, "--validation-images");
  }
  testing_data::expect_error_mentions([] { set_validation_images(-5); }, "--validation-images");
}

TEST(ValidationSplit, ChoicesAreJudgedOnValidationImagesWhenThereAreAny) {
  const std::string spec = write_training_files("val_judge", 200, [](uint32_t i) { return uint8_t(i % 5); });
  {
    ValidationSetting setting(40);
    const JudgingSplit split = judging_split(spec, 30, 7);
    EXPECT_EQ(split.judged_on, "val");
    EXPECT_EQ(split.judge.size(), 30);
    EXPECT_EQ(image_ids(split.learn), image_ids(load_dataset(spec, Split::kTrain)));
    const std::set<int> val = image_ids(load_dataset(spec, Split::kVal));
    for (int id : image_ids(split.judge)) EXPECT_EQ(val.count(id), 1u) << id;
    EXPECT_EQ(image_ids(judging_split(spec, 30, 7).judge), image_ids(split.judge));  // seeded
    EXPECT_EQ(judging_split(spec, 40, 7).judge.size(), 40);
    EXPECT_EQ(image_ids(judging_split(spec, 0, 7).judge), val);  // 0: the whole validation split
    testing_data::expect_error_mentions([&] { judging_split(spec, 41, 7); }, "--holdout");
  }
  {
    ValidationSetting setting(0);  // no validation split: held out of the training split
    const JudgingSplit split = judging_split(spec, 30, 7);
    EXPECT_EQ(split.judged_on, "train");
    EXPECT_EQ(split.judge.size(), 30);
    EXPECT_EQ(split.learn.size(), 170);
    const std::set<int> learn = image_ids(split.learn);
    for (int id : image_ids(split.judge)) EXPECT_EQ(learn.count(id), 0u) << id;
    EXPECT_EQ(judging_split(spec, 0, 7).judge.size(), 40) << "0: kDefaultHoldout, at most a fifth of the split";
  }
}

}  // namespace
}  // namespace fames
