// AppMul selection (METHOD.md section 3): one AppMul per layer of an Estimate, as a multiple-choice
// knapsack over the layers' candidates (cost = predicted dL, weight = macs * energy_fj).
//
//   by energy: minimize sum dL  s.t.  energy <= (1 - r) * E_exact,  r in [0, max_energy_reduction]
//   by loss:   minimize energy  s.t.  sum dL <= D,                  D >= 0
//
// E_exact is the multiplication energy per image with every layer on its exact AppMul. Requests
// outside the feasible range throw fames::Error whose message names the request (the CLI passes
// its flag name) and the largest feasible value. The energy budget is compared with a relative
// slack of 1e-12 so that r = max_energy_reduction() itself is feasible despite rounding.
// The returned Assignment carries a full summary (predicted dL, energies, solver, time).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/assignment.h"
#include "core/estimate_file.h"
#include "select/mckp.h"

namespace fames {

struct SelectOptions {
  std::string solver = "cbc";       // "cbc" (MILP) or "dp" (dynamic program)
  double time_limit_s = 60;         // CBC only
  int64_t dp_resolution = 100'000;  // DP only: weight steps across the budget (see mckp.h)
};

// 1 - (energy with every layer on its cheapest candidate) / E_exact; 0 when E_exact is 0.
double max_energy_reduction(const Estimate& estimate);

// Throw fames::Error naming `what` (e.g. "--energy-reduction") if the request is infeasible.
void check_energy_reduction(const Estimate& estimate, double reduction, const std::string& what);
void check_max_loss_increase(double max_dl, const std::string& what);

// The knapsack groups: one per layer, one option per candidate (same order as in the estimate).
std::vector<std::vector<Option>> selection_groups(const Estimate& estimate);

Assignment select_for_energy_reduction(const Estimate& estimate, double reduction,
                                       const SelectOptions& options = {});
Assignment select_for_max_loss_increase(const Estimate& estimate, double max_dl,
                                        const SelectOptions& options = {});

// The assignment (with summary) that puts layer k on candidates[choice[k]].
Assignment make_assignment(const Estimate& estimate, const std::vector<int>& choice,
                           const std::string& solver, double seconds);

// Optimal configurations for `steps` energy reductions evenly spaced from 0 to
// max_energy_reduction() inclusive (steps >= 1; steps == 1 gives only r = 0).
struct ParetoPoint {
  double requested_reduction = 0;
  Assignment
      assignment;  // summary->energy_reduction is the reduction actually reached (>= requested)
};
std::vector<ParetoPoint> pareto_sweep(const Estimate& estimate, int steps,
                                      const SelectOptions& options = {});
// A JSON array with one object per point: "requested_reduction" plus the assignment's own fields
// (see Assignment::to_json).
nlohmann::json pareto_to_json(const std::vector<ParetoPoint>& points);

// A human-readable per-layer table of an assignment (layer, signature, macs, AppMul, dL, energy
// share), ending with the totals. REQUIRES: assignment.summary and layers from `estimate`.
std::string selection_table(const Estimate& estimate, const Assignment& assignment);

}  // namespace fames
