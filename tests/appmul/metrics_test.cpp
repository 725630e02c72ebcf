// Error metrics on hand-checked tables: one wrong entry, a histogram, the MRED zero convention.
#include "appmul/library/metrics.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace fames {
namespace {

TEST(Metrics, ExactTableHasNoError) {
  const ErrorMetrics m = error_metrics(ProductTable::exact(Signature{4, 3, true, false}));
  EXPECT_EQ(m.er, 0);
  EXPECT_EQ(m.med, 0);
  EXPECT_EQ(m.mred, 0);
  EXPECT_EQ(m.wce, 0);
}

TEST(Metrics, OneWrongEntryUniform) {
  const Signature sig{2, 2, false, false};  // w, a in 0..3
  ProductTable t = ProductTable::exact(sig);
  t.at(3, 3) = 8;  // error -1 on 1 of 16 pairs
  const ErrorMetrics m = error_metrics(t);
  EXPECT_DOUBLE_EQ(m.er, 1.0 / 16);
  EXPECT_DOUBLE_EQ(m.med, 1.0 / 16);
  EXPECT_DOUBLE_EQ(m.nmed, 1.0 / 16 / 9);   // max |exact| = 9
  EXPECT_DOUBLE_EQ(m.mred, (1.0 / 9) / 9);  // 9 pairs with a non-zero product
  EXPECT_DOUBLE_EQ(m.wce, 1);
  EXPECT_DOUBLE_EQ(m.mse, 1.0 / 16);
  EXPECT_DOUBLE_EQ(m.bias, -1.0 / 16);
}

TEST(Metrics, ErrorsOnZeroProductsCountExceptInMred) {
  const Signature sig{2, 2, true, false};
  ProductTable t = ProductTable::exact(sig);
  t.at(0, 2) = 4;  // exact 0: counts in er/med but not in mred
  const ErrorMetrics m = error_metrics(t);
  EXPECT_DOUBLE_EQ(m.er, 1.0 / 16);
  EXPECT_DOUBLE_EQ(m.med, 4.0 / 16);
  EXPECT_EQ(m.mred, 0);
  EXPECT_DOUBLE_EQ(m.nmed, 4.0 / 16 / 6);  // max |w*a| = |-2 * 3|
}

TEST(Metrics, HistogramWeightsPairs) {
  const Signature sig{2, 2, false, false};
  ProductTable t = ProductTable::exact(sig);
  t.at(3, 3) = 8;
  t.at(1, 1) = 3;  // error +2, but weight 0: must not affect anything, not even the WCE
  std::vector<double> weights(16, 0.0);
  weights[(3u << 2) | 3u] = 3.0;
  weights[(2u << 2) | 1u] = 1.0;
  const ErrorMetrics m = error_metrics(t, weights);
  EXPECT_DOUBLE_EQ(m.er, 0.75);
  EXPECT_DOUBLE_EQ(m.bias, -0.75);
  EXPECT_DOUBLE_EQ(m.wce, 1);
  EXPECT_DOUBLE_EQ(m.mred, 0.75 / 9);
}

TEST(Metrics, BadHistogramsAreRejected) {
  const ProductTable t = ProductTable::exact(Signature{2, 2, false, false});
  EXPECT_THROW(error_metrics(t, std::vector<double>(15, 1.0)), Error);
  EXPECT_THROW(error_metrics(t, std::vector<double>(16, 0.0)), Error);
  std::vector<double> negative(16, 1.0);
  negative[3] = -1;
  EXPECT_THROW(error_metrics(t, negative), Error);
}

}  // namespace
}  // namespace fames
