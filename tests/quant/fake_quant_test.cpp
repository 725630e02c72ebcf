#include "quant/fake_quant.h"

#include <gtest/gtest.h>

namespace fames::quant {

TEST(FakeQuant, CodesAreClampedIntegers) {
  auto x = torch::linspace(-3, 3, 101);
  auto step = torch::tensor(0.25);
  for (bool is_signed : {false, true}) {
    for (int bits = 2; bits <= 8; ++bits) {
      auto codes = quantize_codes(x, step, bits, is_signed);
      EXPECT_TRUE(torch::equal(codes, torch::round(codes)));
      EXPECT_LE(codes.max().item<double>(), max_code(bits, is_signed));
      EXPECT_GE(codes.min().item<double>(), is_signed ? -max_code(bits, is_signed) : 0);
      auto fq = fake_quantize(x, step, bits, is_signed);
      EXPECT_TRUE(torch::allclose(fq, codes * step));
    }
  }
}

TEST(FakeQuant, StraightThroughGradients) {
  auto x = torch::tensor({0.1, 0.6, 5.0}, torch::requires_grad());
  auto step = torch::tensor(0.2, torch::requires_grad());
  auto y = fake_quantize(x, step, 3, false);  // max code 7 -> clip at 1.4
  y.sum().backward();
  // Inside the range: dy/dx = 1; clipped: 0.
  EXPECT_FLOAT_EQ(x.grad()[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(x.grad()[2].item<float>(), 0.0f);
  // d/dstep: round(x/s) - x/s inside, hi outside (LSQ): (0 - 0.5) + (3 - 3) + 7.
  EXPECT_NEAR(step.grad().item<float>(), -0.5f + 0.0f + 7.0f, 1e-4);
}

}  // namespace fames::quant
