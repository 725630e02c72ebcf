// Seeded subsets and hold-out splits: determinism, disjointness, order, uniformity, errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "data/dataset.h"
#include "util/error.h"

namespace fames {
namespace {

// n images of 1x1x2 whose label is the image's index and whose pixels encode it too, so every
// image can be traced back to where it came from.
Dataset numbered(int64_t n) {
  Dataset d;
  d.name = "numbered";
  d.channels = 2;
  d.height = d.width = 1;
  d.classes = {"only"};
  d.mean = {0.1f, 0.2f, 0.3f};
  for (int64_t i = 0; i < n; ++i) {
    d.labels.push_back(static_cast<int32_t>(i));
    d.pixels.push_back(static_cast<uint8_t>(i % 256));
    d.pixels.push_back(static_cast<uint8_t>(i / 256));
  }
  return d;
}

// Every image still carries the pixels of its label (original index).
void expect_consistent(const Dataset& d) {
  ASSERT_EQ(d.pixels.size(), size_t(d.size()) * 2);
  for (int64_t i = 0; i < d.size(); ++i) {
    EXPECT_EQ(d.image(i)[0], d.labels[i] % 256);
    EXPECT_EQ(d.image(i)[1], d.labels[i] / 256);
  }
}

TEST(Subset, DeterministicSortedAndConsistent) {
  const Dataset all = numbered(1000);
  const Dataset a = subset(all, 100, 42), b = subset(all, 100, 42), c = subset(all, 100, 43);
  ASSERT_EQ(a.size(), 100);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_NE(a.labels, c.labels);
  EXPECT_TRUE(std::is_sorted(a.labels.begin(), a.labels.end()));
  EXPECT_EQ(std::set<int32_t>(a.labels.begin(), a.labels.end()).size(), 100u);
  expect_consistent(a);
  EXPECT_EQ(a.name, all.name);
  EXPECT_EQ(a.mean, all.mean);
  EXPECT_EQ(a.channels, 2);
}

TEST(Subset, NonPositiveOrLargeLimitKeepsEverything) {
  const Dataset all = numbered(10);
  for (int64_t limit : {int64_t(0), int64_t(-5), int64_t(10), int64_t(11)}) {
    const Dataset s = subset(all, limit, 7);
    EXPECT_EQ(s.labels, all.labels);
    EXPECT_EQ(s.pixels, all.pixels);
  }
}

TEST(Subset, EveryImageIsEquallyLikely) {
  // 3 of 10 images over 3000 seeds: each image is expected 900 times (sd ~25).
  const Dataset all = numbered(10);
  std::vector<int> chosen(10, 0);
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    for (int32_t label : subset(all, 3, seed).labels) chosen[label]++;
  }
  for (int count : chosen) {
    EXPECT_GT(count, 800);
    EXPECT_LT(count, 1000);
  }
}

TEST(SplitHoldout, DisjointCompleteAndDeterministic) {
  const Dataset all = numbered(500);
  const auto [train, held] = split_holdout(all, 50, 9);
  ASSERT_EQ(train.size(), 450);
  ASSERT_EQ(held.size(), 50);
  expect_consistent(train);
  expect_consistent(held);
  EXPECT_TRUE(std::is_sorted(train.labels.begin(), train.labels.end()));
  EXPECT_TRUE(std::is_sorted(held.labels.begin(), held.labels.end()));
  std::set<int32_t> seen(train.labels.begin(), train.labels.end());
  for (int32_t label : held.labels) EXPECT_TRUE(seen.insert(label).second) << "in both: " << label;
  EXPECT_EQ(seen.size(), 500u);

  const auto again = split_holdout(all, 50, 9);
  EXPECT_EQ(again.second.labels, held.labels);
  EXPECT_NE(split_holdout(all, 50, 10).second.labels, held.labels);
  EXPECT_EQ(split_holdout(all, 0, 9).first.labels, all.labels);
}

TEST(SplitHoldout, RejectsImpossibleCounts) {
  const Dataset all = numbered(5);
  EXPECT_THROW(split_holdout(all, 5, 1), Error);
  EXPECT_THROW(split_holdout(all, -1, 1), Error);
}

}  // namespace
}  // namespace fames
