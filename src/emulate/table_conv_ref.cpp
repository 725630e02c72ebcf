// The plain-loop definition of table_conv2d / table_linear: what every fast kernel must reproduce.
#include <cassert>

#include "emulate/table_conv.h"
#include "util/error.h"

namespace fames {

void ConvShape::validate() const {
  if (n < 0 || c < 1 || h < 1 || w < 1 || o < 1 || kh < 1 || kw < 1)
    fail("conv shape has a non-positive size (n={}, c={}, h={}, w={}, o={}, kh={}, kw={})", n, c, h,
         w, o, kh, kw);
  if (stride_h < 1 || stride_w < 1 || dilation_h < 1 || dilation_w < 1 || pad_h < 0 || pad_w < 0)
    fail("conv shape has a bad stride ({}x{}), dilation ({}x{}) or padding ({}x{})", stride_h,
         stride_w, dilation_h, dilation_w, pad_h, pad_w);
  if (groups < 1 || c % groups != 0 || o % groups != 0)
    fail("conv groups={} must divide both channels c={} and o={}", groups, c, o);
  if (out_h() < 1 || out_w() < 1)
    fail("conv kernel {}x{} (dilation {}x{}) does not fit the padded {}x{} input", kh, kw,
         dilation_h, dilation_w, h + 2 * pad_h, w + 2 * pad_w);
}

namespace {
// int32 addition that wraps instead of being undefined on overflow.
inline int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
}  // namespace

void table_conv2d_ref(const ConvShape& s, const uint8_t* act, const uint8_t* weight,
                      const ProductTable& table, int32_t* out) {
  s.validate();
  const int ba = table.signature().ba;
  const int64_t oh = s.out_h(), ow = s.out_w();
  const int64_t cg = s.c / s.groups, og = s.o / s.groups;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t o = 0; o < s.o; ++o) {
      const int64_t g = o / og;
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          int32_t sum = 0;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t ky = 0; ky < s.kh; ++ky)
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t iy = y * s.stride_h - s.pad_h + ky * s.dilation_h;
                const int64_t ix = x * s.stride_w - s.pad_w + kx * s.dilation_w;
                const int64_t c = g * cg + ci;
                const bool inside = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
                const uint32_t a = inside ? act[((n * s.c + c) * s.h + iy) * s.w + ix] : 0;
                const uint32_t wr = weight[((o * cg + ci) * s.kh + ky) * s.kw + kx];
                assert(a >> ba == 0 && wr >> table.signature().bw == 0);
                (void)ba;
                sum = wrap_add(sum, table.raw(wr, a));
              }
          out[((n * s.o + o) * oh + y) * ow + x] = sum;
        }
    }
}

void table_linear_ref(int64_t batch, int64_t in, int64_t out_features, const uint8_t* act,
                      const uint8_t* weight, const ProductTable& table, int32_t* out) {
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t o = 0; o < out_features; ++o) {
      int32_t sum = 0;
      for (int64_t i = 0; i < in; ++i) sum = wrap_add(sum, table.raw(weight[o * in + i], act[b * in + i]));
      out[b * out_features + o] = sum;
    }
}

}  // namespace fames
