#include "measure/counting.h"

#include <algorithm>
#include <mutex>

#include "emulate/simd_level.h"
#include "measure/counting_walk.h"
#include "util/error.h"

namespace fames::measure {
namespace {

// Raw activation patterns of the input, zero-padded like the convolution pads it, as uint8.
torch::Tensor padded_act_patterns(const quant::QuantLayer& layer, const torch::Tensor& input) {
  const int ba = layer.act_bits();
  torch::Tensor raw = layer.input_codes(input).bitwise_and((1 << ba) - 1).to(torch::kUInt8);
  if (layer.is_linear()) return raw.contiguous();
  const int64_t p = layer.geometry().padding;
  return torch::constant_pad_nd(raw, {p, p, p, p}, 0).contiguous();
}

// Raw weight patterns [O, J] as uint8 (J = C*k*k in the weight layout, C for linear layers).
torch::Tensor weight_patterns(const quant::QuantLayer& layer) {
  return layer.weight_codes().bitwise_and((1 << layer.weight_bits()) - 1).to(torch::kUInt8)
      .reshape({layer.out_channels(), -1}).contiguous();
}

torch::Tensor channel_scale(const quant::QuantLayer& layer) {
  return (layer.weight_step() * layer.act_step()).detach().to(torch::kFloat).contiguous();
}

struct Geometry {
  int64_t n, c, o, k, s, hp, wp, ho, wo;  // conv: padded input hp x wp, output ho x wo; linear: k = 1
};

Geometry geometry_of(const quant::QuantLayer& layer, const torch::Tensor& acts, const torch::Tensor& u) {
  Geometry g{};
  g.n = acts.size(0);
  g.c = layer.in_channels();
  g.o = layer.out_channels();
  if (layer.is_linear()) {
    g.k = g.s = g.hp = g.wp = g.ho = g.wo = 1;
  } else {
    g.k = layer.geometry().kernel;
    g.s = layer.geometry().stride;
    g.hp = acts.size(2);
    g.wp = acts.size(3);
    g.ho = u.size(-2);
    g.wo = u.size(-1);
  }
  return g;
}

}  // namespace

namespace detail {
int64_t walk_tap_ref(const TapWalk& w) {
  float* __restrict sum = w.nonzero_sum;
  std::fill(sum, sum + w.vo, 0.0f);
  return walk_tap(w, [&](int64_t a, const float* __restrict u) {
    float* __restrict into = w.r + a * w.vo;
    for (int64_t q = 0; q < w.vo; ++q) {
      into[q] += u[q];
      sum[q] += u[q];
    }
  });
}

void scatter_tap_ref(const TapScatter& s) {
  for (const int64_t a : *s.touched) {
    scatter_pattern(s, a);
    std::fill(s.r + a * s.vo, s.r + (a + 1) * s.vo, 0.0f);
    s.seen[a] = 0;
  }
  s.touched->clear();
}
}  // namespace detail

namespace {

// The one dispatch point of the walk and the scatter: AVX-512 when the emulator's level allows it.
struct TapKernels {
  int64_t (*walk)(const detail::TapWalk&) = detail::walk_tap_ref;
  void (*scatter)(const detail::TapScatter&) = detail::scatter_tap_ref;
};
TapKernels tap_kernels() {
  TapKernels k;
#if defined(FAMES_X86_KERNELS)
  if (active_simd_level() == SimdLevel::avx512) k = {detail::walk_tap_avx512, detail::scatter_tap_avx512};
#endif
  return k;
}

// The nonzero pixels of the padded input planes, split by stride phase: phase (y % s) * s + (x % s)
// holds the pixels with that remainder, row-major. Filled without a branch on the pixel (half of
// them are zero, in no predictable order).
class PhasePixels {
 public:
  PhasePixels(int64_t hp, int64_t wp, int64_t s)
      : hp_(hp), wp_(wp), s_(s), capacity_(((hp + s - 1) / s) * ((wp + s - 1) / s) + 1),
        pixels_(static_cast<size_t>(s * s * capacity_)), counts_(static_cast<size_t>(s * s)) {}

