// models::evaluate's per-sample record and the paired top-1 difference built on it: the record
// agrees with the top-1 it sums to, and the difference's standard error is that of the mean of
// per-sample differences (worked by hand below).
#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "models/trainer.h"
#include "models/zoo.h"
#include "error_message.h"

namespace fames::models {
namespace {

using fames::testing::error_message;

EvalResult of(std::vector<uint8_t> correct) {
  EvalResult r;
  r.samples = static_cast<int64_t>(correct.size());
  r.correct = std::move(correct);
  return r;
}

TEST(PairedTop1, CountsDisagreementsAndTheirStandardError) {
  // Per-sample differences 0, -1, 0, 1: mean 0, sample variance 2/3, standard error sqrt(2/3/4).
  const PairedTop1Difference even = paired_top1_difference(of({1, 1, 1, 0}), of({1, 0, 1, 1}));
  EXPECT_EQ(even.only_base, 1);
  EXPECT_EQ(even.only_other, 1);
  EXPECT_DOUBLE_EQ(even.difference, 0.0);
  EXPECT_NEAR(even.standard_error, std::sqrt(2.0 / 3.0 / 4.0), 1e-12);
  // Differences -1, 0, 0, 0: mean -1/4, sample variance (1 - 4/16)/3 = 1/4, standard error 1/4.
  const PairedTop1Difference drop = paired_top1_difference(of({1, 1, 1, 1}), of({0, 1, 1, 1}));
  EXPECT_EQ(drop.only_base, 1);
  EXPECT_EQ(drop.only_other, 0);
  EXPECT_DOUBLE_EQ(drop.difference, -0.25);
  EXPECT_NEAR(drop.standard_error, 0.25, 1e-12);
  // Two evaluations that agree everywhere differ by exactly 0, with no error.
  const PairedTop1Difference same = paired_top1_difference(of({1, 0, 1}), of({1, 0, 1}));
  EXPECT_EQ(same.difference, 0.0);
  EXPECT_EQ(same.standard_error, 0.0);
}

TEST(PairedTop1, EvaluationsOfDifferentSamplesAreRefused) {
  const std::string message = error_message([] { paired_top1_difference(of({1, 0, 1}), of({1, 0})); });
  EXPECT_NE(message.find("3 and 2 samples"), std::string::npos) << message;
  EXPECT_NE(error_message([] { paired_top1_difference(of({}), of({})); }).find("0 and 0"), std::string::npos);
}

TEST(Evaluate, RecordsEachSampleAndTheRecordSumsToTop1) {
  Dataset d;
  d.name = "synthetic";
  d.channels = 1;
  d.height = d.width = 28;
  for (int c = 0; c < 10; ++c) d.classes.push_back(std::to_string(c));
  std::mt19937_64 rng(3);
  const int64_t n = 300;  // two batches of 256, the second partial
  d.pixels.resize(static_cast<size_t>(n * d.image_bytes()));
  for (auto& p : d.pixels) p = static_cast<uint8_t>(rng() % 256);
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(static_cast<int32_t>(rng() % 10));
  d.mean = {0.5f, 0, 0};
  d.stddev = {0.3f, 1, 1};
  torch::manual_seed(2);
  ModelSpec spec;
  spec.arch = "lenet5";
  spec.in_channels = 1;
  spec.image_size = 28;
  auto model = build_model(spec);
  const EvalResult r = evaluate(*model, d);
  ASSERT_EQ(static_cast<int64_t>(r.correct.size()), n);
  const int64_t right = std::accumulate(r.correct.begin(), r.correct.end(), int64_t{0});
  EXPECT_GT(right, 0) << "an untrained model on 10 classes still guesses some right";
  EXPECT_LT(right, n);
  EXPECT_DOUBLE_EQ(r.top1, static_cast<double>(right) / n);
  // The record is per sample: an evaluation of the second half alone gives the same entries.
  Dataset half = d;
  half.labels.erase(half.labels.begin(), half.labels.begin() + n / 2);
  half.pixels.erase(half.pixels.begin(), half.pixels.begin() + n / 2 * d.image_bytes());
  const EvalResult h = evaluate(*model, half);
  EXPECT_EQ(h.correct, std::vector<uint8_t>(r.correct.begin() + n / 2, r.correct.end()));
}

}  // namespace
}  // namespace fames::models
