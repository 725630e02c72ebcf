// The scatter walk's two hot loops (counting.cpp), each in a reference build and an AVX-512 build
// (x86/counting_avx512.cpp) that give identical bits.
//
// The walk: for one tap of one image, every output position whose input at the tap has a nonzero
// activation pattern a adds its gradient row u[pos, 0..vo) into r[a], counts the position in
// hist[a], and records that a occurred. It visits only the nonzero input pixels (a ReLU leaves
// about half of them zero, and padding is zero); the caller derives pattern 0's sum from the total.
// Every build adds the rows in the same order, so all builds give identical bits.
//
// The scatter: then every sum r[a][v, o] goes to G_v[W_o][a], W_o being output channel o's weight
// pattern at the tap. Each element of G receives the channels in channel order, in every build.
// Torch-free; internal to src/estimate.
#pragma once
#include <cstdint>
#include <vector>

namespace fames::measure::detail {

// A nonzero pixel of a padded input plane, at row y and column x: yq = y / stride, xq = x / stride.
struct Pixel {
  int32_t yq, xq, pattern;
};

struct TapWalk {
  const Pixel* begin;    // the plane's nonzero pixels with (y, x) = (ky, kx) mod stride, row-major
  const Pixel* end;
  int64_t dy, dx;        // the tap (ky, kx) / stride: the pixel feeds output (yq - dy, xq - dx)
  int64_t ho, wo;        // output positions
  const float* u;        // gradient rows [ho * wo, vo] of this image
  int64_t vo;            // row length: weightings x output channels
  float* r;              // accumulators [2^ba, vo]
  float* nonzero_sum;    // [vo] receives the sum of the rows added (set, not accumulated)
  int64_t* hist;         // [2^ba] positions per pattern at this tap
  uint8_t* seen;         // [2^ba]
  std::vector<int64_t>* touched;
};

// Records that pattern a occurred (the walk's part of the reset contract: the scatter clears them).
inline void mark_seen(const TapWalk& w, int64_t a) {
  if (!w.seen[a]) {
    w.seen[a] = 1;
    w.touched->push_back(a);
  }
}

// Returns how many output positions had a nonzero pattern at this tap. add_row(a, u) adds the
// gradient row u into r[a] and into the running nonzero sum.
template <class AddRow>
inline int64_t walk_tap(const TapWalk& w, AddRow add_row) {
  int64_t visited = 0;
  for (const Pixel* p = w.begin; p != w.end; ++p) {
    const int64_t y = p->yq - w.dy, x = p->xq - w.dx;
    if (static_cast<uint64_t>(y) >= static_cast<uint64_t>(w.ho) || static_cast<uint64_t>(x) >= static_cast<uint64_t>(w.wo))
      continue;
    const int64_t a = p->pattern;
    add_row(a, w.u + (y * w.wo + x) * w.vo);
    ++w.hist[a];
    ++visited;
    mark_seen(w, a);
  }
  return visited;
}

struct TapScatter {
  float* r;                     // the walk's accumulators [2^ba, vo], vo = V x channels
  int64_t vo, channels, sa;     // sa = 2^ba
  const uint8_t* w_of_channel;  // [channels] the weight pattern of each output channel at this tap
  float* g;                     // G of weighting v at g + v * g_stride, laid out [2^bw, 2^ba]
  int64_t g_stride;
  uint8_t* seen;                // the walk's flags and list of the patterns that occurred
  std::vector<int64_t>* touched;
};

// Moves pattern a's sums into G one float at a time, channels in order (both builds use it).
inline void scatter_pattern(const TapScatter& s, int64_t a) {
  const int64_t v_count = s.vo / s.channels;
  for (int64_t v = 0; v < v_count; ++v) {
    float* g = s.g + v * s.g_stride + a;
    const float* rv = s.r + a * s.vo + v * s.channels;
    for (int64_t o = 0; o < s.channels; ++o) g[s.w_of_channel[o] * s.sa] += rv[o];
  }
}

int64_t walk_tap_ref(const TapWalk& w);
// Leaves r, seen and touched reset for the next tap.
void scatter_tap_ref(const TapScatter& s);
#if defined(FAMES_X86_KERNELS)
// REQUIRE: the CPU has AVX-512F.
int64_t walk_tap_avx512(const TapWalk& w);
void scatter_tap_avx512(const TapScatter& s);
#endif

}  // namespace fames::measure::detail
