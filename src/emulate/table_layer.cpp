// TableLayer: per job (a few whole images, or a block of output rows of one large image):
//   1. quantize the input window it needs into an encoded, zero-padded planar buffer [cg][rows][wp];
//   2. give the table GEMM its taps, either read in place from that buffer ("implicit": stride-1
//      convolutions; positions run over the padded width, the pad columns' results are dropped) or
//      copied into an im2col matrix first ("im2col": any geometry, no wasted positions);
//   3. scale the int32 sums and write them channels-last.
// Implicit reads skip the im2col copy (one uint16 store per tap and position) but compute
// (wp - ow) / ow more positions; the choice between them is made per layer shape (read_mode()).
#include "emulate/table_layer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "emulate/job_pool.h"
#include "emulate/simd_level.h"
#include "emulate/table_kernels.h"
#include "util/error.h"

namespace fames {
namespace {

using detail::GemmArgs;
using detail::PreparedTable;

constexpr int64_t kLanes = 32;
// Positions per job in im2col mode (several small images are packed together), and the largest
// im2col / implicit block one job builds (kept near L2 size).
constexpr int64_t kTargetPositions = 256;
constexpr int64_t kMaxBlockBytes = 512 * 1024;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t m) { return ceil_div(a, m) * m; }

int max_code(int bits, bool is_signed) { return is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1; }

// Step 1 of the contract for one value: the raw bit pattern.
struct Quantizer {
  float step, lo, hi;
  unsigned mask;
  Quantizer(float s, int bits, bool is_signed)
      : step(s),
        lo(is_signed ? -static_cast<float>(max_code(bits, true)) : 0.0f),
        hi(static_cast<float>(max_code(bits, is_signed))),
        mask((1u << bits) - 1) {}
  uint8_t raw(float v) const {
    const float code = std::min(hi, std::max(lo, std::nearbyint(v / step)));
    return static_cast<uint8_t>(static_cast<unsigned>(static_cast<int>(code)) & mask);
  }
};

// Whether reading taps in place beats im2col for a stride-1 layer: implicit reads compute
// round_up(oh * wp, 32) positions instead of oh * ow; im2col copies one index per tap and position,
// which costs about as much as kCopyCost table lookups, shared by the og output channels.
bool implicit_pays(int64_t oh, int64_t ow, int64_t wp, int64_t og) {
  constexpr double kCopyCost = 3.0;
  const double waste = static_cast<double>(round_up(oh * wp, kLanes)) / (oh * ow) - 1.0;
  return waste < kCopyCost / og;
}

// The first `count` elements of a per-thread buffer, starting on a 64-byte boundary so that the
// GEMM's aligned index vectors and output rows split no cache line.
template <class T>
T* aligned_scratch(std::vector<T>& storage, int64_t count) {
  constexpr size_t kAlign = 64 / sizeof(T);
  storage.resize(static_cast<size_t>(count) + kAlign);
  const size_t misalign = reinterpret_cast<uintptr_t>(storage.data()) % 64 / sizeof(T);
  return storage.data() + (kAlign - misalign) % kAlign;
}

// Step 3 for one output element.
inline float finish(int32_t sum, int64_t o, const TableLayerParams& p) {
  float v = static_cast<float>(sum) * p.scale[o];
  if (!p.bias.empty()) v = v + p.bias[o];
  if (!p.correction.empty()) v = v - p.correction[o];
  return v;
}

// Step 2's zero-point term: sum - zero * act_sum in wrapping int32 arithmetic (like the sums).
inline int32_t minus_zero_term(int32_t sum, int32_t zero, uint32_t act_sum) {
  return static_cast<int32_t>(static_cast<uint32_t>(sum) - static_cast<uint32_t>(zero) * act_sum);
}

// Steps 2 and 3 of a linear layer from raw patterns act[n][c].
void linear_forward(const TableLayerParams& p, const ProductTable& table, const uint8_t* act,
                    int64_t n, float* y, bool fast) {
  const int64_t c = p.shape.c, o = p.shape.o;
  std::vector<int32_t> sums(static_cast<size_t>(n * o));
  (fast ? table_linear : table_linear_ref)(n, c, o, act, p.weight_raw.data(), table, sums.data());
  if (!p.weight_zero.empty()) {
    const Signature sig = table.signature();
    for (int64_t i = 0; i < n; ++i) {
      uint32_t act_sum = 0;
      for (int64_t ci = 0; ci < c; ++ci) act_sum += static_cast<uint32_t>(sig.a_value(act[i * c + ci]));
      for (int64_t oc = 0; oc < o; ++oc) sums[i * o + oc] = minus_zero_term(sums[i * o + oc], p.weight_zero[oc], act_sum);
    }
  }
  for (int64_t i = 0; i < n * o; ++i) y[i] = finish(sums[i], i % o, p);
}

// Step 2's A for NCHW raw activations, [n][groups][out_h * out_w]: the reference convolution with a
// table whose every row holds the activation values, one output channel per group.
std::vector<int32_t> act_sums_ref(ConvShape s, const uint8_t* act, const Signature& sig) {
  ProductTable values(sig);
  for (uint32_t w = 0; w < sig.weight_levels(); ++w)
    for (uint32_t a = 0; a < sig.act_levels(); ++a) values.raw(w, a) = sig.a_value(a);
  s.o = s.groups;
  const std::vector<uint8_t> zero_weights(static_cast<size_t>(s.o * s.taps()), 0);
  std::vector<int32_t> sums(static_cast<size_t>(s.n * s.o * s.out_h() * s.out_w()));
  table_conv2d_ref(s, act, zero_weights.data(), values, sums.data());
  return sums;
}

// Step 2's zero-point term for one job's GEMM: out[o][p] -= zero[o] * A[p], A[p] the sum of the
// activation values position p reads (value_of: encoded index -> code value).
void subtract_zero_terms(const GemmArgs& g, const int32_t* zero, const int32_t* value_of) {
  thread_local std::vector<uint32_t> act_sums;
  act_sums.assign(static_cast<size_t>(g.P), 0);
  for (int64_t k = 0; k < g.K; ++k) {
    const uint16_t* row = g.idx + g.koff[k];
    for (int64_t q = 0; q < g.P; ++q) act_sums[q] += static_cast<uint32_t>(value_of[row[q]]);
  }
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t q = 0; q < g.P; ++q) g.out[o * g.ldo + q] = minus_zero_term(g.out[o * g.ldo + q], zero[o], act_sums[q]);
}

