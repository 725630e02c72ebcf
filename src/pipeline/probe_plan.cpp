#include "pipeline/probe_plan.h"

#include <algorithm>

namespace fames::pipeline {

std::optional<size_t> next_sweep_probe(const std::vector<double>& uncalibrated_top1, size_t start,
                                       const std::vector<ProbeOutcome>& done, double target,
                                       double exact_top1) {
  // Recovered fractions of probes that started below the target only: a point that lost almost
  // nothing says little about how much calibration recovers of a real loss.
  std::optional<double> best_recovery;
  size_t above_pass = start + 1;  // candidates start above the largest passing probe
  for (const ProbeOutcome& p : done) {
    if (p.uncalibrated_top1 < target) {
      const double recovery = (p.calibrated_top1 - p.uncalibrated_top1) / (exact_top1 - p.uncalibrated_top1);
      best_recovery = best_recovery ? std::max(*best_recovery, recovery) : recovery;
    }
    if (p.calibrated_top1 >= target) above_pass = std::max(above_pass, p.index + 1);
  }
  for (size_t i = above_pass; i < uncalibrated_top1.size(); ++i) {
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

ProbeBracket probe_bracket(const std::vector<ProbeOutcome>& done, double target) {
  ProbeBracket bracket;
  for (const ProbeOutcome& p : done)
    if (p.calibrated_top1 >= target && (!bracket.best_pass || p.index > bracket.best_pass->index))
      bracket.best_pass = p;
  for (const ProbeOutcome& p : done) {
    const bool above = !bracket.best_pass || p.index > bracket.best_pass->index;
    if (p.calibrated_top1 < target && above &&
        (!bracket.first_fail_above || p.index < bracket.first_fail_above->index))
      bracket.first_fail_above = p;
  }
  return bracket;
}

}  // namespace fames::pipeline
