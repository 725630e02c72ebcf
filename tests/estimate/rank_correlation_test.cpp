#include "estimate/rank_correlation.h"

#include <gtest/gtest.h>

#include <cmath>

namespace fames::estimate {

TEST(RankCorrelation, PerfectAndReversed) {
  const std::vector<double> x = {1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(spearman(x, {10, 20, 30, 40, 50}), 1.0);
  EXPECT_DOUBLE_EQ(kendall(x, {10, 20, 30, 40, 50}), 1.0);
  EXPECT_DOUBLE_EQ(spearman(x, {5, 4, 3, 2, 1}), -1.0);
  EXPECT_DOUBLE_EQ(kendall(x, {5, 4, 3, 2, 1}), -1.0);
  // Monotone but nonlinear: ranks agree perfectly.
  EXPECT_DOUBLE_EQ(spearman(x, {1, 8, 27, 64, 125}), 1.0);
}

TEST(RankCorrelation, KnownValuesWithTies) {
  // x = (1,2,3,4), y = (1,3,2,4): one discordant pair of six -> tau = 4/6.
  EXPECT_NEAR(kendall({1, 2, 3, 4}, {1, 3, 2, 4}), 4.0 / 6.0, 1e-12);
  // Spearman = 1 - 6*sum d^2/(n(n^2-1)) = 1 - 6*2/60 = 0.8 without ties.
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {1, 3, 2, 4}), 0.8, 1e-12);
  // Ties get average ranks: y = (1,1,2,2) vs x increasing.
  const double rho = spearman({1, 2, 3, 4}, {1, 1, 2, 2});
  EXPECT_NEAR(rho, 0.894427191, 1e-6);
  EXPECT_TRUE(std::isnan(spearman({1, 1, 1}, {1, 2, 3})));
}

}  // namespace fames::estimate