// value_of for subtract_zero_terms: the code value of every encoded index enc[raw].
std::vector<int32_t> values_by_encoding(const uint16_t* enc, const Signature& sig) {
  uint16_t top = 0;
  for (uint32_t a = 0; a < sig.act_levels(); ++a) top = std::max(top, enc[a]);
  std::vector<int32_t> value_of(static_cast<size_t>(top) + 1, 0);
  for (uint32_t a = 0; a < sig.act_levels(); ++a) value_of[enc[a]] = sig.a_value(a);
  return value_of;
}

// The geometry of one convolution call and how it is cut into jobs: job = (image block, row block,
// group), group fastest. Output rows per job: whole images (im2col may pack several), or a block
// of rows of one image.
struct ConvPlan {
  ConvShape s;
  int64_t oh, ow, hw, cg, og, taps;
  int64_t wp;      // padded input width
  int64_t span_h;  // extra padded rows a row block needs
  bool implicit;   // taps read in place (else im2col)
  const detail::LayerSteps* steps;  // vector quantize / im2col / store; null: the scalar loops
  int64_t rows, images, row_blocks, jobs;
  int threads;
};

// `shape` is validated and holds the call's n, h, w.
ConvPlan plan_conv(const ConvShape& shape, bool implicit, const detail::LayerSteps* steps) {
  ConvPlan c;
  c.s = shape;
  const ConvShape& s = c.s;
  const int64_t n = s.n, w = s.w;
  c.oh = s.out_h(), c.ow = s.out_w(), c.hw = c.oh * c.ow;
  c.cg = s.c / s.groups, c.og = s.o / s.groups, c.taps = s.taps();
  c.wp = w + 2 * s.pad_w;
  c.span_h = (s.kh - 1) * s.dilation_h;
  c.implicit = implicit;
  c.steps = steps;
  const int64_t row_len = implicit ? c.wp : c.ow;  // positions per output row in the GEMM
  const int64_t bytes_per_row = 2 * row_len * (implicit ? c.cg * s.stride_h : c.taps);
  c.rows = std::clamp<int64_t>(kMaxBlockBytes / std::max<int64_t>(bytes_per_row, 1), 1, c.oh);
  const int threads = c.threads = detail::default_job_threads();
  c.images = 1;
  if (!implicit && c.rows == c.oh) {
    c.images = std::max<int64_t>(1, std::min({ceil_div(kTargetPositions, c.hw),
                                              kMaxBlockBytes / std::max<int64_t>(bytes_per_row * c.oh, 1),
                                              ceil_div(n, 4 * threads)}));
  }
  c.row_blocks = ceil_div(c.oh, c.rows);
  c.jobs = ceil_div(n, c.images) * c.row_blocks * s.groups;
  return c;
}

