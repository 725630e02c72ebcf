// ALS engine: every step's table is what its netlist computes, errors stay within the bound, each
// step is cheaper than the exact circuit, runs are deterministic, and at 4x4 the ALS front beats
// truncation at comparable MRED.
#include "appmul/synth/als.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "appmul/synth/generators.h"
#include "appmul/netlist/simulate.h"
#include "util/error.h"

namespace fames {
namespace {

Netlist exact_dadda(const Signature& sig) {
  return generate_multiplier(sig, GeneratorSpec{Family::kExactDadda});
}

double exact_energy(const Signature& sig) {
  return characterize(exact_dadda(sig), "exact:dadda").energy_fj;
}

class AlsSignatures : public ::testing::TestWithParam<Signature> {};

TEST_P(AlsSignatures, StepsAreConsistentBoundedAndCheaperThanExact) {
  const Signature sig = GetParam();
  AlsOptions opt;
  const std::vector<AppMul> steps = run_als(exact_dadda(sig), opt);
  ASSERT_GE(steps.size(), 3u);
  const double exact_fj = exact_energy(sig);
  for (size_t i = 0; i < steps.size(); ++i) {
    const AppMul& m = steps[i];
    SCOPED_TRACE(m.name);
    EXPECT_EQ(m.name, "als_mred_s" + std::to_string(i + 1) + "_" + sig.key());
    EXPECT_EQ(m.source, "als:mred");
    ASSERT_TRUE(m.netlist.has_value());
    EXPECT_TRUE(m.table == simulate_table(*m.netlist));
    // Spot-check the bit-parallel simulator against the gate-by-gate reference.
    for (uint32_t w = 0; w < sig.weight_levels(); w += 3)
      for (uint32_t a = 0; a < sig.act_levels(); a += 2)
        ASSERT_EQ(m.table.raw(w, a), evaluate_ref(*m.netlist, w, a));
    EXPECT_LE(m.metrics.mred, opt.max_error + 1e-12);
    EXPECT_LT(m.energy_fj, exact_fj);
    if (i > 0) {
      EXPECT_LE(m.netlist->gate_count(), steps[i - 1].netlist->gate_count() + 1);
    }
  }
  EXPECT_GT(steps.back().metrics.mred, 0);
}

INSTANTIATE_TEST_SUITE_P(Small, AlsSignatures,
                         ::testing::Values(Signature{3, 3, true, false}, Signature{4, 4, true, false},
                                           Signature{4, 3, false, false}));

TEST(Als, DeterministicForASeed) {
  const Signature sig{4, 4, true, false};
  AlsOptions opt;
  opt.candidates_per_step = 8;  // sampling matters
  opt.seed = 7;
  const auto a = run_als(exact_dadda(sig), opt);
  const auto b = run_als(exact_dadda(sig), opt);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(a[i].table == b[i].table);
    EXPECT_EQ(a[i].energy_fj, b[i].energy_fj);
  }
}

TEST(Als, OtherMetricsRespectTheirBound) {
  const Signature sig{3, 3, true, false};
  for (const auto& [name, bound] : {std::pair<const char*, double>{"er", 0.3}, {"wce", 4.0},
                                   {"nmed", 0.05}, {"mse", 3.0}}) {
    AlsOptions opt;
    opt.metric = parse_als_metric(name);
    opt.max_error = bound;
    const auto steps = run_als(exact_dadda(sig), opt);
    ASSERT_FALSE(steps.empty()) << name;
    for (const AppMul& m : steps) {
      EXPECT_LE(metric_value(m.metrics, opt.metric), bound + 1e-12) << m.name;
      EXPECT_EQ(m.source, std::string("als:") + name);
    }
  }
}

TEST(Als, RejectsBadMetricAndOptions) {
  EXPECT_THROW(parse_als_metric("mae"), Error);
  AlsOptions opt;
  opt.candidates_per_step = 0;
  EXPECT_THROW(run_als(exact_dadda(Signature{3, 3, true, false}), opt), Error);
  opt = AlsOptions{};
  opt.max_error = 0;  // only error-free simplifications are admissible
  for (const AppMul& m : run_als(exact_dadda(Signature{3, 3, true, false}), opt))
    EXPECT_TRUE(m.exact) << m.name;
}

TEST(Als, ParetoFrontIsMonotone) {
  const Signature sig{4, 4, true, false};
  const auto steps = run_als(exact_dadda(sig), AlsOptions{});
  const auto front = pareto_front(steps, AlsMetric::kMred);
  ASSERT_FALSE(front.empty());
  ASSERT_LE(front.size(), steps.size());
  for (size_t i = 1; i < front.size(); ++i) {
    EXPECT_GT(front[i].energy_fj, front[i - 1].energy_fj);
    EXPECT_LT(front[i].metrics.mred, front[i - 1].metrics.mred);
  }
  // Nothing in the input dominates a front member.
  for (const AppMul& f : front)
    for (const AppMul& m : steps)
      EXPECT_FALSE(m.energy_fj < f.energy_fj && m.metrics.mred < f.metrics.mred) << f.name;
}

TEST(Als, ZeroProductsStayExactUnlessTheGuardIsOff) {
  const Signature sig{4, 4, true, false};
  const ProductTable exact = ProductTable::exact(sig);
  for (const AppMul& m : run_als(exact_dadda(sig), AlsOptions{}))
    for (size_t p = 0; p < exact.data().size(); ++p)
      if (exact.data()[p] == 0) {
        ASSERT_EQ(m.table.data()[p], 0) << m.name << " pair " << p;
      }
  AlsOptions loose;
  loose.max_zero_product_error = -1;
  const auto steps = run_als(exact_dadda(sig), loose);
  ASSERT_FALSE(steps.empty());
  for (const AppMul& m : steps) EXPECT_LE(m.metrics.mred, loose.max_error + 1e-12);
}

// At 4x4 the ALS front should reach below the truncation family's energy at comparable MRED.
TEST(Als, BeatsTruncationAt4x4) {
  const Signature sig{4, 4, true, false};
  const auto steps = run_als(exact_dadda(sig), AlsOptions{});
  for (int k = 1; k <= 4; ++k) {
    const AppMul t = characterize(generate_multiplier(sig, {Family::kTrunc, k}), "family:trunc");
    if (t.metrics.mred > 0.2) continue;
    double best = 1e300;
    for (const AppMul& m : steps)
      if (m.metrics.mred <= t.metrics.mred) best = std::min(best, m.energy_fj);
    std::printf("trunc k=%d: mred %.4f energy %.2f fJ; ALS at <= that mred: %.2f fJ\n", k,
                t.metrics.mred, t.energy_fj, best);
    EXPECT_LT(best, t.energy_fj) << "trunc k=" << k;
  }
}

// Timing of 8x8 runs, unsigned and signed-weight (slow: run with --gtest_also_run_disabled_tests).
class AlsTiming : public ::testing::TestWithParam<Signature> {};

TEST_P(AlsTiming, DISABLED_Timing8x8) {
  const Signature sig = GetParam();
  const double exact_fj = exact_energy(sig);
  const auto t0 = std::chrono::steady_clock::now();
  AlsOptions opt;
  int reported = 0;
  opt.on_step = [&](const AppMul&) { ++reported; };
  if (const char* k = std::getenv("FAMES_ALS_CANDIDATES")) opt.candidates_per_step = std::atoi(k);
  const auto steps = run_als(exact_dadda(sig), opt);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(reported, static_cast<int>(steps.size()));
  int rises = 0;
  for (size_t i = 1; i < steps.size(); ++i) rises += steps[i].energy_fj > steps[i - 1].energy_fj;
  std::printf("%s: energy rose in %d of %zu steps\n", sig.key().c_str(), rises, steps.size());
  const AppMul& last = steps.back();
  const auto front = pareto_front(steps, AlsMetric::kMred);
  std::printf("%s ALS: %zu steps, %zu on the front, final mred %.4f, energy %.2f fJ vs exact %.2f "
              "fJ (%.1f%%), gates %lld, %.1f s\n",
              sig.key().c_str(), steps.size(), front.size(), last.metrics.mred, last.energy_fj, exact_fj,
              100 * last.energy_fj / exact_fj, static_cast<long long>(last.netlist->gate_count()),
              seconds);
  for (int k = 4; k <= 8; ++k) {
    const AppMul t = characterize(generate_multiplier(sig, {Family::kTrunc, k}), "family:trunc");
    double best = 1e300;
    for (const AppMul& m : steps)
      if (m.metrics.mred <= t.metrics.mred) best = std::min(best, m.energy_fj);
    std::printf("  trunc k=%d: mred %.4f energy %.2f fJ; ALS at <= that mred: %.2f fJ\n", k,
                t.metrics.mred, t.energy_fj, best);
  }
}

INSTANTIATE_TEST_SUITE_P(Wide, AlsTiming,
                         ::testing::Values(Signature{8, 8, false, false}, Signature{8, 8, true, false}));

}  // namespace
}  // namespace fames
