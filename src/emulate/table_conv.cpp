// Fast table_conv2d / table_linear: split the output positions into chunks, lay each chunk out as
// a [K][positions] matrix of encoded activation indices (im2col), run the table GEMM of the chosen
// kernel on it, and copy the [O][positions] result into place. Chunks run on all OpenMP threads.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "emulate/table_conv.h"
#include "emulate/table_kernels.h"

namespace fames {
namespace {

using emulate_detail::GemmArgs;
using emulate_detail::PreparedTable;

constexpr int64_t kLanes = 32;  // every kernel handles positions in groups of 32

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t m) { return ceil_div(a, m) * m; }

// Positions per chunk: the [K][chunk] index block should stay near L2-resident (the kernels re-read
// it once per block of output channels), and every thread should get work.
int64_t chunk_positions(int64_t taps, int64_t total_positions, int threads) {
  constexpr int64_t kIndexBlockBytes = 192 * 1024;
  int64_t chunk = std::clamp<int64_t>(kIndexBlockBytes / (2 * taps) / kLanes * kLanes, kLanes, 4096);
  chunk = std::min(chunk, round_up(ceil_div(total_positions, threads), kLanes));
  return std::max(chunk, kLanes);
}

// Runs the table GEMM over `total_positions` positions in chunks, for every group.
// pack(g, begin, end, idx, ldp) fills idx[K][ldp] (all ldp columns); scatter(g, begin, end, tmp, ldp)
// copies tmp[O][ldp] (first end-begin columns valid) to the caller's output.
template <class Pack, class Scatter>
void run_chunks(const PreparedTable& table, int64_t taps, int64_t out_per_group, int groups,
                const uint8_t* weights, int64_t total_positions, const Pack& pack,
                const Scatter& scatter) {
  if (total_positions <= 0) return;
  const int threads = omp_get_max_threads();
  const int64_t chunk = chunk_positions(taps, total_positions, threads);
  const int64_t chunks = ceil_div(total_positions, chunk);
  const int64_t jobs = chunks * groups;
  const int64_t ldp = round_up(chunk, kLanes);
#pragma omp parallel num_threads(static_cast<int>(std::min<int64_t>(threads, jobs)))
  {
    std::vector<uint16_t> idx(static_cast<size_t>(taps * ldp));
    std::vector<int32_t> tmp(static_cast<size_t>(out_per_group * ldp));
#pragma omp for schedule(dynamic)
    for (int64_t job = 0; job < jobs; ++job) {
      const int g = static_cast<int>(job % groups);
      const int64_t begin = job / groups * chunk;
      const int64_t end = std::min(total_positions, begin + chunk);
      pack(g, begin, end, idx.data(), ldp);
      const GemmArgs args{&table, weights + g * out_per_group * taps, taps, idx.data(), ldp,
                          taps, end - begin, out_per_group, tmp.data(), ldp};
      emulate_detail::run_table_gemm(args);
      scatter(g, begin, end, tmp.data(), ldp);
    }
  }
}

void fill(uint16_t* dst, int64_t count, uint16_t value) { std::fill(dst, dst + count, value); }

// im2col of positions [begin, end) (flattened over n, y, x) of group g into idx[K][ldp].
void pack_conv(const ConvShape& s, const uint8_t* act, int g, int64_t begin, int64_t end,
               const PreparedTable& t, uint16_t* idx, int64_t ldp) {
  const int64_t cg = s.c / s.groups, oh = s.out_h(), ow = s.out_w(), hw = oh * ow;
  const uint16_t zero = t.encode(0), mul = t.idx_mul, add = t.idx_add;
  const int64_t positions = end - begin;
  for (int64_t ci = 0; ci < cg; ++ci)
    for (int64_t ky = 0; ky < s.kh; ++ky)
      for (int64_t kx = 0; kx < s.kw; ++kx) {
        uint16_t* dst = idx + ((ci * s.kh + ky) * s.kw + kx) * ldp;
        // Input column of output column x is x * stride_w + x_off; valid for x in [x_lo, x_hi).
        const int64_t x_off = kx * s.dilation_w - s.pad_w;
        const int64_t x_lo = x_off >= 0 ? 0 : ceil_div(-x_off, s.stride_w);
        const int64_t x_hi = s.w - x_off <= 0 ? 0 : ceil_div(s.w - x_off, s.stride_w);
        for (int64_t p = begin; p < end;) {
          const int64_t n = p / hw, y = p % hw / ow, x0 = p % ow;
          const int64_t x1 = std::min(ow, x0 + (end - p));  // this run covers columns [x0, x1)
          uint16_t* d = dst + (p - begin) - x0;               // d[x] is column x of this run
          const int64_t iy = y * s.stride_h - s.pad_h + ky * s.dilation_h;
          const int64_t a = std::max(x0, x_lo), b = std::min(x1, x_hi);
          if (iy < 0 || iy >= s.h || a >= b) {
            fill(d + x0, x1 - x0, zero);
          } else {
            const uint8_t* row = act + ((n * s.c + g * cg + ci) * s.h + iy) * s.w;
            fill(d + x0, a - x0, zero);
            if (s.stride_w == 1) {
              const uint8_t* src = row + a + x_off;
              uint16_t* out = d + a;
              for (int64_t i = 0; i < b - a; ++i) out[i] = static_cast<uint16_t>(src[i] * mul + add);
            } else {
              for (int64_t x = a; x < b; ++x)
                d[x] = static_cast<uint16_t>(row[x * s.stride_w + x_off] * mul + add);
            }
            fill(d + b, x1 - b, zero);
          }
          p += x1 - x0;
        }
        fill(dst + positions, ldp - positions, zero);
      }
}

}  // namespace

void table_conv2d(const ConvShape& s, const uint8_t* act, const uint8_t* weight,
                  const ProductTable& table, int32_t* out) {
  s.validate();
  const SimdLevel level = active_simd_level();
  if (level == SimdLevel::ref) {
    emulate_detail::record_kernel(level, "ref");
    return table_conv2d_ref(s, act, weight, table, out);
  }
  const PreparedTable prepared = emulate_detail::prepare_table(table, level);
  emulate_detail::record_kernel(level, prepared.name());
  const int64_t hw = s.out_h() * s.out_w(), og = s.o / s.groups;
  auto pack = [&](int g, int64_t begin, int64_t end, uint16_t* idx, int64_t ldp) {
    pack_conv(s, act, g, begin, end, prepared, idx, ldp);
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
  run_chunks(prepared, s.taps(), og, s.groups, weight, s.n * hw, pack, scatter);
}

void table_linear(int64_t batch, int64_t in, int64_t out_features, const uint8_t* act,
                  const uint8_t* weight, const ProductTable& table, int32_t* out) {
  const SimdLevel level = active_simd_level();
  if (level == SimdLevel::ref) {
    emulate_detail::record_kernel(level, "ref");
    return table_linear_ref(batch, in, out_features, act, weight, table, out);
  }
  const PreparedTable prepared = emulate_detail::prepare_table(table, level);
  emulate_detail::record_kernel(level, prepared.name());
  // The batch plays the role of the positions: idx is the transposed activation matrix.
  auto pack = [&](int, int64_t begin, int64_t end, uint16_t* idx, int64_t ldp) {
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
  run_chunks(prepared, in, out_features, 1, weight, batch, pack, scatter);
}

}  // namespace fames