// What one job covers: images [n0, n1), output rows [y0, y1) of group g, fed by the padded input
// rows [r0, r0 + window); `positions` GEMM columns, padded to ldt.
struct JobWindow {
  int g;
  int64_t n0, n1, y0, y1, r0, window, plane, positions, ldt;
};

JobWindow job_window(const ConvPlan& c, int64_t job) {
  const ConvShape& s = c.s;
  JobWindow j;
  j.g = static_cast<int>(job % s.groups);
  const int64_t rb = job / s.groups % c.row_blocks, ib = job / s.groups / c.row_blocks;
  j.n0 = ib * c.images, j.n1 = std::min(s.n, j.n0 + c.images);
  j.y0 = rb * c.rows, j.y1 = std::min(c.oh, j.y0 + c.rows);
  j.r0 = j.y0 * s.stride_h, j.window = (j.y1 - 1 - j.y0) * s.stride_h + c.span_h + 1;
  j.plane = j.window * c.wp;
  j.positions = c.implicit ? (j.y1 - j.y0) * c.wp : (j.n1 - j.n0) * (j.y1 - j.y0) * c.ow;
  j.ldt = round_up(j.positions, kLanes);
  return j;
}

// Where each tap's row starts (GemmArgs::koff): in the planes (implicit) or in the im2col matrix.
// Returns the size the planes buffer needs.
int64_t tap_offsets(const ConvPlan& c, const JobWindow& j, std::vector<int64_t>& koff) {
  koff.resize(static_cast<size_t>(c.taps));
  for (int64_t ci = 0, k = 0; ci < c.cg; ++ci)
    for (int64_t ky = 0; ky < c.s.kh; ++ky)
      for (int64_t kx = 0; kx < c.s.kw; ++kx, ++k)
        koff[k] = c.implicit ? ci * j.plane + ky * c.s.dilation_h * c.wp + kx * c.s.dilation_w : k * j.ldt;
  // Implicit reads run up to ldt positions past a tap's start (GemmArgs::idx): keep them inside
  // the buffer; im2col's last tap needs the one extra element too.
  return c.implicit ? std::max(c.cg * j.plane, koff[c.taps - 1] + j.ldt + 1) : c.cg * j.plane;
}

// How step 1 encodes activations: the scalar quantizer and encoding table, the vector steps' spec.
struct Encoding {
  const Quantizer& q;
  const uint16_t* enc;
  const detail::QuantSpec& qs;
};

// Step 1 for image xi (channels of the job's group): quantize its window into planes[cg][window][wp]
// (planes already hold the encoded zero everywhere).
void quantize_window(const ConvPlan& c, const JobWindow& j, const float* xi, const int64_t strides[4],
                     const Encoding& e, uint16_t* planes) {
  const ConvShape& s = c.s;
  const int64_t w = s.w, wp = c.wp, plane = j.plane;
  const int64_t iy0 = std::max<int64_t>(0, j.r0 - s.pad_h);
  const int64_t iy1 = std::min<int64_t>(s.h, j.r0 + j.window - s.pad_h);
  if (c.steps && strides[1] == 1) {  // channels-last: channels innermost in memory
    for (int64_t iy = iy0; iy < iy1; ++iy)
      c.steps->quantize_pixels(xi + iy * strides[2], w, strides[3], c.cg, e.qs,
                               planes + (iy + s.pad_h - j.r0) * wp + s.pad_w, plane);
  } else if (c.steps && strides[3] == 1) {
    for (int64_t ci = 0; ci < c.cg; ++ci)
      for (int64_t iy = iy0; iy < iy1; ++iy)
        c.steps->quantize_row(xi + ci * strides[1] + iy * strides[2], w, e.qs,
                              planes + ci * plane + (iy + s.pad_h - j.r0) * wp + s.pad_w);
  } else if (strides[1] == 1) {
    for (int64_t iy = iy0; iy < iy1; ++iy)
      for (int64_t ix = 0; ix < w; ++ix) {
        const float* src = xi + iy * strides[2] + ix * strides[3];
        uint16_t* dst = planes + (iy + s.pad_h - j.r0) * wp + ix + s.pad_w;
        for (int64_t ci = 0; ci < c.cg; ++ci) dst[ci * plane] = e.enc[e.q.raw(src[ci])];
      }
  } else {
    for (int64_t ci = 0; ci < c.cg; ++ci)
      for (int64_t iy = iy0; iy < iy1; ++iy) {
        const float* src = xi + ci * strides[1] + iy * strides[2];
        uint16_t* dst = planes + ci * plane + (iy + s.pad_h - j.r0) * wp + s.pad_w;
        for (int64_t ix = 0; ix < w; ++ix) dst[ix] = e.enc[e.q.raw(src[ix * strides[3]])];
      }
  }
}

