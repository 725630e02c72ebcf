#include "appmul/als_library.h"

#include <gtest/gtest.h>

#include <set>

namespace fames {

TEST(AlsLibrary, AddsAtMostTheLimitWithinTheBoundForEverySignature) {
  Library lib;
  const std::vector<Signature> sigs = {{3, 3, true, false}, {4, 3, true, false}};
  AlsOptions options;
  options.max_error = 0.1;
  std::vector<std::string> done;
  const size_t added = add_als_members(lib, sigs, options, 4, [&](const Signature& s, size_t n) {
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

}  // namespace fames
