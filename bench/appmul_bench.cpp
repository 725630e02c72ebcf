// AppMul core timings: exhaustive simulation of 8x8 circuits (the target is milliseconds for
// 65,536 pairs on ~500 gates), the toggle-energy estimate, generation, and one signature's family.
// The whole-library build time is measured by `time fames lib build --no-als --bits 2..8 --out
// DIR`.
#include <benchmark/benchmark.h>

#include "appmul/netlist/cost.h"
#include "appmul/synth/generators.h"
#include "appmul/synth/library_build.h"
#include "appmul/netlist/simulate.h"

namespace fames {
namespace {

const Signature kSig8{8, 8, true, false};

void BM_SimulateTable(benchmark::State& state, GeneratorSpec spec) {
  const Netlist net = generate_multiplier(kSig8, spec);
  for (auto _ : state) benchmark::DoNotOptimize(simulate_table(net));
  state.counters["gates"] = static_cast<double>(net.gate_count());
  state.SetItemsProcessed(state.iterations() * kSig8.table_size());
}
BENCHMARK_CAPTURE(BM_SimulateTable, exact_dadda_8x8, GeneratorSpec{Family::kExactDadda})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SimulateTable, mitchell_f7_8x8, GeneratorSpec{Family::kMitchell, 7})
    ->Unit(benchmark::kMillisecond);

void BM_CircuitCost(benchmark::State& state) {
  const Netlist net = generate_multiplier(kSig8, {Family::kExactDadda});
  for (auto _ : state) benchmark::DoNotOptimize(circuit_cost(net));
}
BENCHMARK(BM_CircuitCost)->Unit(benchmark::kMillisecond);

void BM_Generate(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(generate_multiplier(kSig8, {Family::kExactArray}));
}
BENCHMARK(BM_Generate)->Unit(benchmark::kMillisecond);

void BM_FamilyMembers8x8(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(build_family_members(kSig8, {}));
}
BENCHMARK(BM_FamilyMembers8x8)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fames

BENCHMARK_MAIN();