// Step 2 (im2col) for one image's rows: tap k of output (y, x) reads
// planes[ci][(y - y0) * sh + ky * dh][x * sw + kx * dw] into cols[k * ldt + base + ...].
void im2col_rows(const ConvPlan& c, const JobWindow& j, const uint16_t* planes, uint16_t* cols, int64_t base) {
  const ConvShape& s = c.s;
  if (c.steps) {
    const detail::Im2colSpec spec{c.cg, s.kh, s.kw, s.stride_h, s.stride_w,
                                  s.dilation_h, s.dilation_w, j.plane, c.wp, j.y1 - j.y0, c.ow};
    c.steps->im2col(planes, spec, cols + base, j.ldt);
    return;
  }
  for (int64_t ci = 0, k = 0; ci < c.cg; ++ci)
    for (int64_t ky = 0; ky < s.kh; ++ky)
      for (int64_t kx = 0; kx < s.kw; ++kx, ++k) {
        uint16_t* dst = cols + k * j.ldt + base;
        for (int64_t yy = j.y0; yy < j.y1; ++yy, dst += c.ow) {
          const uint16_t* src =
              planes + ci * j.plane + ((yy - j.y0) * s.stride_h + ky * s.dilation_h) * c.wp + kx * s.dilation_w;
          if (s.stride_w == 1) {
            std::memcpy(dst, src, static_cast<size_t>(c.ow) * sizeof(uint16_t));
          } else {
            for (int64_t xx = 0; xx < c.ow; ++xx) dst[xx] = src[xx * s.stride_w];
          }
        }
      }
}

// Step 3: scale the job's sums tmp[og][ldt] and store them channels-last; implicit mode drops the
// pad columns x >= ow.
void store_outputs(const ConvPlan& c, const JobWindow& j, const int32_t* tmp, const TableLayerParams& p,
                   const detail::EpilogueSpec& es, float* y) {
  const int64_t o_total = c.s.o, o_first = j.g * c.og, og = c.og, ldt = j.ldt;
  auto store_run = [&](int64_t col, int64_t pos, int64_t len) {
    float* dst = y + pos * o_total + o_first;
    if (c.steps) {
      const detail::EpilogueSpec eg{es.scale + o_first, es.bias ? es.bias + o_first : nullptr,
                                    es.correction ? es.correction + o_first : nullptr};
      return c.steps->store_channels_last(tmp, ldt, og, col, len, eg, dst, o_total);
    }
    for (int64_t i = 0; i < len; ++i, dst += o_total)
      for (int64_t oc = 0; oc < og; ++oc) dst[oc] = finish(tmp[oc * ldt + col + i], o_first + oc, p);
  };
  if (c.implicit) {
    for (int64_t yy = j.y0; yy < j.y1; ++yy) store_run((yy - j.y0) * c.wp, (j.n0 * c.oh + yy) * c.ow, c.ow);
  } else {
    store_run(0, j.n0 * c.hw + j.y0 * c.ow, j.positions);  // whole images, or rows of one image
  }
}

}  // namespace

struct TableLayer::Impl {
  SimdLevel level;
  PreparedTable prepared;
  uint16_t enc[256];  // encoded index of every raw pattern
};

