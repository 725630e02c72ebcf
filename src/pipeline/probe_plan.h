// Which configuration of the measured sweep `fames run --max-accuracy-loss` calibrates next.
// Calibration is the expensive step, so the search spends a fixed number of probes. The sweep's
// uncalibrated top-1 is not monotone in the energy reduction, so a failed probe does not mean the
// points above it fail too: after a failure the plan keeps climbing, but only to points that could
// still pass (see next_sweep_probe). With fine-tuning a probe costs epochs over the training split,
// so the plan bisects instead (next_bisection_probe). Pure functions: no model, no data.
#pragma once
#include <cstddef>
#include <optional>
#include <vector>

namespace fames::pipeline {

// A calibrated sweep point: its index in the sweep (sorted by energy reduction) and its top-1s.
struct ProbeOutcome {
  size_t index = 0;
  double uncalibrated_top1 = 0, calibrated_top1 = 0;
};

// The next sweep point to calibrate, above `start` (the largest point whose uncalibrated top-1
// already meets `target`), or none. `uncalibrated_top1[i]`: the sweep's measured top-1 of point i,
// in increasing energy; `exact_top1`: the exact model's. A point is skipped when it is already
// probed, lies below a passing probe, has no higher uncalibrated top-1 than a failed probe of lower
// energy (it is worse and costs more), or would miss `target` even if calibration recovered the
// largest fraction of its loss (exact - uncalibrated) that any probe starting below `target` did.
std::optional<size_t> next_sweep_probe(const std::vector<double>& uncalibrated_top1, size_t start,
                                       const std::vector<ProbeOutcome>& done, double target,
                                       double exact_top1);

// The next sweep point to calibrate when probes are expensive (fine-tuning): the middle of the
// interval between the largest passing index (at least `start`, which passes uncalibrated and so
// calibrated too) and the lowest failing probe above it (else `points`, the sweep's size), or none
// once they are neighbours. Fine-tuning recovers more than the whole loss of points far above the
// start (the retrained 4-bit ResNet-20 at 25%: 84.30% -> 86.18%, exact 86.98%), so the climb's
// recovery bound would skip nothing and it would spend a probe on every point.
std::optional<size_t> next_bisection_probe(size_t points, size_t start, const std::vector<ProbeOutcome>& done,
                                           double target);

// The failing probe of the lowest index above every passing one and `start`, if any: with the best
// pass below it, the interval a last bisection step between two selections refines.
std::optional<ProbeOutcome> first_failure_above_passes(const std::vector<ProbeOutcome>& done, double target,
                                                       size_t start);

// The search's last steps: bisection of the energy-reduction target between the best pass (low)
// and the failure above it (high), each step a new selection at the middle, while probes remain.
// Sweep points are a few percent of energy apart, and the bound often lies between two of them.
struct TargetInterval {
  double low = 0, high = 0;
  // The middle, or none once high - low < min_width (a selection there would differ little).
  std::optional<double> next(double min_width) const;
  // After the selection at `target` reached `reduction` and passed or failed: a pass raises low to
  // both, a failure lowers high to both. Narrowing by the target too halves the interval even when a
  // coarse library maps neighbouring targets to one configuration (else that one is probed again).
  void narrow(double target, double reduction, bool passed);
};

}  // namespace fames::pipeline
