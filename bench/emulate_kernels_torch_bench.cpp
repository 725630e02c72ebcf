// Product-table kernels against exact float LibTorch on the ResNet-20 (CIFAR-10) layer shapes.
//
// For every layer, in the same run and interleaved: table_conv2d / table_linear at the active SIMD
// level (FAMES_SIMD=ref|avx2|avx512 to force one) and torch::conv2d / torch::linear in float32.
// Prints per-layer medians for a mixed-precision assignment and the whole-network totals for
// several uniform (bw, ba) assignments; "speed" = torch time / table time (>= 1 means the emulation
// is at least as fast as float inference).
//
// Usage: emulate_kernels_torch_bench [--reps N] [--batch N] [--layers] [--mixed-only]
//   defaults: 5 repetitions, batch 256; --layers prints per-layer lines for the uniform runs too.
#include <omp.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "emulate/simd_level.h"
#include "emulate/table_conv.h"

namespace {

using fames::ConvShape;
using fames::ProductTable;
using fames::Signature;

struct Layer {
  std::string name;
  ConvShape shape;  // linear layers: n = batch, c = in, o = out, 1x1 spatial
  bool linear = false;
  bool signed_act = false;
};

ConvShape conv3x3(int64_t batch, int64_t c, int64_t hw, int64_t o, int stride) {
  ConvShape s;
  s.n = batch, s.c = c, s.h = hw, s.w = hw, s.o = o, s.kh = 3, s.kw = 3;
  s.stride_h = s.stride_w = stride;
  s.pad_h = s.pad_w = 1;
  return s;
}

std::vector<Layer> resnet20_layers(int64_t batch) {
  std::vector<Layer> layers;
  layers.push_back({"conv1 3->16 32x32", conv3x3(batch, 3, 32, 16, 1), false, true});
  for (int i = 0; i < 6; ++i) layers.push_back({"s1 16->16 32x32", conv3x3(batch, 16, 32, 16, 1)});
  layers.push_back({"s2 16->32 /2", conv3x3(batch, 16, 32, 32, 2)});
  for (int i = 0; i < 5; ++i) layers.push_back({"s2 32->32 16x16", conv3x3(batch, 32, 16, 32, 1)});
  layers.push_back({"s3 32->64 /2", conv3x3(batch, 32, 16, 64, 2)});
  for (int i = 0; i < 5; ++i) layers.push_back({"s3 64->64 8x8", conv3x3(batch, 64, 8, 64, 1)});
  ConvShape fc;
  fc.n = batch, fc.c = 64, fc.o = 10;
  layers.push_back({"fc 64->10", fc, true});
  return layers;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One layer's operands, both as raw codes (table kernels) and as floats (LibTorch).
struct LayerData {
  std::vector<uint8_t> act, weight;
  std::vector<int32_t> out;
  torch::Tensor act_f, weight_f;
};

LayerData make_data(const Layer& l, Signature sig, std::mt19937& rng) {
  const ConvShape& s = l.shape;
  LayerData d;
  d.act.resize(static_cast<size_t>(s.n * s.c * s.h * s.w));
  d.weight.resize(static_cast<size_t>(s.o * s.taps()));
  for (auto& a : d.act) a = static_cast<uint8_t>(rng() & ((1u << sig.ba) - 1));
  for (auto& w : d.weight) w = static_cast<uint8_t>(rng() & ((1u << sig.bw) - 1));
  d.out.resize(static_cast<size_t>(s.n * s.o * s.out_h() * s.out_w()));
  if (l.linear) {
    d.act_f = torch::randn({s.n, s.c});
    d.weight_f = torch::randn({s.o, s.c});
  } else {
    d.act_f = torch::randn({s.n, s.c, s.h, s.w});
    d.weight_f = torch::randn({s.o, s.c, s.kh, s.kw});
  }
  return d;
}

// An approximate table: exact products plus sparse small errors (values stay realistic).
ProductTable approx_table(Signature sig, std::mt19937& rng) {
  ProductTable t = ProductTable::exact(sig);
  for (int32_t& v : t.data())
    if (rng() % 3 == 0) v += static_cast<int32_t>(rng() % 7) - 3;
  return t;
}

struct Timing {
  double table = 0, torch = 0;
  std::string kernel;
};

Timing time_layer(const Layer& l, Signature sig, int reps, std::mt19937& rng) {
  Signature layer_sig = sig;
  layer_sig.signed_a = l.signed_act;
  const ProductTable table = approx_table(layer_sig, rng);
  LayerData d = make_data(l, layer_sig, rng);
  const ConvShape& s = l.shape;
  auto run_table = [&] {
    if (l.linear)
      fames::table_linear(s.n, s.c, s.o, d.act.data(), d.weight.data(), table, d.out.data());
    else
      fames::table_conv2d(s, d.act.data(), d.weight.data(), table, d.out.data());
  };
  auto run_torch = [&] {
    torch::Tensor y = l.linear ? torch::linear(d.act_f, d.weight_f)
                               : torch::conv2d(d.act_f, d.weight_f, {}, {s.stride_h, s.stride_w},
                                               {s.pad_h, s.pad_w});
    (void)y.data_ptr<float>();
  };
  run_table();  // warm-up (allocations, page faults, oneDNN primitive creation)
  run_torch();
  std::vector<double> tt, tf;
  for (int r = 0; r < reps; ++r) {  // interleaved so that machine noise hits both alike
    tt.push_back(seconds(run_table));
    tf.push_back(seconds(run_torch));
  }
  return {median(tt), median(tf), fames::last_kernel_report().kernel};
}

// Mixed precision: mostly 2-4 bits, a few wider layers, 8 bits at both ends (a common choice).
Signature mixed_signature(size_t layer, size_t layers) {
  static const int pattern[][2] = {{4, 4}, {3, 3}, {2, 2}, {4, 3}, {3, 4}, {2, 4}, {6, 6}, {4, 5}};
  if (layer == 0 || layer + 1 == layers) return {8, 8, true, false};
  const auto& p = pattern[layer % (sizeof(pattern) / sizeof(pattern[0]))];
  return {p[0], p[1], true, false};
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  int64_t batch = 256;
  bool per_layer_uniform = false, mixed_only = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) batch = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--layers")) per_layer_uniform = true;
    else if (!std::strcmp(argv[i], "--mixed-only")) mixed_only = true;
    else {
      std::fprintf(stderr, "usage: %s [--reps N] [--batch N] [--layers] [--mixed-only]\n", argv[0]);
      return 2;
    }
  }
  torch::NoGradGuard no_grad;
  torch::set_num_threads(omp_get_max_threads());
  std::mt19937 rng(42);
  const auto layers = resnet20_layers(batch);
  std::printf("ResNet-20 layer shapes, batch %lld, %d threads, SIMD level %s, median of %d\n",
              static_cast<long long>(batch), omp_get_max_threads(),
              fames::to_string(fames::active_simd_level()), reps);