TableLayer::TableLayer(TableLayerParams params, std::shared_ptr<const ProductTable> table)
    : params_(std::move(params)), table_(std::move(table)), impl_(std::make_unique<Impl>()) {
  if (!table_) fail("table layer needs a product table");
  const Signature sig = table_->signature();
  ConvShape& s = params_.shape;
  if (params_.linear) {
    s.kh = s.kw = 1;
    s.h = s.w = 1;
    s.groups = 1;
  }
  s.n = 1;
  s.h = std::max<int64_t>(s.h, 1);
  s.w = std::max<int64_t>(s.w, 1);
  if (params_.signed_act != sig.signed_a)
    fail("table layer: activation signedness differs from table signature {}", sig.key());
  if (static_cast<int64_t>(params_.weight_raw.size()) != s.o * s.taps())
    fail("table layer: weight_raw has {} codes, expected o * c/groups * kh * kw = {}",
         params_.weight_raw.size(), s.o * s.taps());
  if (static_cast<int64_t>(params_.scale.size()) != s.o)
    fail("table layer: scale has {} entries, expected {}", params_.scale.size(), s.o);
  if (!params_.bias.empty() && static_cast<int64_t>(params_.bias.size()) != s.o)
    fail("table layer: bias has {} entries, expected {}", params_.bias.size(), s.o);
  if (!params_.correction.empty() && static_cast<int64_t>(params_.correction.size()) != s.o)
    fail("table layer: correction has {} entries, expected {}", params_.correction.size(), s.o);
  for (uint8_t w : params_.weight_raw)
    if (w >> sig.bw) fail("table layer: weight code {} has bits above bw={}", w, sig.bw);
  if (!params_.weight_zero.empty() && static_cast<int64_t>(params_.weight_zero.size()) != s.o)
    fail("table layer: weight_zero has {} entries, expected {}", params_.weight_zero.size(), s.o);
  for (int32_t z : params_.weight_zero)
    if (z < sig.w_min() || z > sig.w_max())
      fail("table layer: weight zero point {} is outside {}..{} of {}", z, sig.w_min(), sig.w_max(), sig.key());
  impl_->level = active_simd_level();
  if (impl_->level != SimdLevel::ref) {
    impl_->prepared = detail::prepare_table(*table_, impl_->level);
    for (int r = 0; r < 256; ++r) impl_->enc[r] = impl_->prepared.encode(static_cast<uint8_t>(r));
  }
}

TableLayer::~TableLayer() = default;

std::string TableLayer::kernel(int64_t h, int64_t w) const {
  const SimdLevel level = active_simd_level();
  if (level == SimdLevel::ref || impl_->level == SimdLevel::ref) return "ref";
  std::string name = level == impl_->level ? impl_->prepared.name()
                                           : detail::prepare_table(*table_, level).name();
  if (h > 0 && w > 0 && !params_.linear) name += reads_implicit(h, w) ? " implicit" : " im2col";
  return name;
}

bool TableLayer::reads_implicit(int64_t h, int64_t w) const {
  ConvShape s = params_.shape;
  s.h = h, s.w = w;
  if (params_.linear || s.stride_h != 1 || s.stride_w != 1) return false;
  if (params_.reads != TableLayerParams::Reads::automatic)
    return params_.reads == TableLayerParams::Reads::implicit;
  return implicit_pays(s.out_h(), s.out_w(), w + 2 * s.pad_w, s.o / s.groups);
}

void TableLayer::forward_ref(const float* x, int64_t n, int64_t h, int64_t w,
                             const int64_t strides[4], float* y) const {
  const TableLayerParams& p = params_;
  const Signature sig = table_->signature();
  const Quantizer q(p.act_step, sig.ba, sig.signed_a);
  const int64_t c = p.shape.c, o = p.shape.o;
  if (p.linear) h = w = 1;
  std::vector<uint8_t> act(static_cast<size_t>(n * c * h * w));  // NCHW raw patterns
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t yy = 0; yy < h; ++yy)
        for (int64_t xx = 0; xx < w; ++xx)
          act[((i * c + ci) * h + yy) * w + xx] =
              q.raw(x[i * strides[0] + ci * strides[1] + yy * strides[2] + xx * strides[3]]);
  if (p.linear) return linear_forward(p, *table_, act.data(), n, y, false);
  ConvShape s = p.shape;
  s.n = n, s.h = h, s.w = w;
  const int64_t oh = s.out_h(), ow = s.out_w();
  std::vector<int32_t> sums(static_cast<size_t>(n * o * oh * ow));  // NCHW
  table_conv2d_ref(s, act.data(), p.weight_raw.data(), *table_, sums.data());
  if (!p.weight_zero.empty()) {
    const std::vector<int32_t> act_sums = act_sums_ref(s, act.data(), sig);
    const int64_t og = o / s.groups;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t oc = 0; oc < o; ++oc)
        for (int64_t r = 0; r < oh * ow; ++r) {
          int32_t& sum = sums[(i * o + oc) * oh * ow + r];
          sum = minus_zero_term(sum, p.weight_zero[oc],
                                static_cast<uint32_t>(act_sums[(i * s.groups + oc / og) * oh * ow + r]));
        }
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t r = 0; r < oh * ow; ++r)
        y[(i * oh * ow + r) * o + oc] = finish(sums[(i * o + oc) * oh * ow + r], oc, p);
}

