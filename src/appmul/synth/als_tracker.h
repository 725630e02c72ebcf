// The running error sums of an ALS run (als.h), internal to appmul/synth/als.cpp: the error metrics
// of metrics.h under options.pair_weights as sums over the product table, so that a move that
// changes a few pairs is scored in time proportional to those pairs. Uniform is every weight 1:
// each sum then takes the very values of plain counting, so uniform runs do not change with the
// weights' introduction (tests/appmul/als_histogram_test.cpp). Keeps a reference to `options`.
#pragma once
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "appmul/netlist/simulate.h"
#include "appmul/synth/als.h"

namespace fames::detail {

class AlsErrorTracker {
 public:
  AlsErrorTracker(const Signature& sig, const AlsOptions& options);

  // Recomputes the sums for the raw output patterns `raw` (table order); returns the metric
  // (infinity if the zero guard fails).
  double reset(std::vector<uint32_t> raw);

  // The objective's value at the last reset (0 without an objective).
  double objective() const { return objective_ ? objective_->value() : 0; }

  // Records that output bit `bit` of pair p flips in the candidate.
  void flip(int64_t p, int bit) {
    if (pending_[p] == 0) touched_.push_back(p);
    pending_[p] ^= uint32_t{1} << bit;
  }

  // Metric of the table with the recorded flips applied; clears the flips. With an objective and
  // `objective` non-null, also its value (exact or estimated) after the flips.
  double candidate_metric(double* objective = nullptr, bool exact_objective = false);

 private:
  struct Sums {
    double errors = 0, abs = 0, rel = 0, sq = 0, wce = 0;
  };

  // The per-pair helpers stay in the class body: inlined into the loops over pairs (out of line,
  // add() alone took a third of an 8x8 run's time).
  int32_t error(uint32_t raw, size_t p) const { return output_value(sig_, raw) - exact_[p]; }
  void add(Sums& s, size_t p, int64_t e, int sign) const {
    const double ae = std::abs(double(e));
    const double w = sign * weight_[p];
    s.errors += w * (e != 0);
    s.abs += w * ae;
    s.rel += sign * ae * rel_weight_[p];
    s.sq += w * ae * ae;
  }
  bool zero_guard_ok(size_t p, int64_t e) const {
    return options_.max_zero_product_error < 0 || exact_[p] != 0 ||
           std::abs(e) <= options_.max_zero_product_error;
  }
  double max_untouched_error() const;
  double metric(const Sums& s) const;

  Signature sig_;
  const AlsOptions& options_;
  std::vector<int32_t> exact_;
  std::vector<double> weight_;      // pair weights (1 each when uniform)
  std::vector<double> rel_weight_;  // weight / |exact product|, 0 where the product is 0
  double max_exact_ = 0, total_weight_ = 0, nonzero_weight_ = 0;
  std::vector<uint32_t> raw_, pending_;  // current outputs; candidate flips (XOR masks)
  std::vector<int64_t> touched_;
  Sums base_;
  int64_t wce_pairs_ = 0;  // weighted pairs whose |error| equals base_.wce
  std::unique_ptr<AlsObjectiveEval> objective_;
  std::vector<int64_t> pairs_;
  std::vector<int32_t> new_errors_;
};

}  // namespace fames::detail
