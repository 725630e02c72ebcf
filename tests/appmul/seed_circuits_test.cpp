// Seed preparation (seed_circuits.h): guarding makes compensated truncation keep products of 0 exact
// without losing MRED; compensation lowers a truncation's error without adding gates or breaking
// the guard; both leave circuits alone that have nothing to fix, and both compute what they say.
#include "appmul/synth/seed_circuits.h"

#include <gtest/gtest.h>

#include "appmul/netlist/simulate.h"
#include "appmul/synth/generators.h"

namespace fames {
namespace {

int nonzero_on_zero_products(const ProductTable& table) {
  const ProductTable exact = ProductTable::exact(table.signature());
  int count = 0;
  for (size_t p = 0; p < exact.data().size(); ++p) count += exact.data()[p] == 0 && table.data()[p] != 0;
  return count;
}

class SeedCircuits : public ::testing::TestWithParam<Signature> {};

TEST_P(SeedCircuits, GuardKeepsZeroProductsExactAndMredNoWorse) {
  const Signature sig = GetParam();
  const Netlist truncc = generate_multiplier(sig, GeneratorSpec{Family::kTruncCorrected, 4});
  const AppMul before = characterize(truncc, "family:truncc");
  ASSERT_GT(nonzero_on_zero_products(before.table), 0);  // the constant shows on products of 0
  const std::optional<Netlist> guarded = guard_zero_products(truncc, AlsOptions{});
  ASSERT_TRUE(guarded.has_value());
  EXPECT_EQ(guarded->name(), truncc.name());
  const AppMul after = characterize(*guarded, "family:truncc");
  EXPECT_EQ(after.table, simulate_table(*guarded));
  EXPECT_EQ(nonzero_on_zero_products(after.table), 0);
  EXPECT_LE(after.metrics.mred, before.metrics.mred);
  EXPECT_GT(after.energy_fj, before.energy_fj);  // the gating is real logic
  // With the guard off there is nothing to repair.
  AlsOptions off;
  off.max_zero_product_error = -1;
  EXPECT_FALSE(guard_zero_products(truncc, off).has_value());
  // A circuit that keeps the guard is left alone.
  EXPECT_FALSE(guard_zero_products(generate_multiplier(sig, GeneratorSpec{Family::kTrunc, 4}), AlsOptions{}));
}

TEST_P(SeedCircuits, CompensationLowersTruncationErrorWithoutGates) {
  const Signature sig = GetParam();
  const Netlist trunc = generate_multiplier(sig, GeneratorSpec{Family::kTrunc, 4});
  const AppMul before = characterize(trunc, "family:trunc");
  for (AlsMetric metric : {AlsMetric::kMred, AlsMetric::kMse}) {
    AlsOptions options;
    options.metric = metric;
    const std::optional<Netlist> tied = compensate_constant_outputs(trunc, options);
    ASSERT_TRUE(tied.has_value()) << als_metric_name(metric);
    const AppMul after = characterize(*tied, "family:trunc");
    EXPECT_EQ(after.table, simulate_table(*tied));
    EXPECT_LT(metric_value(after.metrics, metric), metric_value(before.metrics, metric));
    EXPECT_LE(tied->gate_count(), trunc.gate_count());
    EXPECT_EQ(nonzero_on_zero_products(after.table), 0);
    // Every constant output that could help is tied: running it again finds nothing.
    EXPECT_FALSE(compensate_constant_outputs(*tied, options).has_value());
  }
  // The exact multiplier has no constant outputs.
  EXPECT_FALSE(compensate_constant_outputs(generate_multiplier(sig, GeneratorSpec{Family::kExactDadda}),
                                           AlsOptions{}));
}

INSTANTIATE_TEST_SUITE_P(Widths, SeedCircuits,
                         ::testing::Values(Signature{6, 6, true, false}, Signature{8, 8, true, false},
                                           Signature{6, 6, true, true}),
                         [](const auto& info) { return info.param.key(); });

}  // namespace
}  // namespace fames
