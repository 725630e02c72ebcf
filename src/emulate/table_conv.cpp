// Fast table_conv2d / table_linear: split the output positions into chunks, lay each chunk out as
// a [K][positions] matrix of encoded activation indices (im2col), run the table GEMM of the chosen
// kernel on it, and copy the [O][positions] result into place. Chunks run on all threads (job_pool.h).
#include <algorithm>
#include <cstring>
#include <vector>

#include "emulate/table_conv.h"
#include "emulate/job_pool.h"
#include "emulate/table_kernels.h"

namespace fames {
namespace {

using detail::GemmArgs;
using detail::PreparedTable;
using detail::default_job_threads;
using detail::run_jobs;

constexpr int64_t kLanes = 32;  // every kernel handles positions in groups of 32

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t m) { return ceil_div(a, m) * m; }

// Positions per chunk: every thread should get work, and the [K][chunk] index block should stay
// near L2-resident (the kernels re-read column slices of it once per block of output channels).
// Chunks are whole images or whole output rows when possible, so packing rarely splits a row.
// With `single_images`, a chunk is exactly one image whenever one fits the budget and there are
// enough images for every thread.
int64_t chunk_positions(int64_t taps, int64_t total, int64_t image, int64_t row, int threads,
                        bool single_images) {
  constexpr int64_t kIndexBlockBytes = 384 * 1024;
  if (single_images && 2 * taps * image <= kIndexBlockBytes && total >= image * threads) return image;
  int64_t chunk = std::min(std::max<int64_t>(kIndexBlockBytes / (2 * taps), kLanes),
                           ceil_div(total, threads));
  if (chunk >= image) chunk = chunk / image * image;
  else if (chunk >= row) chunk = chunk / row * row;
  return std::max<int64_t>(chunk, 1);
}

// Runs the table GEMM over `total_positions` positions in chunks, for every group.
// Positions come in images of `image` positions made of rows of `row` positions.
// pack(g, begin, end, idx, ldp, scratch) fills idx[K][ldp] (all ldp columns), with a per-thread
// scratch vector. direct(g, begin, end, &ldo) returns where the GEMM may write its [O][ldo] result
// straight into the caller's output (REQUIRES end - begin and ldo multiples of kLanes), or null;
// then scatter(g, begin, end, tmp, ldp) copies tmp[O][ldp] (first end-begin columns valid) there.
template <class Pack, class Direct, class Scatter>
void run_chunks(const PreparedTable& table, int64_t taps, int64_t out_per_group, int groups,
                const uint8_t* weights, int64_t total_positions, int64_t image, int64_t row,
                const Pack& pack, const Direct& direct, const Scatter& scatter) {
  if (total_positions <= 0) return;
  const int threads = default_job_threads();
  const int64_t chunk = chunk_positions(taps, total_positions, image, row, threads,
                                        image % kLanes == 0);
  const int64_t chunks = ceil_div(total_positions, chunk);
  const int64_t ldp = round_up(chunk, kLanes);
  run_jobs(chunks * groups, threads, [&](int64_t job) {
    // Per-thread buffers, kept across calls (the helper threads live as long as the process).
    thread_local std::vector<uint16_t> idx, scratch;
    thread_local std::vector<int32_t> tmp;
    thread_local std::vector<int64_t> koff;
    idx.resize(static_cast<size_t>(taps * ldp + 1));  // + 1: see GemmArgs::idx
    koff.resize(static_cast<size_t>(taps));
    for (int64_t k = 0; k < taps; ++k) koff[k] = k * ldp;
    tmp.resize(static_cast<size_t>(out_per_group * ldp));
    const int g = static_cast<int>(job % groups);
    const int64_t begin = job / groups * chunk;
    const int64_t end = std::min(total_positions, begin + chunk);
    pack(g, begin, end, idx.data(), ldp, scratch);
    int64_t ldo = ldp;
    int32_t* target = direct(g, begin, end, &ldo);
    const GemmArgs args{&table, weights + g * out_per_group * taps, taps, idx.data(), koff.data(),
                        taps, end - begin, out_per_group, target ? target : tmp.data(), ldo};
    detail::run_table_gemm(args);
    if (!target) scatter(g, begin, end, tmp.data(), ldp);
  });
}

void fill(uint16_t* dst, int64_t count, uint16_t value) { std::fill(dst, dst + count, value); }

// Image n's channels of group g, encoded, with the zero padding made explicit: [cg][hp][wp].
void pad_image(const ConvShape& s, const uint8_t* act, int64_t n, int g, const PreparedTable& t,
               uint16_t* padded) {
  const int64_t cg = s.c / s.groups, hp = s.h + 2 * s.pad_h, wp = s.w + 2 * s.pad_w;
  const uint16_t zero = t.encode(0), mul = t.idx_mul, add = t.idx_add;
  for (int64_t ci = 0; ci < cg; ++ci) {
    uint16_t* plane = padded + ci * hp * wp;
    const uint8_t* src = act + (n * s.c + g * cg + ci) * s.h * s.w;
    fill(plane, s.pad_h * wp, zero);
    for (int64_t iy = 0; iy < s.h; ++iy, src += s.w) {
      uint16_t* row = plane + (iy + s.pad_h) * wp;
      fill(row, s.pad_w, zero);
      for (int64_t x = 0; x < s.w; ++x) row[s.pad_w + x] = static_cast<uint16_t>(src[x] * mul + add);
      fill(row + s.pad_w + s.w, s.pad_w, zero);
    }
    fill(plane + (s.pad_h + s.h) * wp, s.pad_h * wp, zero);
  }
}

// Copies `rows` rows of `width` taps (every `kStride`-th padded column), the common whole-image
// case, with fixed-size loops for the usual widths (a variable-length copy per 8-tap row would cost
// more than the row). Returns false when (width, stride) has no fixed-size version.
template <int kWidth, int kStride>
void copy_rows(uint16_t* dst, const uint16_t* src, int64_t rows, int64_t src_stride) {
  for (int64_t y = 0; y < rows; ++y, dst += kWidth, src += src_stride) {
    if (kStride == 1) {
      std::memcpy(dst, src, kWidth * sizeof(uint16_t));
    } else {
      for (int i = 0; i < kWidth; ++i) dst[i] = src[i * kStride];
    }
  }
}
template <int kStride>
bool copy_rows_of_width(uint16_t* dst, const uint16_t* src, int64_t rows, int64_t width,
                        int64_t src_stride) {
  switch (width) {
    case 4: copy_rows<4, kStride>(dst, src, rows, src_stride); return true;
    case 7: copy_rows<7, kStride>(dst, src, rows, src_stride); return true;
    case 8: copy_rows<8, kStride>(dst, src, rows, src_stride); return true;
    case 14: copy_rows<14, kStride>(dst, src, rows, src_stride); return true;
    case 16: copy_rows<16, kStride>(dst, src, rows, src_stride); return true;
    case 28: copy_rows<28, kStride>(dst, src, rows, src_stride); return true;
    case 32: copy_rows<32, kStride>(dst, src, rows, src_stride); return true;
    case 56: copy_rows<56, kStride>(dst, src, rows, src_stride); return true;
    case 64: copy_rows<64, kStride>(dst, src, rows, src_stride); return true;
    default: return false;
  }
}
bool copy_whole_rows(uint16_t* dst, const uint16_t* src, int64_t rows, int64_t width, int stride,
                     int64_t src_stride) {
  if (stride == 1) return copy_rows_of_width<1>(dst, src, rows, width, src_stride);
  if (stride == 2) return copy_rows_of_width<2>(dst, src, rows, width, src_stride);
  return false;
}

// im2col of positions [begin, end) (flattened over n, y, x) of group g into idx[K][ldp].
void pack_conv(const ConvShape& s, const uint8_t* act, int g, int64_t begin, int64_t end,
               const PreparedTable& t, uint16_t* idx, int64_t ldp, std::vector<uint16_t>& padded) {
  const int64_t cg = s.c / s.groups, oh = s.out_h(), ow = s.out_w(), hw = oh * ow;
  const int64_t hp = s.h + 2 * s.pad_h, wp = s.w + 2 * s.pad_w;
  padded.resize(static_cast<size_t>(cg * hp * wp));
  for (int64_t p = begin; p < end;) {
    const int64_t n = p / hw, r0 = p - n * hw, r1 = std::min(hw, r0 + (end - p));
    const int64_t y0 = r0 / ow, x0 = r0 - y0 * ow;
    pad_image(s, act, n, g, t, padded.data());
    for (int64_t ci = 0; ci < cg; ++ci)
      for (int64_t ky = 0; ky < s.kh; ++ky)
        for (int64_t kx = 0; kx < s.kw; ++kx) {
          uint16_t* dst = idx + ((ci * s.kh + ky) * s.kw + kx) * ldp + (p - begin);
          // Output (y, x) reads padded (y * stride_h + ky * dilation_h, x * stride_w + kx * dilation_w).
          const uint16_t* tap = padded.data() + ci * hp * wp + ky * s.dilation_h * wp + kx * s.dilation_w;
          if (r0 == 0 && r1 == hw && copy_whole_rows(dst, tap, oh, ow, s.stride_w, s.stride_h * wp))
            continue;
          for (int64_t r = r0, y = y0, x = x0; r < r1; ++y, x = 0) {
            const int64_t len = std::min(ow - x, r1 - r);
            const uint16_t* src = tap + y * s.stride_h * wp + x * s.stride_w;
            if (s.stride_w == 1) {
              for (int64_t i = 0; i < len; ++i) dst[i] = src[i];
            } else {
              for (int64_t i = 0; i < len; ++i) dst[i] = src[i * s.stride_w];
            }
            dst += len;
            r += len;
          }
        }
    p += r1 - r0;
  }
  const int64_t positions = end - begin;
  for (int64_t k = 0; k < s.taps(); ++k) fill(idx + k * ldp + positions, ldp - positions, t.encode(0));
}

}  // namespace

