// A whole quantized conv2d / linear layer through a product table, float in and float out, fused
// per image so that no batch-sized intermediate (codes, int32 sums, layout copies) is made.
//
// Contract: TableLayer::forward computes exactly (bit for bit) what these steps compute in turn:
//   1. activation codes  q = min(hi, max(lo, nearbyint(x / act_step)))   (float division,
//      round half to even; hi = max code of ba bits, lo = -hi when signed_act else 0), raw pattern
//      a = q & (2^ba - 1);
//   2. S = table_conv2d / table_linear of the raw patterns with weight_raw (emulate/table_conv.h);
//      with zero points (asymmetric weights), S -= weight_zero[o] * A, A the sum of the activation
//      code values (a_value of the raw patterns; padded taps 0) the output position reads from its
//      group: the zero-point term, exact whatever the table (int32, wrapping like S);
//   3. y = float(S) * scale[o], then + bias[o] if given, then - correction[o] if given, each a
//      separate float operation (no fused multiply-add).
// forward_ref runs those three steps literally (with the _ref kernel); tests hold the two equal.
//
// Layouts: the input is addressed through element strides {n, c, h, w}, so NCHW and channels-last
// tensors are read in place (linear layers: h = w = 1). The output is channels-last: element
// (n, o, y, x) at ((n * out_h + y) * out_w + x) * o_total + o, i.e. [n][o] for linear layers.
// Threads: all of default_job_threads(), one image (or a few small ones) per job.
// The layer owns copies of everything it needs and never changes after construction; build a new
// one when weights, clips, bits or the table change.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/product_table.h"
#include "emulate/table_conv.h"

namespace fames {

struct TableLayerParams {
  ConvShape shape;      // geometry: c, o, kh, kw, strides, pads, dilations, groups (n, h, w unused)
  bool linear = false;  // then only shape.c (in features) and shape.o (out features) matter
  float act_step = 1.0f;
  bool signed_act = false;  // must equal table.signature().signed_a
  std::vector<uint8_t> weight_raw;      // raw weight codes, [o][c/groups][kh][kw] (linear: [o][c])
  std::vector<float> scale;             // [o]
  // Empty (no zero point), or [o] zero points in [w_min, w_max] of the table's signature (0..2^bw-1
  // for the unsigned weights of an asymmetric layer): see step 2.
  std::vector<int32_t> weight_zero;
  std::vector<float> bias, correction;  // each empty or [o]
  // How the kernels read activation taps: chosen per shape by default; tests force either.
  // implicit applies to stride-1 convolutions only (others use im2col whatever is asked).
  enum class Reads { automatic, im2col, implicit };
  Reads reads = Reads::automatic;
};

class TableLayer {
 public:
  // Validates sizes (throws fames::Error naming the field) and prepares the table for the SIMD
  // level active now. `table` must have bw/ba/signedness of the layer.
  TableLayer(TableLayerParams params, std::shared_ptr<const ProductTable> table);
  ~TableLayer();
  TableLayer(const TableLayer&) = delete;
  TableLayer& operator=(const TableLayer&) = delete;

  // x: n images of c x h x w floats, element (n, c, y, x) at x[n*s[0] + c*s[1] + y*s[2] + x*s[3]].
  // y: n * out_h * out_w * o floats (see file comment).
  void forward(const float* x, int64_t n, int64_t h, int64_t w, const int64_t strides[4],
               float* y) const;
  void forward_ref(const float* x, int64_t n, int64_t h, int64_t w, const int64_t strides[4],
                   float* y) const;

  const TableLayerParams& params() const { return params_; }
  // The kernel serving this layer at the active level ("avx512/shuf8"); given an input size, also
  // how it reads activation taps there ("avx512/shuf8 implicit", "... im2col").
  std::string kernel(int64_t h = 0, int64_t w = 0) const;

 private:
  struct Impl;
  bool reads_implicit(int64_t h, int64_t w) const;
  TableLayerParams params_;
  std::shared_ptr<const ProductTable> table_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fames
