// Selection time on a ResNet-20-sized instance: 20 layers x 30 candidate AppMuls (synthetic
// estimate, src/select/synthetic_estimate.h), with CBC and with the DP, at several energy
// reductions (as a fraction of the largest feasible one), the dual form, and a 20-point sweep.
// Target: well under 1 s per selection.
#include <benchmark/benchmark.h>

#include "select/selection.h"
#include "select/synthetic_estimate.h"
#include "util/progress.h"

namespace {

const fames::Estimate& resnet20_sized() {
  static const fames::Estimate e = fames::synthetic_estimate({20, 30, 1});
  return e;
}

fames::SelectOptions solver_named(const char* name) {
  fames::SelectOptions o;
  o.solver = name;
  return o;
}

// range(0): reduction in percent of the largest feasible reduction.
void run_energy(benchmark::State& state, const char* solver) {
  const fames::Estimate& e = resnet20_sized();
  const double r = fames::max_energy_reduction(e) * state.range(0) / 100.0;
  fames::Assignment a;
  for (auto _ : state) {
    a = fames::select_for_energy_reduction(e, r, solver_named(solver));
    benchmark::DoNotOptimize(a);
  }
  state.counters["reduction"] = r;
  state.counters["predicted_dl"] = a.summary->predicted_dl;
}
void BM_SelectCbc(benchmark::State& state) { run_energy(state, "cbc"); }
void BM_SelectDp(benchmark::State& state) { run_energy(state, "dp"); }
BENCHMARK(BM_SelectCbc)->Arg(25)->Arg(50)->Arg(75)->Arg(95)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SelectDp)->Arg(25)->Arg(50)->Arg(75)->Arg(95)->Unit(benchmark::kMillisecond);

void run_loss(benchmark::State& state, const char* solver) {
  const fames::Estimate& e = resnet20_sized();
  for (auto _ : state)
    benchmark::DoNotOptimize(fames::select_for_max_loss_increase(e, 0.01, solver_named(solver)));
}
void BM_MaxLossCbc(benchmark::State& state) { run_loss(state, "cbc"); }
void BM_MaxLossDp(benchmark::State& state) { run_loss(state, "dp"); }
BENCHMARK(BM_MaxLossCbc)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaxLossDp)->Unit(benchmark::kMillisecond);

void BM_Sweep20Cbc(benchmark::State& state) {
  fames::Progress::set_enabled(false);
  for (auto _ : state) benchmark::DoNotOptimize(fames::pareto_sweep(resnet20_sized(), 20));
}
BENCHMARK(BM_Sweep20Cbc)->Unit(benchmark::kMillisecond);

}  // namespace
BENCHMARK_MAIN();
