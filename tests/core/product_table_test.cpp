#include "core/product_table.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace fames {

TEST(Signature, KeyRoundTrip) {
  for (int bw = 2; bw <= 8; ++bw)
    for (int ba = 2; ba <= 8; ++ba)
      for (bool sw : {false, true})
        for (bool sa : {false, true}) {
          Signature s{bw, ba, sw, sa};
          EXPECT_EQ(Signature::parse(s.key()), s);
        }
  EXPECT_EQ(Signature::parse("4x3"), (Signature{4, 3, true, false}));
  EXPECT_THROW(Signature::parse("9x3"), Error);
}

TEST(Signature, RawAndValue) {
  Signature s{3, 2, true, false};
  EXPECT_EQ(s.w_min(), -4);
  EXPECT_EQ(s.w_max(), 3);
  EXPECT_EQ(s.w_raw(-1), 7u);
  EXPECT_EQ(s.w_value(7), -1);
  EXPECT_EQ(s.a_value(3), 3);
}

TEST(ProductTable, ExactIsProduct) {
  Signature s{4, 3, true, true};
  auto t = ProductTable::exact(s);
  for (int w = s.w_min(); w <= s.w_max(); ++w)
    for (int a = s.a_min(); a <= s.a_max(); ++a) EXPECT_EQ(t.at(w, a), w * a);
  EXPECT_TRUE(t.is_exact());
  t.at(-8, 3) += 1;
  EXPECT_FALSE(t.is_exact());
}

}  // namespace fames