  void fill(const uint8_t* plane) {
    std::fill(counts_.begin(), counts_.end(), 0);
    for (int64_t y = 0; y < hp_; ++y)
      for (int64_t x = 0; x < wp_; ++x) {
        const int64_t phase = (y % s_) * s_ + x % s_;
        const uint8_t a = plane[y * wp_ + x];
        pixels_[static_cast<size_t>(phase * capacity_ + counts_[phase])] = {
            static_cast<int32_t>(y / s_), static_cast<int32_t>(x / s_), static_cast<int32_t>(a)};
        counts_[phase] += a != 0;
      }
  }
  const detail::Pixel* begin(int64_t phase) const { return pixels_.data() + phase * capacity_; }
  const detail::Pixel* end(int64_t phase) const { return begin(phase) + counts_[phase]; }

 private:
  int64_t hp_, wp_, s_, capacity_;  // capacity_ has one spare slot for the last (maybe zero) write
  std::vector<detail::Pixel> pixels_;
  std::vector<int64_t> counts_;
};

// Walks every multiplication with a nonzero activation once. For tap j, R[a][v,o] collects the sum
// over output positions whose input at tap j has pattern a of u_v,o; pattern 0's sum is the total
// over all positions minus the sum of the rows the walk added. Then R[a][v,o] goes to G_v[W_oj][a]
// (counting_walk.h). Every element of G sums taps in order and channels in order within a tap.
// `hist` (may be null) receives tap_histogram's counts.
torch::Tensor counting_scatter(const quant::QuantLayer& layer, const torch::Tensor& input,
                               const std::vector<torch::Tensor>& grads, torch::Tensor* hist) {
  const int64_t sa = int64_t{1} << layer.act_bits(), sw = int64_t{1} << layer.weight_bits();
  const int64_t t = sw * sa;
  const int64_t v_count = static_cast<int64_t>(grads.size());
  const torch::Tensor acts = padded_act_patterns(layer, input);
  const torch::Tensor wraw_by_tap = weight_patterns(layer).t().contiguous();  // [J, O]
  const Geometry geo = geometry_of(layer, acts, grads.front());
  const int64_t p_count = geo.ho * geo.wo, vo = v_count * geo.o, j_count = geo.c * geo.k * geo.k;
  // [N, P, V, O], scaled by s_w(o) s_a.
  const torch::Tensor u = (torch::stack(grads, 0).detach().to(torch::kFloat).reshape({v_count, geo.n, geo.o, p_count}) *
                           channel_scale(layer).view({1, 1, geo.o, 1}))
                              .permute({1, 3, 0, 2})
                              .contiguous();
  torch::Tensor g = torch::zeros({v_count, geo.n, t});
  torch::Tensor counts = torch::zeros({j_count, sa}, torch::kInt64);
  const uint8_t* a_ptr = acts.data_ptr<uint8_t>();
  const uint8_t* w_ptr = wraw_by_tap.data_ptr<uint8_t>();
  const float* u_ptr = u.data_ptr<float>();
  float* g_ptr = g.data_ptr<float>();
  std::mutex counts_mutex;
  at::parallel_for(0, geo.n, 1, [&](int64_t begin, int64_t end) {
    const TapKernels kernels = tap_kernels();
    std::vector<float> r_buf(static_cast<size_t>(sa * vo), 0.0f), total(static_cast<size_t>(vo)),
        nonzero_sum(static_cast<size_t>(vo));
    std::vector<uint8_t> seen(static_cast<size_t>(sa), 0);
    std::vector<int64_t> touched, local_counts(static_cast<size_t>(j_count * sa), 0);
    PhasePixels pixels(geo.hp, geo.wp, geo.s);
    for (int64_t i = begin; i < end; ++i) {
      const float* ui = u_ptr + i * p_count * vo;
      std::fill(total.begin(), total.end(), 0.0f);
      for (int64_t pos = 0; pos < p_count; ++pos)
        for (int64_t q = 0; q < vo; ++q) total[q] += ui[pos * vo + q];
      for (int64_t c = 0; c < geo.c; ++c) {
        pixels.fill(a_ptr + (i * geo.c + c) * geo.hp * geo.wp);
        for (int64_t ky = 0; ky < geo.k; ++ky) {
          for (int64_t kx = 0; kx < geo.k; ++kx) {
            const int64_t j = (c * geo.k + ky) * geo.k + kx;
            const int64_t phase = (ky % geo.s) * geo.s + kx % geo.s;
            int64_t* tap_counts = local_counts.data() + j * sa;
            const int64_t zeros =
                p_count - kernels.walk({pixels.begin(phase), pixels.end(phase), ky / geo.s, kx / geo.s, geo.ho,
                                        geo.wo, ui, vo, r_buf.data(), nonzero_sum.data(), tap_counts, seen.data(),
                                        &touched});
            if (zeros > 0) {  // R[0] = total - the rows of the nonzero patterns
              float* r0 = r_buf.data();
              for (int64_t q = 0; q < vo; ++q) r0[q] = total[q] - nonzero_sum[q];
              tap_counts[0] += zeros;
              seen[0] = 1;
              touched.push_back(0);
            }
            kernels.scatter({r_buf.data(), vo, geo.o, sa, w_ptr + j * geo.o, g_ptr + i * t, geo.n * t, seen.data(),
                             &touched});
          }
        }
      }
    }
    if (hist) {
      std::lock_guard<std::mutex> lock(counts_mutex);
      int64_t* into = counts.data_ptr<int64_t>();
      for (size_t q = 0; q < local_counts.size(); ++q) into[q] += local_counts[q];
    }
  });
  if (hist) *hist = counts;
  return g;
}

// [O, 2^bw, rest...] one-hot of the raw weight patterns times s_w(o) * s_a.
torch::Tensor scaled_weight_masks(const quant::QuantLayer& layer) {
  const int bw = layer.weight_bits();
  const torch::Tensor raw = layer.weight_codes().bitwise_and((1 << bw) - 1).to(torch::kInt64);
  torch::Tensor onehot = torch::one_hot(raw, int64_t{1} << bw).to(torch::kFloat);  // [O, ..., Sw]
  onehot = onehot.movedim(-1, 1);                                                  // [O, Sw, ...]
  std::vector<int64_t> shape(onehot.dim(), 1);
  shape[0] = layer.out_channels();
  return onehot * channel_scale(layer).view(shape);
}

// One transposed convolution for all weight patterns: the input gradient of <u, conv(x, s [W == w])>
// says how much each input pixel contributes through taps whose weight is w; summing those by the
// pixel's activation pattern gives row w of G. The V weightings ride in the batch dimension.
torch::Tensor counting_conv(const quant::QuantLayer& layer, const torch::Tensor& input,
                            const std::vector<torch::Tensor>& grads) {
  const int64_t sw = int64_t{1} << layer.weight_bits(), sa = int64_t{1} << layer.act_bits();
  const int64_t v_count = static_cast<int64_t>(grads.size());
  const int64_t n = input.size(0), nv = n * v_count;
  const torch::Tensor acts = padded_act_patterns(layer, input).to(torch::kInt64);
  const torch::Tensor masks = scaled_weight_masks(layer);  // [O, Sw, C(, k, k)]
  const torch::Tensor u = torch::cat(grads, 0).detach().to(torch::kFloat).contiguous();  // [V*N, O...]
  torch::Tensor contributions;  // [V*N, Sw, C(, Hc, Wc)]: input-pixel contributions per weight pattern
  torch::Tensor patterns;       // [N, 1, C(, Hc, Wc)]
  if (layer.is_linear()) {
    contributions = torch::matmul(u, masks.reshape({layer.out_channels(), -1})).view({nv, sw, -1});
    patterns = acts.view({n, 1, -1});
  } else {
    const int64_t c = layer.in_channels(), k = layer.geometry().kernel, s = layer.geometry().stride;
    const torch::Tensor weight = masks.reshape({layer.out_channels(), sw * c, k, k});
    contributions = torch::conv_transpose2d(u, weight, {}, s);  // [V*N, Sw*C, Hc, Wc]
    const int64_t hc = contributions.size(2), wc = contributions.size(3);
    contributions = contributions.view({nv, sw, c, hc, wc});
    // Rows/columns of the padded input that no tap reaches (stride remainder) contribute nothing.
    patterns = acts.slice(2, 0, hc).slice(3, 0, wc).unsqueeze(1);
  }
  const torch::Tensor index =
      (torch::arange(sw, torch::kInt64).view({1, sw, 1}) * sa + patterns.reshape({n, 1, -1})).reshape({n, -1});
  torch::Tensor g = torch::zeros({nv, sw * sa});
  g.scatter_add_(1, index.repeat({v_count, 1}), contributions.reshape({nv, -1}));
  return g.view({v_count, n, sw * sa});
}

// Measured (bench/estimate_counting_torch_bench, ResNet-20 3x3 shapes): the transposed convolution
// costs about 2^bw times the MACs in dense FLOPs, and runs the faster the more channels feed its
// GEMM. It beat the scatter walk only with 2-bit weights on 64 input channels (0.68x the time);
// with 32 channels, or 3-bit weights, the walk was faster.
bool conv_is_faster(const quant::QuantLayer& layer) {
  return !layer.is_linear() && (int64_t{1} << layer.weight_bits()) * 16 <= layer.in_channels();
}

}  // namespace

torch::Tensor weighted_counting(const quant::QuantLayer& layer, const torch::Tensor& input,
                                const std::vector<torch::Tensor>& grad_outputs, CountingMethod method,
                                torch::Tensor* tap_hist) {
  torch::NoGradGuard no_grad;
  if (layer.geometry().groups != 1) fail("estimation supports ungrouped layers only");
  if (grad_outputs.empty()) fail("weighted_counting needs at least one output gradient");
  if (method == CountingMethod::kAuto) method = conv_is_faster(layer) ? CountingMethod::kConv : CountingMethod::kScatter;
  if (method == CountingMethod::kScatter) return counting_scatter(layer, input, grad_outputs, tap_hist);
  if (tap_hist) *tap_hist = tap_histogram(layer, input);
  return counting_conv(layer, input, grad_outputs);
}

torch::Tensor weighted_counting(const quant::QuantLayer& layer, const torch::Tensor& input,
                                const torch::Tensor& grad_output, CountingMethod method) {
  return weighted_counting(layer, input, std::vector<torch::Tensor>{grad_output}, method).squeeze(0);
}

torch::Tensor weighted_counting_ref(const quant::QuantLayer& layer, const torch::Tensor& input,
                                    const torch::Tensor& grad_output) {
  torch::NoGradGuard no_grad;
  const int64_t sa = int64_t{1} << layer.act_bits();
  const torch::Tensor acts = padded_act_patterns(layer, input).to(torch::kInt64);
  const torch::Tensor wraw =
      layer.weight_codes().bitwise_and((1 << layer.weight_bits()) - 1).to(torch::kInt64);
  const torch::Tensor scale = (layer.weight_step() * layer.act_step()).to(torch::kDouble);
  const int64_t n = input.size(0), o_count = layer.out_channels();
  torch::Tensor g = torch::zeros({n, (int64_t{1} << layer.weight_bits()) * sa}, torch::kDouble);
  auto ga = g.accessor<double, 2>();
  auto sc = scale.accessor<double, 1>();
  const torch::Tensor u = grad_output.to(torch::kDouble).contiguous();
  if (layer.is_linear()) {
    auto a = acts.accessor<int64_t, 2>();
    auto w = wraw.accessor<int64_t, 2>();
    auto ua = u.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t o = 0; o < o_count; ++o)
        for (int64_t j = 0; j < layer.in_channels(); ++j) ga[i][w[o][j] * sa + a[i][j]] += ua[i][o] * sc[o];
    return g.to(torch::kFloat);
  }
  auto a = acts.accessor<int64_t, 4>();
  auto w = wraw.accessor<int64_t, 4>();
  auto ua = u.accessor<double, 4>();
  const int64_t k = layer.geometry().kernel, s = layer.geometry().stride;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < o_count; ++o)
      for (int64_t y = 0; y < u.size(2); ++y)
        for (int64_t x = 0; x < u.size(3); ++x)
          for (int64_t c = 0; c < layer.in_channels(); ++c)
            for (int64_t ky = 0; ky < k; ++ky)
              for (int64_t kx = 0; kx < k; ++kx)
                ga[i][w[o][c][ky][kx] * sa + a[i][c][y * s + ky][x * s + kx]] += ua[i][o][y][x] * sc[o];
  return g.to(torch::kFloat);
}