void table_conv2d(const ConvShape& s, const uint8_t* act, const uint8_t* weight,
                  const ProductTable& table, int32_t* out) {
  s.validate();
  const SimdLevel level = active_simd_level();
  if (level == SimdLevel::ref) {
    detail::record_kernel(level, "ref");
    return table_conv2d_ref(s, act, weight, table, out);
  }
  const PreparedTable prepared = detail::prepare_table(table, level);
  detail::record_kernel(level, prepared.name());
  const int64_t hw = s.out_h() * s.out_w(), og = s.o / s.groups;
  auto pack = [&](int g, int64_t begin, int64_t end, uint16_t* idx, int64_t ldp,
                  std::vector<uint16_t>& scratch) {
    pack_conv(s, act, g, begin, end, prepared, idx, ldp, scratch);
  };
  auto scatter = [&](int g, int64_t begin, int64_t end, const int32_t* tmp, int64_t ldp) {
    for (int64_t p = begin; p < end;) {
      const int64_t n = p / hw, r = p % hw, run = std::min(hw - r, end - p);
      for (int64_t o = 0; o < og; ++o)
        std::memcpy(out + (n * s.o + g * og + o) * hw + r, tmp + o * ldp + (p - begin),
                    static_cast<size_t>(run) * sizeof(int32_t));
      p += run;
    }
  };
  // A chunk that is one whole image of a multiple of kLanes positions is written in place.
  auto direct = [&](int g, int64_t begin, int64_t end, int64_t* ldo) -> int32_t* {
    if (end - begin != hw || begin % hw != 0 || hw % kLanes != 0) return nullptr;
    *ldo = hw;
    return out + (begin / hw * s.o + g * og) * hw;
  };
  run_chunks(prepared, s.taps(), og, s.groups, weight, s.n * hw, hw, s.out_w(), pack, direct,
             scatter);
}

