// Dominance check: a rival is dominated only by a strictly cheaper member with no more error; the
// error window and exact rivals are honoured; the best member is the cheapest admissible one.
#include "appmul/synth/dominance.h"

#include <gtest/gtest.h>

#include <map>

namespace fames {
namespace {

AppMul member(const std::string& name, double mred, double energy, bool exact = false) {
  AppMul m;
  m.name = name;
  m.metrics.mred = mred;
  m.metrics.nmed = mred / 10;
  m.energy_fj = energy;
  m.exact = exact;
  return m;
}

TEST(Dominance, CheapestMemberWithNoMoreErrorDecides) {
  const std::vector<AppMul> front = {member("a", 0.01, 100), member("b", 0.05, 60),
                                     member("c", 0.10, 40)};
  const std::vector<AppMul> rivals = {
      member("r_equal_error", 0.05, 70),   // b: same error, cheaper -> dominated
      member("r_cheaper", 0.05, 55),       // b is dearer -> not dominated
      member("r_between", 0.07, 61),       // b (0.05 <= 0.07), 60 < 61 -> dominated
      member("r_too_accurate", 0.005, 200),  // no member is that accurate -> not dominated
      member("r_equal_energy", 0.10, 40),  // c ties in energy -> not dominated
  };
  const DominanceReport report = check_dominance(front, rivals, AlsMetric::kMred, 0, 1);
  ASSERT_EQ(report.rows.size(), 5u);
  std::map<std::string, DominanceRow> rows;
  for (const auto& r : report.rows) rows[r.rival] = r;
  EXPECT_TRUE(rows["r_equal_error"].dominated);
  EXPECT_EQ(rows["r_equal_error"].best, "b");
  EXPECT_FALSE(rows["r_cheaper"].dominated);
  EXPECT_TRUE(rows["r_between"].dominated);
  EXPECT_EQ(rows["r_between"].best, "b");
  EXPECT_FALSE(rows["r_too_accurate"].dominated);
  EXPECT_TRUE(rows["r_too_accurate"].best.empty());
  EXPECT_FALSE(rows["r_equal_energy"].dominated);
  EXPECT_EQ(report.dominated_count(), 2);
  EXPECT_FALSE(report.all_dominated());
  // Sorted by increasing rival error.
  for (size_t i = 1; i < report.rows.size(); ++i)
    EXPECT_LE(report.rows[i - 1].rival_error, report.rows[i].rival_error);
}

TEST(Dominance, WindowExactRivalsAndMetric) {
  const std::vector<AppMul> front = {member("a", 0.02, 50)};
  const std::vector<AppMul> rivals = {member("low", 0.001, 10), member("high", 0.5, 10),
                                      member("exact", 0, 300, true), member("in", 0.03, 80)};
  const DominanceReport report = check_dominance(front, rivals, AlsMetric::kMred, 0.005, 0.2);
  ASSERT_EQ(report.rows.size(), 1u);
  EXPECT_EQ(report.rows[0].rival, "in");
  EXPECT_TRUE(report.all_dominated());
  // Under NMED (mred / 10 here) the window admits other rivals.
  const DominanceReport nmed = check_dominance(front, rivals, AlsMetric::kNmed, 0.0001, 0.01);
  ASSERT_EQ(nmed.rows.size(), 2u);
  EXPECT_EQ(nmed.rows[0].rival, "low");
  EXPECT_FALSE(nmed.rows[0].dominated);
  EXPECT_TRUE(check_dominance({}, {}, AlsMetric::kMred, 0, 1).all_dominated());
}

}  // namespace
}  // namespace fames
