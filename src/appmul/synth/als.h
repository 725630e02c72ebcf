// Approximate logic synthesis (ALS): greedy approximation of an exact multiplier netlist.
//
// Starting from `exact` (any netlist whose table is the exact product, e.g. generate_multiplier
// with Family::kExactDadda), each step samples up to candidates_per_step live gates and tries to
// replace each by constant 0, constant 1, or one of the substitutes_per_node existing signals
// (or their complements) whose exhaustive simulation signatures are closest in Hamming distance
// and that lie outside the gate's transitive fanout (so no cycle can form). A move's error is
// found by re-simulating only the transitive fanout of the replaced gate over all 2^(bw+ba)
// operand pairs; its saving is a cheap energy proxy: the per-operation energy of the gates the
// move leaves dead (toggle rate 2p(1-p) from the signature x (internal energy + load charging),
// plus leakage), minus the inverter a complemented substitute needs. The move with the largest
// saving per added error whose error (metrics.h, under pair_weights: uniform by default, else e.g.
// a model's operand histogram, operand_histogram.h) stays <= max_error (and whose products of
// exactly 0 stay within max_zero_product_error, on every pair, weighted or not) is applied,
// the netlist is strashed (constants folded, dead logic swept), and the result is characterised
// with the real cost model (library.h characterize, source "als:<metric>", "als:<metric>:histogram"
// with pair weights; its metrics stay the uniform ones). When no sampled gate has an admissible
// move, further samples of candidates_per_step gates are tried until one has or every gate was
// tried. The run stops after max_steps steps, when no gate at all has a move within the bound, or
// (never seen so far) when metrics.h puts a step above the bound that the search's running error
// sums put within it.
// Work per step is about candidates_per_step x (2 + 2 x substitutes_per_node) TFO re-simulations;
// an 8x8 run to MRED 0.2 takes ~15 s on one core (bench numbers: tests/appmul/als_test.cpp,
// DISABLED_Timing8x8). The proxy ignores toggle changes in the fanout, so the characterised
// energy is usually, not always, non-increasing along the steps: use pareto_front() to thin.
//
// Any netlist of the signature can be the start (e.g. a truncated multiplier: "seeded" runs); the
// error is always measured against the exact product.
//
// With an `objective` (AlsObjective below, e.g. a layer's predicted loss change), moves are scored
// by saving per objective added, and a move must also keep the objective <= max_objective; the
// metric bound still applies. Scoring then uses the objective's cheap estimate for all moves and
// its exact value for the best few.
//
// Every accepted step is returned, in order, named "als_<metric>[_<tag>]_s<step>_<sig key>".
// The same exact netlist and options give the same result. Errors: fames::Error for an unknown
// metric name, a netlist without outputs, or bad options (non-positive counts, negative bound).
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "appmul/library/library.h"

namespace fames {

enum class AlsMetric { kMred, kNmed, kEr, kWce, kMse };

// "mred", "nmed", "er", "wce", "mse" <-> AlsMetric. Parsing throws fames::Error naming the text.
AlsMetric parse_als_metric(const std::string& name);
const char* als_metric_name(AlsMetric metric);
double metric_value(const ErrorMetrics& metrics, AlsMetric metric);

// State of an objective during one run, positioned at an error vector e = T - T* (table order).
class AlsObjectiveEval {
 public:
  virtual ~AlsObjectiveEval() = default;
  virtual double value() const = 0;
  // Objective if the errors at `pairs` became `new_errors` (others unchanged). `exact` false
  // allows a cheaper estimate (used to rank moves). Does not change the state.
  virtual double candidate(const std::vector<int64_t>& pairs, const std::vector<int32_t>& new_errors,
                           bool exact) = 0;
};

// An error objective over whole product tables. Thread-safe: each run starts its own evaluator.
class AlsObjective {
 public:
  virtual ~AlsObjective() = default;
  virtual std::unique_ptr<AlsObjectiveEval> start(const std::vector<int32_t>& errors) const = 0;
};

struct AlsOptions {
  AlsMetric metric = AlsMetric::kMred;
  double max_error = 0.2;         // bound on the metric (under pair_weights)
  int max_steps = 400;            // accepted moves at most
  int candidates_per_step = 64;   // gates sampled per step (all of them when fewer)
  int substitutes_per_node = 3;   // most similar existing signals tried per sampled gate
  uint64_t seed = 1;              // gate sampling
  std::string tag;                // inserted in step names (e.g. the seed circuit's family)
  std::shared_ptr<const AlsObjective> objective;  // optional; see above
  double max_objective = std::numeric_limits<double>::infinity();
  int exact_rechecks = 8;         // with an objective: moves re-scored with its exact value
  // MRED ignores pairs whose exact product is 0, yet those are frequent in networks (ReLU zeros,
  // pruned weights): their |error| must stay <= this (0: they stay exact); negative: no guard.
  int max_zero_product_error = 0;
  // Pair probabilities or counts in ProductTable layout (w_raw * 2^ba + a_raw; >= 0, not all 0)
  // under which the metric is measured, as metrics.h error_metrics(table, weights): pairs of
  // weight 0 cost nothing, WCE is the max over pairs of positive weight, NMED still divides by the
  // largest exact product of all pairs. Empty: uniform, bit for bit the unweighted engine.
  std::vector<double> pair_weights;
  CellLibrary cells = CellLibrary::builtin_45nm();
  CostOptions cost;               // for characterising accepted steps (not for the search)
  // Called after each accepted step (e.g. to advance a progress bar); may be empty.
  std::function<void(const AppMul& step)> on_step;
};

std::vector<AppMul> run_als(const Netlist& exact, const AlsOptions& options);

// The error ALS bounds and ranks by: options.metric of m's table under options.pair_weights
// (m.metrics, the uniform ones, when there are none).
double als_error(const AppMul& m, const AlsOptions& options);

// The members no other member beats in both energy_fj and `metric` (ties in both keep the first),
// sorted by increasing energy.
std::vector<AppMul> pareto_front(const std::vector<AppMul>& appmuls, AlsMetric metric);
// The same with als_error(m, options) as the error.
std::vector<AppMul> pareto_front(const std::vector<AppMul>& appmuls, const AlsOptions& options);

}  // namespace fames