void table_linear(int64_t batch, int64_t in, int64_t out_features, const uint8_t* act,
                  const uint8_t* weight, const ProductTable& table, int32_t* out) {
  const SimdLevel level = active_simd_level();
  if (level == SimdLevel::ref) {
    detail::record_kernel(level, "ref");
    return table_linear_ref(batch, in, out_features, act, weight, table, out);
  }
  const PreparedTable prepared = detail::prepare_table(table, level);
  detail::record_kernel(level, prepared.name());
  if (in <= 0) {  // an empty sum
    std::fill(out, out + std::max<int64_t>(batch, 0) * out_features, 0);
    return;
  }
  // The batch plays the role of the positions: idx is the transposed activation matrix.
  auto pack = [&](int, int64_t begin, int64_t end, uint16_t* idx, int64_t ldp, std::vector<uint16_t>&) {
    for (int64_t k = 0; k < in; ++k) {
      uint16_t* dst = idx + k * ldp;
      for (int64_t b = begin; b < end; ++b) dst[b - begin] = prepared.encode(act[b * in + k]);
      fill(dst + (end - begin), ldp - (end - begin), prepared.encode(0));
    }
  };
  auto scatter = [&](int, int64_t begin, int64_t end, const int32_t* tmp, int64_t ldp) {
    for (int64_t b = begin; b < end; ++b)
      for (int64_t o = 0; o < out_features; ++o) out[b * out_features + o] = tmp[o * ldp + (b - begin)];
  };
  auto never_direct = [](int, int64_t, int64_t, int64_t*) -> int32_t* { return nullptr; };
  run_chunks(prepared, in, out_features, 1, weight, batch, 1, 1, pack, never_direct, scatter);
}

}  // namespace fames
