// Selection from an Estimate: constraints hold, CBC and DP agree, tiny cases match brute force,
// infeasible requests name the flag and the largest feasible value, the Pareto sweep is monotone,
// and the est.json -> select -> assign.json path works end to end through the library.
#include "select/selection.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "select/synthetic_estimate.h"
#include "util/error.h"
#include "util/progress.h"

namespace fames {
namespace {

SelectOptions with_solver(const std::string& solver) {
  SelectOptions o;
  o.solver = solver;
  return o;
}

// Silences progress bars for one test, then turns them back on for the rest of the program.
struct QuietProgress {
  QuietProgress() { Progress::set_enabled(false); }
  ~QuietProgress() { Progress::set_enabled(true); }
};

double energy_budget(const Estimate& e, double r) {
  return (1 - r) * e.exact_energy_fj_per_image();
}

// Every choice of a small estimate: calls visit(choice).
void for_each_choice(const Estimate& e, const std::function<void(const std::vector<int>&)>& visit) {
  std::vector<int> idx(e.layers.size(), 0);
  while (true) {
    visit(idx);
    size_t k = 0;
    while (k < idx.size() && ++idx[k] == static_cast<int>(e.layers[k].candidates.size()))
      idx[k++] = 0;
    if (k == idx.size()) return;
  }
}

// The summary must describe the chosen candidates, and the chosen AppMuls must be candidates.
void expect_valid(const Estimate& e, const Assignment& a) {
  ASSERT_TRUE(a.summary.has_value());
  double dl = 0, energy = 0;
  for (const EstimateLayer& layer : e.layers) {
    const EstimateCandidate* c = layer.find(a.appmul_for(layer.name));
    ASSERT_NE(c, nullptr) << layer.name;
    dl += c->dl;
    energy += layer.macs * c->energy_fj;
  }
  EXPECT_NEAR(a.summary->predicted_dl, dl, 1e-12);
  EXPECT_NEAR(a.summary->energy_fj_per_image, energy, 1e-9 * energy);
  EXPECT_NEAR(a.summary->energy_reduction, 1 - energy / e.exact_energy_fj_per_image(), 1e-12);
  EXPECT_EQ(a.library, e.library);
}

// What selection minimizes: predicted changes floored at zero (a predicted gain counts as none).
double floored_dl(const Estimate& e, const Assignment& a) {
  double sum = 0;
  for (const EstimateLayer& layer : e.layers) sum += std::max(0.0, layer.find(a.appmul_for(layer.name))->dl);
  return sum;
}

// How far the per-substitution tie-break (selection.cpp) may move the floored optimum.
double tie_break_slack(const Estimate& e) {
  double largest = 0;
  for (const EstimateLayer& layer : e.layers)
    for (const EstimateCandidate& c : layer.candidates) largest = std::max(largest, c.dl);
  return 1e-6 * largest * static_cast<double>(e.layers.size()) + 1e-12;
}

TEST(Selection, MeetsTheBudgetAndCbcAgreesWithDp) {
  const Estimate e = synthetic_estimate({20, 30, 11});
  const double largest = max_energy_reduction(e);
  ASSERT_GT(largest, 0.3);
  for (double fraction : {0.2, 0.5, 0.8}) {
    const double r = fraction * largest;
    const Assignment cbc = select_for_energy_reduction(e, r, with_solver("cbc"));
    const Assignment dp = select_for_energy_reduction(e, r, with_solver("dp"));
    expect_valid(e, cbc);
    expect_valid(e, dp);
    EXPECT_LE(cbc.summary->energy_fj_per_image, energy_budget(e, r) * (1 + 1e-9));
    EXPECT_LE(dp.summary->energy_fj_per_image, energy_budget(e, r) * (1 + 1e-9));
    EXPECT_GE(cbc.summary->energy_reduction, r - 1e-9);
    // The DP rounds energies up, so it can only be as good as the exact optimum or slightly worse.
    EXPECT_GE(dp.summary->predicted_dl, cbc.summary->predicted_dl - 1e-9);
    EXPECT_NEAR(dp.summary->predicted_dl, cbc.summary->predicted_dl,
                1e-3 * std::fabs(cbc.summary->predicted_dl) + 1e-9);
  }
}

TEST(Selection, MatchesBruteForceOnATinyEstimate) {
  const Estimate e = synthetic_estimate({4, 5, 21});  // 625 configurations
  for (double fraction : {0.0, 0.3, 0.6, 0.9, 1.0}) {
    const double r = fraction * max_energy_reduction(e);
    double best_dl = std::numeric_limits<double>::infinity();
    for_each_choice(e, [&](const std::vector<int>& choice) {
      const Assignment a = make_assignment(e, choice, "brute", 0);
      if (a.summary->energy_fj_per_image <= energy_budget(e, r) * (1 + 1e-12))
        best_dl = std::min(best_dl, floored_dl(e, a));
    });
    const Assignment cbc = select_for_energy_reduction(e, r);
    EXPECT_NEAR(floored_dl(e, cbc), best_dl, 1e-9 + tie_break_slack(e)) << "r = " << r;
  }
}

// Floored at zero, AppMuls predicted to gain or cost nothing tie with exact ones; without a
// budget to meet, the solver must not substitute any of them. (Not the DP: it rounds energies up,
// so at a 0% target the exact configuration may not fit its grid.)
TEST(Selection, NoSubstitutionWithoutABudgetWhenPredictionsTie) {
  Estimate e = synthetic_estimate({6, 5, 23});
  for (EstimateLayer& layer : e.layers)
    for (size_t i = 0; i < layer.candidates.size(); ++i)
      if (layer.candidates[i].appmul != layer.exact)  // "gains" (floored to 0, a tie), one loss
        layer.candidates[i].dl = i == 1 ? 1e-3 : -std::fabs(layer.candidates[i].dl);
  const Assignment a = select_for_energy_reduction(e, 0.0, with_solver("cbc"));
  for (const EstimateLayer& layer : e.layers)
    EXPECT_EQ(a.appmul_for(layer.name), layer.exact) << layer.name;
}

TEST(Selection, MaxLossIncreaseMinimizesEnergy) {
  const Estimate e = synthetic_estimate({4, 5, 22});
  for (double bound : {0.0, 1e-4, 1e-3, 1e-2}) {
    double least_energy = std::numeric_limits<double>::infinity();
    for_each_choice(e, [&](const std::vector<int>& choice) {
      const Assignment a = make_assignment(e, choice, "brute", 0);
      if (a.summary->predicted_dl <= bound)
        least_energy = std::min(least_energy, a.summary->energy_fj_per_image);
    });
    for (const char* solver : {"cbc", "dp"}) {
      const Assignment a = select_for_max_loss_increase(e, bound, with_solver(solver));
      expect_valid(e, a);
      EXPECT_LE(a.summary->predicted_dl, bound + 1e-9) << solver;
      // DP: exact up to its rounding of energies (1e5 steps of the range).
      EXPECT_NEAR(a.summary->energy_fj_per_image, least_energy, 1e-4 * least_energy)
          << solver << " bound " << bound;
    }
  }
}

TEST(Selection, InfeasibleRequestsNameTheFlagAndTheLargestFeasibleValue) {
  const Estimate e = synthetic_estimate({6, 8, 3});
  const double largest = max_energy_reduction(e);
  const std::string largest_text = fmt::format("{:.6f}", largest);
  for (double r : {largest + 0.01, 1.0, -0.1}) {
    try {
      check_energy_reduction(e, r, "--energy-reduction");
      ADD_FAILURE() << "r = " << r << " accepted";
    } catch (const Error& err) {
      const std::string m = err.what();
      EXPECT_NE(m.find("--energy-reduction"), std::string::npos) << m;
      EXPECT_NE(m.find(largest_text), std::string::npos) << m;
    }
    EXPECT_THROW(select_for_energy_reduction(e, r), Error);
  }
  EXPECT_THROW(check_max_loss_increase(-0.01, "--max-loss-increase"), Error);
  EXPECT_THROW(select_for_max_loss_increase(e, -0.01), Error);
  EXPECT_THROW(select_for_energy_reduction(e, 0.1, with_solver("gurobi")), Error);
}

TEST(Selection, TheLargestFeasibleReductionIsReachable) {
  const Estimate e = synthetic_estimate({12, 10, 4});
  const double largest = max_energy_reduction(e);
  for (const char* solver : {"cbc", "dp"}) {
    const Assignment a = select_for_energy_reduction(e, largest, with_solver(solver));
    EXPECT_NEAR(a.summary->energy_reduction, largest, 1e-9) << solver;
  }
}

TEST(Selection, ParetoSweepIsMonotone) {
  const QuietProgress quiet;
  const Estimate e = synthetic_estimate({20, 30, 5});
  const std::vector<ParetoPoint> points = pareto_sweep(e, 8);
  ASSERT_EQ(points.size(), 8u);
  EXPECT_EQ(points.front().requested_reduction, 0.0);
  EXPECT_NEAR(points.back().requested_reduction, max_energy_reduction(e), 1e-12);
  for (size_t i = 0; i < points.size(); ++i) {
    const AssignmentSummary& s = *points[i].assignment.summary;
    EXPECT_GE(s.energy_reduction, points[i].requested_reduction - 1e-9);
    if (i > 0) {  // a tighter budget can never give a better predicted loss
      EXPECT_GE(floored_dl(e, points[i].assignment),
                floored_dl(e, points[i - 1].assignment) - tie_break_slack(e));
    }
  }
  EXPECT_GT(floored_dl(e, points.back().assignment), floored_dl(e, points.front().assignment));
}

TEST(Selection, ParetoJsonCarriesTargetsAndAssignments) {
  const QuietProgress quiet;
  const Estimate e = synthetic_estimate({5, 6, 12});
  const std::vector<ParetoPoint> single = pareto_sweep(e, 1);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].requested_reduction, 0.0);
  const std::vector<ParetoPoint> points = pareto_sweep(e, 3, with_solver("dp"));
  const nlohmann::json j = pareto_to_json(points);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(j[i]["requested_reduction"].get<double>(), points[i].requested_reduction);
    // Each element reads back as an assignment.
    const Assignment back = Assignment::from_json(j[i], "sweep.json");
    EXPECT_EQ(back.layers, points[i].assignment.layers);
  }
  EXPECT_THROW(pareto_sweep(e, 0), Error);
}

TEST(Selection, EndToEndThroughFiles) {
  const std::string dir = testing::TempDir() + "/fames_selection_test";
  synthetic_estimate({20, 30, 8}).save(dir + "/est.json");
  const Estimate e = Estimate::load(dir + "/est.json");
  check_energy_reduction(e, 0.2, "--energy-reduction");
  const Assignment chosen = select_for_energy_reduction(e, 0.2);
  chosen.save(dir + "/assign.json");
  const Assignment back = Assignment::load(dir + "/assign.json");
  expect_valid(e, back);
  EXPECT_EQ(back.layers, chosen.layers);
  EXPECT_GE(back.summary->energy_reduction, 0.2 - 1e-9);
  const std::string table = selection_table(e, back);
  for (const EstimateLayer& layer : e.layers)
    EXPECT_NE(table.find(layer.name), std::string::npos) << layer.name;
}

}  // namespace
}  // namespace fames
