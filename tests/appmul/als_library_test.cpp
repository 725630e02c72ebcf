#include "appmul/synth/als_library.h"

#include <gtest/gtest.h>

#include <set>

#include "appmul/synth/dominance.h"

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