torch::Tensor tap_histogram(const quant::QuantLayer& layer, const torch::Tensor& input) {
  torch::NoGradGuard no_grad;
  const int64_t sa = int64_t{1} << layer.act_bits();
  const torch::Tensor acts = padded_act_patterns(layer, input);
  int64_t ho = 1, wo = 1;
  if (!layer.is_linear()) {
    const int64_t p = layer.geometry().padding;
    std::tie(ho, wo) = layer.output_size(acts.size(2) - 2 * p, acts.size(3) - 2 * p);
  }
  const int64_t n = acts.size(0), c_count = layer.in_channels();
  const int64_t k = layer.is_linear() ? 1 : layer.geometry().kernel, s = layer.is_linear() ? 1 : layer.geometry().stride;
  const int64_t hp = layer.is_linear() ? 1 : acts.size(2), wp = layer.is_linear() ? 1 : acts.size(3);
  torch::Tensor hist = torch::zeros({c_count * k * k, sa}, torch::kInt64);
  const uint8_t* a_ptr = acts.data_ptr<uint8_t>();
  int64_t* h_ptr = hist.data_ptr<int64_t>();
  // Four interleaved sub-histograms: runs of one pattern (the zeros after a ReLU, the padding)
  // would otherwise chain every increment on the previous one through memory.
  constexpr int64_t kLanes = 4;
  at::parallel_for(0, c_count, 1, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> lanes(static_cast<size_t>(kLanes * sa));
    for (int64_t c = begin; c < end; ++c)
      for (int64_t ky = 0; ky < k; ++ky)
        for (int64_t kx = 0; kx < k; ++kx) {
          std::fill(lanes.begin(), lanes.end(), 0);
          int64_t* l = lanes.data();
          for (int64_t i = 0; i < n; ++i)
            for (int64_t y = 0; y < ho; ++y) {
              const uint8_t* row = a_ptr + ((i * c_count + c) * hp + y * s + ky) * wp + kx;
              int64_t x = 0;
              for (; x + kLanes <= wo; x += kLanes) {
                ++l[row[x * s]];
                ++l[sa + row[(x + 1) * s]];
                ++l[2 * sa + row[(x + 2) * s]];
                ++l[3 * sa + row[(x + 3) * s]];
              }
              for (; x < wo; ++x) ++l[row[x * s]];
            }
          int64_t* h = h_ptr + ((c * k + ky) * k + kx) * sa;
          for (int64_t a = 0; a < sa; ++a) h[a] = l[a] + l[sa + a] + l[2 * sa + a] + l[3 * sa + a];
        }
  });
  return hist;
}

