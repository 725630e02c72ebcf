// The FAMES Pareto sweep with measured accuracy (`fames pareto`, and the sweep of `fames run`):
// select at evenly spaced energy reductions (select/selection.h), then measure each configuration's
// top-1 on held-out training images with an emulated evaluator (measure/evaluator.h); and the
// report of it: pareto.json, pareto.csv and a gnuplot plot (report/plot.h). Formats:
// docs/formats.md. Errors throw fames::Error.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "measure/evaluator.h"
#include "select/selection.h"

namespace fames::pipeline {

struct MeasuredPoint {
  ParetoPoint point;
  double top1 = 0;  // held-out top-1, 0..1
};

// pareto_sweep() of the evaluator's estimate, each point measured (a configuration that several
// targets select is measured once). Shows a progress bar.
std::vector<MeasuredPoint> measured_pareto(measure::EmulatedEvaluator& evaluator, int steps,
                                           const SelectOptions& options = {});

// Writes DIR/pareto.json, pareto.csv, pareto.png and pareto.svg (atomically; the plots need
// gnuplot). `info` is copied into pareto.json (model, data, ...). `ga_front` (optional, from
// ga.json's "front") is drawn beside the FAMES points.
void write_pareto_report(const std::string& dir, const std::vector<MeasuredPoint>& points,
                         double exact_top1, const nlohmann::json& info,
                         const nlohmann::json& ga_front = nullptr);

}  // namespace fames::pipeline
