#include "appmul/synth/als_tracker.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fames::detail {

AlsErrorTracker::AlsErrorTracker(const Signature& sig, const AlsOptions& options)
    : sig_(sig), options_(options) {
  const int64_t n = sig.table_size();
  exact_.resize(n);
  weight_ = options.pair_weights.empty() ? std::vector<double>(n, 1.0) : options.pair_weights;
  rel_weight_.assign(n, 0);
  for (uint32_t w = 0; w < sig.weight_levels(); ++w)
    for (uint32_t a = 0; a < sig.act_levels(); ++a) {
      const int64_t p = (int64_t{w} << sig.ba) | a;
      exact_[p] = sig.w_value(w) * sig.a_value(a);
      max_exact_ = std::max(max_exact_, std::abs(double(exact_[p])));  // NMED: all pairs
      total_weight_ += weight_[p];
      if (exact_[p] != 0) {
        rel_weight_[p] = weight_[p] / std::abs(double(exact_[p]));
        nonzero_weight_ += weight_[p];
      }
    }
  pending_.assign(n, 0);
}

double AlsErrorTracker::reset(std::vector<uint32_t> raw) {
  raw_ = std::move(raw);
  base_ = Sums{};
  wce_pairs_ = 0;
  bool guard_ok = true;
  for (size_t p = 0; p < raw_.size(); ++p) {
    const int64_t e = error(raw_[p], p);
    add(base_, p, e, +1);
    if (weight_[p] > 0) base_.wce = std::max(base_.wce, std::abs(double(e)));
    guard_ok = guard_ok && zero_guard_ok(p, e);
  }
  for (size_t p = 0; p < raw_.size(); ++p)
    if (weight_[p] > 0 && std::abs(double(error(raw_[p], p))) == base_.wce) ++wce_pairs_;
  if (options_.objective) {
    std::vector<int32_t> errors(raw_.size());
    for (size_t p = 0; p < raw_.size(); ++p) errors[p] = error(raw_[p], p);
    objective_ = options_.objective->start(errors);
  }
  return guard_ok ? metric(base_) : std::numeric_limits<double>::infinity();
}

double AlsErrorTracker::candidate_metric(double* objective, bool exact_objective) {
  if (objective && objective_) {
    pairs_.clear();
    new_errors_.clear();
    for (int64_t p : touched_) {
      pairs_.push_back(p);
      new_errors_.push_back(error(raw_[p] ^ pending_[p], p));
    }
    *objective = objective_->candidate(pairs_, new_errors_, exact_objective);
  }
  Sums s = base_;
  bool guard_ok = true;
  double changed_max = 0;
  int64_t wce_lost = 0;
  for (int64_t p : touched_) {
    const int64_t e_old = error(raw_[p], p);
    const int64_t e_new = error(raw_[p] ^ pending_[p], p);
    add(s, p, e_old, -1);
    add(s, p, e_new, +1);
    if (weight_[p] > 0) {
      changed_max = std::max(changed_max, std::abs(double(e_new)));
      if (std::abs(double(e_old)) == base_.wce) ++wce_lost;
    }
    guard_ok = guard_ok && zero_guard_ok(p, e_new);
  }
  if (options_.metric == AlsMetric::kWce) {
    s.wce = std::max(wce_lost < wce_pairs_ ? base_.wce : 0.0, changed_max);
    if (wce_lost == wce_pairs_) s.wce = std::max(s.wce, max_untouched_error());
  }
  for (int64_t p : touched_) pending_[p] = 0;
  touched_.clear();
  return guard_ok ? metric(s) : std::numeric_limits<double>::infinity();
}

double AlsErrorTracker::max_untouched_error() const {
  double m = 0;
  for (size_t p = 0; p < raw_.size(); ++p)
    if (pending_[p] == 0 && weight_[p] > 0)
      m = std::max(m, std::abs(double(error(raw_[p], p))));
  return m;
}

double AlsErrorTracker::metric(const Sums& s) const {
  const double n = total_weight_;
  switch (options_.metric) {
    case AlsMetric::kMred: return nonzero_weight_ > 0 ? s.rel / nonzero_weight_ : 0;
    case AlsMetric::kNmed: return max_exact_ > 0 ? s.abs / n / max_exact_ : 0;
    case AlsMetric::kEr: return s.errors / n;
    case AlsMetric::kWce: return s.wce;
    case AlsMetric::kMse: return s.sq / n;
  }
  return 0;
}

}  // namespace fames::detail