torch::Tensor mean_counting(const quant::QuantLayer& layer, const torch::Tensor& hist) {
  torch::NoGradGuard no_grad;
  const int64_t sa = int64_t{1} << layer.act_bits(), sw = int64_t{1} << layer.weight_bits();
  const torch::Tensor wraw = weight_patterns(layer);
  const int64_t o_count = layer.out_channels(), j_count = wraw.size(1);
  if (hist.size(0) != j_count || hist.size(1) != sa) fail("mean_counting: histogram shape does not fit the layer");
  const torch::Tensor h = hist.to(torch::kDouble).contiguous();
  const double positions = h[0].sum().item<double>();  // images * P
  if (positions <= 0) fail("mean_counting needs at least one image");
  const torch::Tensor scale = channel_scale(layer).to(torch::kDouble) / positions;
  torch::Tensor b = torch::zeros({o_count, sw * sa}, torch::kDouble);
  const double* h_ptr = h.data_ptr<double>();
  const double* s_ptr = scale.data_ptr<double>();
  const uint8_t* w_ptr = wraw.data_ptr<uint8_t>();
  double* b_ptr = b.data_ptr<double>();
  at::parallel_for(0, o_count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o)
      for (int64_t j = 0; j < j_count; ++j) {
        double* row = b_ptr + o * sw * sa + static_cast<int64_t>(w_ptr[o * j_count + j]) * sa;
        const double* hj = h_ptr + j * sa;
        for (int64_t a = 0; a < sa; ++a) row[a] += s_ptr[o] * hj[a];
      }
  });
  return b;
}

torch::Tensor pair_counts(const quant::QuantLayer& layer, const torch::Tensor& hist) {
  torch::NoGradGuard no_grad;
  if (layer.geometry().groups != 1) fail("operand counting supports ungrouped layers only");
  const int64_t sa = int64_t{1} << layer.act_bits(), sw = int64_t{1} << layer.weight_bits();
  const torch::Tensor wraw = weight_patterns(layer).to(torch::kLong);  // [O, J]
  if (hist.dim() != 2 || hist.size(0) != wraw.size(1) || hist.size(1) != sa)
    fail("pair_counts: histogram shape does not fit the layer");
  // taps[j][w] = #{o : W_oj = w}; then counts = taps' hist, one small matrix product.
  torch::Tensor taps = torch::zeros({wraw.size(1), sw}, torch::kDouble);
  taps.scatter_add_(1, wraw.t().contiguous(), torch::ones(wraw.t().sizes(), torch::kDouble));
  return torch::mm(taps.t(), hist.to(torch::kDouble)).reshape({sw * sa});
}

}  // namespace fames::measure
