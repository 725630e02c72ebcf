#include "pipeline/probe_plan.h"

#include <algorithm>

namespace fames::pipeline {
namespace {
// The largest index of a passing probe, or `start` (which passes uncalibrated, so calibrated too).
size_t best_pass(const std::vector<ProbeOutcome>& done, double target, size_t start) {
  size_t best = start;
  for (const ProbeOutcome& p : done)
    if (p.calibrated_top1 >= target) best = std::max(best, p.index);
  return best;
}
}  // namespace

std::optional<size_t> next_sweep_probe(const std::vector<double>& uncalibrated_top1, size_t start,
                                       const std::vector<ProbeOutcome>& done, double target,
                                       double exact_top1) {
  // Recovered fractions of probes that started below the target only: a point that lost almost
  // nothing says little about how much calibration recovers of a real loss.
  std::optional<double> best_recovery;
  for (const ProbeOutcome& p : done) {
    if (p.uncalibrated_top1 < target) {
      const double recovery = (p.calibrated_top1 - p.uncalibrated_top1) / (exact_top1 - p.uncalibrated_top1);
      best_recovery = best_recovery ? std::max(*best_recovery, recovery) : recovery;
    }
  }
  for (size_t i = best_pass(done, target, start) + 1; i < uncalibrated_top1.size(); ++i) {
    const double top1 = uncalibrated_top1[i];
    const auto covers = [&](const ProbeOutcome& p) {
      return p.index == i || (p.calibrated_top1 < target && p.index < i && p.uncalibrated_top1 >= top1);
    };
    if (std::any_of(done.begin(), done.end(), covers)) continue;
    if (best_recovery && top1 + *best_recovery * (exact_top1 - top1) < target) continue;
    return i;
  }
  return std::nullopt;
}

std::optional<ProbeOutcome> first_failure_above_passes(const std::vector<ProbeOutcome>& done, double target,
                                                       size_t start) {
  const size_t low = best_pass(done, target, start);
  std::optional<ProbeOutcome> first;
  for (const ProbeOutcome& p : done)
    if (p.calibrated_top1 < target && p.index > low && (!first || p.index < first->index)) first = p;
  return first;
}

std::optional<size_t> next_bisection_probe(size_t points, size_t start, const std::vector<ProbeOutcome>& done,
                                           double target) {
  const size_t low = best_pass(done, target, start);
  const std::optional<ProbeOutcome> fail = first_failure_above_passes(done, target, start);
  const size_t high = fail ? fail->index : points;
  if (high <= low + 1) return std::nullopt;
  return low + (high - low) / 2;
}

std::optional<double> TargetInterval::next(double min_width) const {
  if (!(high - low >= min_width)) return std::nullopt;
  return 0.5 * (low + high);
}

void TargetInterval::narrow(double target, double reduction, bool passed) {
  if (passed)
    low = std::max({low, target, reduction});
  else
    high = std::min({high, target, reduction});
}

}  // namespace fames::pipeline
