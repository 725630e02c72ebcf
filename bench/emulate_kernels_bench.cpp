// Product-table kernels alone (no LibTorch) on the three ResNet-20 body shapes, per signature:
// items/s = multiply-accumulates per second. FAMES_SIMD=ref|avx2|avx512 forces a level;
// OMP_NUM_THREADS=1 measures one core. The float comparison is emulate_kernels_torch_bench.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "emulate/simd_level.h"
#include "emulate/table_conv.h"

namespace {

using fames::ConvShape;

ConvShape body_shape(int64_t stage, int64_t batch) {
  ConvShape s;
  s.n = batch, s.c = 16 << stage, s.o = 16 << stage, s.h = s.w = 32 >> stage, s.kh = s.kw = 3;
  s.pad_h = s.pad_w = 1;
  return s;
}

// Args: stage (0: 16ch 32x32, 1: 32ch 16x16, 2: 64ch 8x8, 3: the first layer, 3 -> 16 channels on
// 32x32 with signed activations), bw, ba, batch.
void BM_TableConv(benchmark::State& state) {
  ConvShape s = body_shape(std::min<int64_t>(state.range(0), 2), state.range(3));
  const bool first_layer = state.range(0) == 3;
  if (first_layer) s = body_shape(0, state.range(3)), s.c = 3;
  const fames::Signature sig{static_cast<int>(state.range(1)), static_cast<int>(state.range(2)), true, first_layer};
  std::mt19937 rng(1);
  fames::ProductTable t = fames::ProductTable::exact(sig);
  for (int32_t& v : t.data()) v += static_cast<int32_t>(rng() % 5) - 2;
  std::vector<uint8_t> act(static_cast<size_t>(s.n * s.c * s.h * s.w)), w(static_cast<size_t>(s.o * s.taps()));
  for (auto& a : act) a = static_cast<uint8_t>(rng() & ((1u << sig.ba) - 1));
  for (auto& x : w) x = static_cast<uint8_t>(rng() & ((1u << sig.bw) - 1));
  std::vector<int32_t> out(static_cast<size_t>(s.n * s.o * s.out_h() * s.out_w()));
  for (auto _ : state) {
    fames::table_conv2d(s, act.data(), w.data(), t, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * s.n * s.o * s.out_h() * s.out_w() * s.taps());
  state.SetLabel(fames::last_kernel_report().kernel);
}

void Args(benchmark::internal::Benchmark* b) {
  for (int stage = 0; stage < 4; ++stage)
    for (auto [bw, ba] : {std::pair{2, 2}, {3, 3}, {4, 4}, {4, 5}, {6, 6}, {8, 8}})
      b->Args({stage, bw, ba, 64});
}
BENCHMARK(BM_TableConv)->Apply(Args)->Unit(benchmark::kMillisecond)->UseRealTime();

// The ResNet-20 classifier, 64 -> 10, batch 256. Args: bw, ba.
void BM_TableLinear(benchmark::State& state) {
  const fames::Signature sig{static_cast<int>(state.range(0)), static_cast<int>(state.range(1)), true, false};
  const int64_t batch = 256, in = 64, out_features = 10;
  std::mt19937 rng(2);
  const fames::ProductTable t = fames::ProductTable::exact(sig);
  std::vector<uint8_t> act(static_cast<size_t>(batch * in)), w(static_cast<size_t>(out_features * in));
  for (auto& a : act) a = static_cast<uint8_t>(rng() & ((1u << sig.ba) - 1));
  for (auto& x : w) x = static_cast<uint8_t>(rng() & ((1u << sig.bw) - 1));
  std::vector<int32_t> out(static_cast<size_t>(batch * out_features));
  for (auto _ : state) {
    fames::table_linear(batch, in, out_features, act.data(), w.data(), t, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * batch * in * out_features);
  state.SetLabel(fames::last_kernel_report().kernel);
}
BENCHMARK(BM_TableLinear)->Args({4, 4})->Args({8, 8})->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
