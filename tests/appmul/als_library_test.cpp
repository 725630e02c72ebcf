#include "appmul/synth/als_library.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "appmul/synth/dominance.h"
#include "appmul/synth/library_build.h"

namespace fames {

TEST(AlsLibrary, AddsAtMostTheLimitWithinTheBoundForEverySignature) {
  Library lib;
  const std::vector<Signature> sigs = {{3, 3, true, false}, {4, 3, true, false}};
  AlsLibraryOptions options;
  options.als.max_error = 0.1;
  options.max_per_signature = 4;
  options.seed_steps = 0;
  std::vector<std::string> done;
  const size_t added = add_als_members(lib, sigs, options, [&](const Signature& s, size_t n) {
    done.push_back(s.key());
    EXPECT_LE(n, 4u);
  });
  EXPECT_EQ(done.size(), sigs.size());
  EXPECT_EQ(added, lib.size());
  EXPECT_GT(added, 0u);
  std::set<std::string> names;
  for (const AppMul& m : lib.all()) {
    EXPECT_LE(m.metrics.mred, 0.1 + 1e-12) << m.name;
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_EQ(m.source.rfind("als:", 0), 0u) << m.source;
  }
  for (const auto& sig : sigs) EXPECT_LE(lib.of_signature(sig).size(), 4u);
}

// Seeded runs start from family circuits; thinning keeps a member dominating each seed it can.
TEST(AlsLibrary, SeededRunsKeepTheirDominatingMembersThroughThinning) {
  const Signature sig{4, 4, false, false};
  AlsLibraryOptions options;
  options.seed_steps = 6;
  options.max_per_signature = 3;  // fewer than the seeds: the dominating members must win
  const std::vector<AppMul> seeds = als_seed_members(sig, options);
  ASSERT_GE(seeds.size(), 3u);
  const std::vector<AppMul> members = build_als_members({sig}, options).front();
  std::set<std::string> names;
  for (const AppMul& m : members) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_LE(m.metrics.mred, options.als.max_error + 1e-12);
  }
  // The unthinned front of the same runs dominates a seed iff the thinned members do.
  AlsLibraryOptions all = options;
  all.max_per_signature = 0;
  const auto full = build_als_members({sig}, all).front();
  const auto full_report = check_dominance(full, seeds, AlsMetric::kMred, 0, 1);
  const auto kept_report = check_dominance(members, seeds, AlsMetric::kMred, 0, 1);
  EXPECT_EQ(full_report.dominated_count(), kept_report.dominated_count());
  EXPECT_GT(full.size(), members.size());
}

}  // namespace fames

