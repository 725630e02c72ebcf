#include "pipeline/probe_plan.h"

#include <gtest/gtest.h>

namespace fames::pipeline {
namespace {

// A sweep in increasing energy whose uncalibrated top-1 dips at index 3 and recovers at 4, as the
// retrained LeNet-5's did; exact 0.90, target 0.89 (start: index 2, the last point meeting it).
const std::vector<double> kSweep = {0.90, 0.895, 0.891, 0.870, 0.885, 0.880, 0.860, 0.800};
constexpr double kExact = 0.90, kTarget = 0.89;
constexpr size_t kStart = 2;

TEST(ProbePlan, FirstProbeIsTheNextPointAboveTheStart) {
  const std::vector<ProbeOutcome> done;  // the start is not probed: it passes uncalibrated
  EXPECT_EQ(next_sweep_probe(kSweep, kStart, done, kTarget, kExact), 3u);
}

TEST(ProbePlan, AFailureDoesNotStopTheClimbWhenABetterPointLiesAbove) {
  // Index 3 failed after recovering half its loss; index 4 (0.885) could reach 0.8925 with the same
  // fraction, so it is next.
  const std::vector<ProbeOutcome> done{{3, 0.870, 0.885}};
  EXPECT_EQ(next_sweep_probe(kSweep, kStart, done, kTarget, kExact), 4u);
}

TEST(ProbePlan, PointsNoBetterThanAFailureOfLowerEnergyAreSkipped) {
  // 3 failed after recovering 0.019 of its 0.030 loss; 4 (0.885) is better and could reach 0.8945.
  std::vector<ProbeOutcome> done{{3, 0.870, 0.889}};
  EXPECT_EQ(next_sweep_probe(kSweep, kStart, done, kTarget, kExact), 4u);
  // Once 4 failed too, 5 (0.880), 6 and 7 are worse than it and cost more.
  done.push_back({4, 0.885, 0.8899});
  EXPECT_EQ(next_sweep_probe(kSweep, kStart, done, kTarget, kExact), std::nullopt);
}

TEST(ProbePlan, PointsOutOfReachOfTheBestRecoverySeenAreSkipped) {
  // Index 3 recovered 0.015 of its 0.030 loss (one half). 4: 0.885 + 0.5 * 0.015 = 0.8925 >= 0.89,
  // probed; once 4 failed too, 5 (0.880 + 0.5 * 0.020 = 0.890) is still within reach, 6 and 7 not.
  std::vector<ProbeOutcome> done{{3, 0.870, 0.885}};
  EXPECT_EQ(next_sweep_probe(kSweep, kStart, done, kTarget, kExact), 4u);
  done.push_back({4, 0.885, 0.8895});
  EXPECT_EQ(next_sweep_probe(kSweep, kStart, done, kTarget, kExact), std::nullopt)
      << "5 is no better uncalibrated than the failed 4";
  const std::vector<double> rising = {0.90, 0.895, 0.891, 0.870, 0.860, 0.881, 0.850, 0.800};
  const std::vector<ProbeOutcome> one_fail{{3, 0.870, 0.885}};
  EXPECT_EQ(next_sweep_probe(rising, kStart, one_fail, kTarget, kExact), 5u)
      << "4 is worse than the failed 3; 5 reaches 0.8905 at half recovery";
  const std::vector<double> falling = {0.90, 0.895, 0.891, 0.870, 0.875, 0.872, 0.850, 0.800};
  EXPECT_EQ(next_sweep_probe(falling, kStart, one_fail, kTarget, kExact), std::nullopt)
      << "4 (0.875) reaches 0.8875 at half recovery, 5 0.886: neither is probed";
}

TEST(ProbePlan, OnlyPointsAboveTheBestPassAreCandidates) {
  const std::vector<ProbeOutcome> done{{5, 0.880, 0.8999}};
  // 5 passed, recovering almost all its loss: 6 (0.860) is within reach, 3 and 4 lie below the pass.
  EXPECT_EQ(next_sweep_probe(kSweep, kStart, done, kTarget, kExact), 6u);
}

TEST(ProbePlan, FirstFailureAboveTheBestPass) {
  const std::vector<ProbeOutcome> done{{3, 0.870, 0.885}, {4, 0.885, 0.8901}, {6, 0.860, 0.870}, {5, 0.880, 0.888}};
  const std::optional<ProbeOutcome> fail = first_failure_above_passes(done, kTarget, kStart);
  ASSERT_TRUE(fail);
  EXPECT_EQ(fail->index, 5u) << "3 failed too, but below the pass at 4";
  EXPECT_EQ(first_failure_above_passes({{3, 0.870, 0.885}, {6, 0.860, 0.870}}, kTarget, kStart)->index, 3u)
      << "without a pass, the lowest failure above the start";
  EXPECT_FALSE(first_failure_above_passes({{4, 0.885, 0.8901}}, kTarget, kStart));
}

TEST(ProbePlan, BisectionHalvesTheIntervalAboveTheStart) {
  // 12 points, start 4 (as the retrained 4-bit ResNet-20's sweep): 8 first, then 6 after a failure,
  // then 7 after 6 passed, then nothing (6 and 7 neighbour the failures).
  std::vector<ProbeOutcome> done;
  EXPECT_EQ(next_bisection_probe(12, 4, done, kTarget), 8u);
  done.push_back({8, 0.80, 0.88});
  EXPECT_EQ(next_bisection_probe(12, 4, done, kTarget), 6u);
  done.push_back({6, 0.84, 0.895});
  EXPECT_EQ(next_bisection_probe(12, 4, done, kTarget), 7u);
  done.push_back({7, 0.83, 0.885});
  EXPECT_EQ(next_bisection_probe(12, 4, done, kTarget), std::nullopt);
  EXPECT_EQ(first_failure_above_passes(done, kTarget, 4)->index, 7u);
}

TEST(ProbePlan, BisectionClimbsAfterPassesAndStopsAtTheTop) {
  std::vector<ProbeOutcome> done{{8, 0.80, 0.895}};
  EXPECT_EQ(next_bisection_probe(12, 4, done, kTarget), 10u);
  done.push_back({10, 0.70, 0.891});
  EXPECT_EQ(next_bisection_probe(12, 4, done, kTarget), 11u);
  done.push_back({11, 0.10, 0.891});
  EXPECT_EQ(next_bisection_probe(12, 4, done, kTarget), std::nullopt) << "the top passed";
  EXPECT_EQ(next_bisection_probe(5, 4, {}, kTarget), std::nullopt) << "the start is the sweep's top";
  // A failure below a pass (the sweep is not monotone) does not bound the interval above the pass.
  EXPECT_EQ(next_bisection_probe(12, 4, {{6, 0.84, 0.88}, {8, 0.80, 0.895}}, kTarget), 10u);
}

// The 4-bit ResNet-20's fine-tuned search: 24.9% passed, 27.0% (the first middle) failed; the next
// steps halve what is left until it is narrower than the minimum step.
TEST(ProbePlan, TargetBisectionHalvesTheIntervalUntilItIsNarrow) {
  TargetInterval interval{0.249, 0.291};
  ASSERT_TRUE(interval.next(0.005));
  EXPECT_DOUBLE_EQ(*interval.next(0.005), 0.270);
  interval.narrow(0.270, 0.2698, false);
  EXPECT_NEAR(*interval.next(0.005), 0.2594, 1e-12);
  interval.narrow(0.2594, 0.2601, true);  // a selection lands a little above its target
  EXPECT_NEAR(interval.low, 0.2601, 1e-12);
  EXPECT_NEAR(*interval.next(0.005), 0.26495, 1e-12);
  interval.narrow(0.26495, 0.2652, true);
  EXPECT_FALSE(interval.next(0.005));  // 0.2698 - 0.2652 < 0.005
  // A coarse library: the selections land far from their targets (below a passing one, above a
  // failing one); the targets still halve the interval, so one configuration is not probed forever.
  TargetInterval other{0.20, 0.30};
  other.narrow(0.25, 0.19, true);
  EXPECT_DOUBLE_EQ(other.low, 0.25);
  other.narrow(0.275, 0.31, false);
  EXPECT_DOUBLE_EQ(other.high, 0.275);
  EXPECT_DOUBLE_EQ(other.low, 0.25);
  // A selection that lands beyond the other end leaves an empty interval: the steps end.
  other.narrow(0.2625, 0.33, true);
  EXPECT_FALSE(other.next(0.005));
}

}  // namespace
}  // namespace fames::pipeline
