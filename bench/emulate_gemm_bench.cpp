// The table GEMM alone (emulate/table_kernels.h: no quantization, im2col or epilogue), one thread,
// on the [K][P] x [O] blocks TableLayer gives it for the ResNet-20 body layers. items/s = products
// per second, so kernels compare directly against the p5 port's limit (16 or 32 products a cycle).
// Args: bw, ba, K (taps), P (positions), O (output channels).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "emulate/table_kernels.h"

namespace {

using namespace fames;
using namespace fames::detail;

void BM_TableGemm(benchmark::State& state) {
  const int bw = static_cast<int>(state.range(0)), ba = static_cast<int>(state.range(1));
  const int64_t K = state.range(2), P = state.range(3), O = state.range(4);
  const Signature sig{bw, ba, true, false};
  std::mt19937 rng(3);
  ProductTable t = ProductTable::exact(sig);
  for (int32_t& v : t.data()) v += static_cast<int32_t>(rng() % 5) - 2;
  const PreparedTable prepared = prepare_table(t, best_simd_level());
  const int64_t ldp = (P + 31) / 32 * 32;
  // 64-byte aligned, as TableLayer's im2col buffers (+ 1 element: see GemmArgs::idx).
  std::vector<uint16_t> storage(static_cast<size_t>(K * ldp + 1 + 32));
  uint16_t* idx = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64 / 2;
  for (int64_t i = 0; i < K * ldp + 1; ++i)
    idx[i] = prepared.encode(static_cast<uint8_t>(rng() & ((1u << ba) - 1)));
  std::vector<int64_t> koff(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) koff[k] = k * ldp;
  std::vector<uint8_t> w(static_cast<size_t>(O * K));
  for (auto& x : w) x = static_cast<uint8_t>(rng() & ((1u << bw) - 1));
  std::vector<int32_t> out(static_cast<size_t>(O * ldp));
  const GemmArgs args{&prepared, w.data(), K, idx, koff.data(), K, P, O, out.data(), ldp};
  for (auto _ : state) {
    run_table_gemm(args);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * K * P * O);
  state.SetLabel(prepared.name());
}

void Args(benchmark::internal::Benchmark* b) {
  for (auto [bw, ba] : {std::pair{3, 3}, {4, 4}, {5, 5}, {6, 6}}) {
    b->Args({bw, ba, 144, 256, 16});  // 16 -> 16 channels (an image of 32 x 32 has 1024 positions)
    b->Args({bw, ba, 288, 256, 32});
    b->Args({bw, ba, 576, 256, 64});
  }
}
BENCHMARK(BM_TableGemm)->Apply(Args)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