namespace fames {
namespace {

Library family_and_als_library(const Signature& sig) {
  Library lib = build_family_library({sig}, FamilyBuildOptions{});
  add_als_members(lib, {sig}, AlsLibraryOptions{});
  return lib;
}

// `fames lib build` defaults: no two approximate members of a signature share a product table, and
// none has the exact one (an ALS step that lands on the exact table or on a family member's adds
// nothing), and w4s_a4s, the smallest
// signed-activation signature with both widths >= 4, offers at least 20 members.
TEST(AlsLibrary, MembersHaveDistinctTablesAndW4sA4sHasTwenty) {
  const Signature sig{4, 4, true, true};
  const Library lib = family_and_als_library(sig);
  const std::vector<const AppMul*> members = lib.of_signature(sig);
  EXPECT_GE(members.size(), 20u);
  std::set<std::vector<int32_t>> tables;
  size_t als = 0;
  for (const AppMul* m : members)
    if (m->exact) tables.insert(m->table.data());  // the exact circuits share theirs
  EXPECT_EQ(tables.size(), 1u);
  for (const AppMul* m : members) {
    if (m->exact) continue;
    EXPECT_TRUE(tables.insert(m->table.data()).second) << m->name << " repeats a table";
    als += m->source.rfind("als:", 0) == 0;
  }
  EXPECT_GT(als, 0u);
}

// With the lib build defaults, every family member (all families) whose MRED lies in [0.5%, 20%]
// is dominated by an ALS member of its signature: strictly cheaper at no more MRED. The full 8x8
// check takes tens of seconds per signature (docs/appmul-library.md has its command and figures);
// these signatures run the same seeds, runs and thinning in about a second each, and each had a
// family member (perf_s0m1, truncc_k3, truncc_k2) that the ALS of commit 070407a left undominated.
TEST(AlsLibrary, AlsMembersDominateEveryFamilyMemberInTheBand) {
  for (const Signature& sig : {Signature{5, 6, true, true}, Signature{6, 5, true, true},
                               Signature{5, 7, true, false}}) {
    SCOPED_TRACE(sig.key());
    const Library lib = family_and_als_library(sig);
    std::vector<AppMul> als, family;
    for (const AppMul* m : lib.of_signature(sig))
      (m->source.rfind("als:", 0) == 0 ? als : family).push_back(*m);
    for (const AppMul& m : als_family_rivals(sig, AlsLibraryOptions{})) family.push_back(m);
    const DominanceReport report = check_dominance(als, family, AlsMetric::kMred, 0.005, 0.2);
    EXPECT_GE(report.rows.size(), 10u);
    for (const DominanceRow& row : report.rows)
      EXPECT_TRUE(row.dominated) << row.rival << " (" << row.rival_error << ", " << row.rival_energy_fj
                                 << " fJ): best ALS " << row.best << " " << row.best_energy_fj << " fJ";
  }
}

// The largest |value| a table puts on a product of 0.
int zero_product_error(const ProductTable& table) {
  const ProductTable exact = ProductTable::exact(table.signature());
  int worst = 0;
  for (size_t p = 0; p < exact.data().size(); ++p)
    if (exact.data()[p] == 0) worst = std::max(worst, std::abs(table.data()[p]));
  return worst;
}

// On w5s_a4u the strict runs leave a guard-breaking truncc rival undominated (its guard costs more
// than it saves); the runs that inherit the rivals' zero-product error dominate every such rival,
// and put no more on products of 0 than some rival does.
TEST(AlsLibrary, InheritingRunsDominateTheGuardBreakingRivalsTheStrictRunsMiss) {
  const Signature sig{5, 4, true, false};
  AlsLibraryOptions options;
  const std::vector<AppMul> rivals = als_family_rivals(sig, options);
  int rival_zero_error = 0;
  for (const AppMul& r : rivals) rival_zero_error = std::max(rival_zero_error, zero_product_error(r.table));
  ASSERT_GT(rival_zero_error, 0);
  auto undominated_breaking = [&](const std::vector<AppMul>& members) {
    std::vector<std::string> names;
    for (const AppMul& r : rivals) {
      if (zero_product_error(r.table) == 0) continue;
      const bool dominated = std::any_of(members.begin(), members.end(), [&](const AppMul& m) {
        return m.energy_fj < r.energy_fj && m.metrics.mred <= r.metrics.mred;
      });
      if (!dominated) names.push_back(r.name);
    }
    return names;
  };
  options.inherit_zero_product_error = false;
  const std::vector<AppMul> strict = build_als_members({sig}, options).front();
  for (const AppMul& m : strict) EXPECT_EQ(zero_product_error(m.table), 0) << m.name;
  EXPECT_FALSE(undominated_breaking(strict).empty());
  options.inherit_zero_product_error = true;
  const std::vector<AppMul> inheriting = build_als_members({sig}, options).front();
  EXPECT_TRUE(undominated_breaking(inheriting).empty())
      << "undominated: " << ::testing::PrintToString(undominated_breaking(inheriting));
  int inherited = 0;
  for (const AppMul& m : inheriting) {
    EXPECT_LE(zero_product_error(m.table), rival_zero_error) << m.name;
    inherited += zero_product_error(m.table) > 0;
  }
  EXPECT_GT(inherited, 0);
}

}  // namespace
}  // namespace fames