  std::printf("\nmixed precision, per layer:\n%-20s %-9s %-16s %9s %9s %7s\n", "layer", "sig",
              "kernel", "table ms", "torch ms", "speed");
  double sum_table = 0, sum_torch = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    Signature sig = mixed_signature(i, layers.size());
    const Timing t = time_layer(layers[i], sig, reps, rng);
    sig.signed_a = layers[i].signed_act;
    std::printf("%-20s %-9s %-16s %9.2f %9.2f %7.2f\n", layers[i].name.c_str(), sig.key().c_str(),
                t.kernel.c_str(), 1e3 * t.table, 1e3 * t.torch, t.torch / t.table);
    sum_table += t.table, sum_torch += t.torch;
  }
  std::printf("%-47s %9.2f %9.2f %7.2f\n", "TOTAL mixed", 1e3 * sum_table, 1e3 * sum_torch,
              sum_torch / sum_table);

  if (mixed_only) return 0;
  std::printf("\nuniform (bw, ba) on every layer (first layer signed activations):\n");
  std::printf("%-9s %-16s %9s %9s %7s %10s\n", "sig", "kernel", "table ms", "torch ms", "speed",
              "images/s");
  for (const auto& [bw, ba] : std::vector<std::pair<int, int>>{
           {2, 2}, {3, 3}, {4, 4}, {4, 5}, {6, 6}, {7, 7}, {8, 8}}) {
    const Signature sig{bw, ba, true, false};
    double table_s = 0, torch_s = 0;
    std::string kernel;
    for (const Layer& l : layers) {
      const Timing t = time_layer(l, sig, reps, rng);
      if (per_layer_uniform)
        std::printf("  %-20s %9.2f %9.2f %7.2f\n", l.name.c_str(), 1e3 * t.table, 1e3 * t.torch,
                    t.torch / t.table);
      table_s += t.table, torch_s += t.torch;
      if (&l == &layers[1]) kernel = t.kernel;  // the conv layers all share one kernel
    }
    std::printf("%-9s %-16s %9.2f %9.2f %7.2f %10.0f\n", sig.key().c_str(), kernel.c_str(),
                1e3 * table_s, 1e3 * torch_s, torch_s / table_s, static_cast<double>(batch) / table_s);
  }
  return 0;
}