void TableLayer::forward(const float* x, int64_t n, int64_t h, int64_t w, const int64_t strides[4],
                         float* y) const {
  const SimdLevel level = active_simd_level();
  if (level == SimdLevel::ref || impl_->level == SimdLevel::ref) {
    detail::record_kernel(SimdLevel::ref, "ref");
    return forward_ref(x, n, h, w, strides, y);
  }
  if (n <= 0) return;
  // A level changed since construction: prepare for it now (rare; tests and benches only).
  PreparedTable other;
  const PreparedTable* table = &impl_->prepared;
  if (level != impl_->level) {
    other = detail::prepare_table(*table_, level);
    table = &other;
  }
  detail::record_kernel(level, table->name());
  const TableLayerParams& p = params_;
  const Signature sig = table_->signature();
  const Quantizer q(p.act_step, sig.ba, sig.signed_a);
  const uint16_t* enc = impl_->enc;
  uint16_t enc_other[256];
  if (table != &impl_->prepared) {
    for (int r = 0; r < 256; ++r) enc_other[r] = table->encode(static_cast<uint8_t>(r));
    enc = enc_other;
  }
  const uint16_t zero = enc[0];
  const detail::QuantSpec qs{q.step, 1.0f / q.step, q.lo, q.hi, static_cast<int32_t>(q.mask),
                                     table->idx_mul, table->idx_add};
  const detail::EpilogueSpec es{p.scale.data(), p.bias.empty() ? nullptr : p.bias.data(),
                                        p.correction.empty() ? nullptr : p.correction.data()};

  if (p.linear) {  // small in every zoo model: plain quantization, then table_linear
    const int64_t c = p.shape.c;
    std::vector<uint8_t> act(static_cast<size_t>(n * c));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t ci = 0; ci < c; ++ci) act[i * c + ci] = q.raw(x[i * strides[0] + ci * strides[1]]);
    return linear_forward(p, *table_, act.data(), n, y, true);
  }

  ConvShape shape = p.shape;
  shape.n = n, shape.h = h, shape.w = w;
  shape.validate();
  const ConvPlan c = plan_conv(shape, reads_implicit(h, w), detail::layer_steps(level));
  const Encoding encoding{q, enc, qs};
  const std::vector<int32_t> value_of =
      p.weight_zero.empty() ? std::vector<int32_t>() : values_by_encoding(enc, sig);
  detail::run_jobs(c.jobs, c.threads, [&](int64_t job) {
    thread_local std::vector<uint16_t> planes_storage, cols_storage;
    thread_local std::vector<int32_t> tmp_storage;
    thread_local std::vector<int64_t> koff;
    const JobWindow j = job_window(c, job);
    const int64_t taps = c.taps;
    const int64_t planes_size = tap_offsets(c, j, koff);
    uint16_t* const planes = aligned_scratch(planes_storage, planes_size);
    uint16_t* const cols = c.implicit ? nullptr : aligned_scratch(cols_storage, taps * j.ldt + 1);
    int32_t* const tmp = aligned_scratch(tmp_storage, c.og * j.ldt);
    for (int64_t i = j.n0; i < j.n1; ++i) {
      std::fill(planes, planes + planes_size, zero);
      quantize_window(c, j, x + i * strides[0] + j.g * c.cg * strides[1], strides, encoding, planes);
      if (c.implicit) break;  // one image per job
      im2col_rows(c, j, planes, cols, (i - j.n0) * (j.y1 - j.y0) * c.ow);
    }
    if (!c.implicit)
      for (int64_t k = 0; k < taps; ++k) std::fill(cols + k * j.ldt + j.positions, cols + (k + 1) * j.ldt, zero);
    const GemmArgs args{table, p.weight_raw.data() + j.g * c.og * taps, taps, c.implicit ? planes : cols,
                        koff.data(), taps, j.positions, c.og, tmp, j.ldt};
    detail::run_table_gemm(args);
    if (!p.weight_zero.empty()) subtract_zero_terms(args, p.weight_zero.data() + j.g * c.og, value_of.data());
    store_outputs(c, j, tmp, p, es, y);
  });
}

}  // namespace fames
