#include "pipeline/pareto_sweep.h"

#include <fmt/format.h>

#include <map>

#include "report/plot.h"
#include "util/files.h"
#include "util/progress.h"

namespace fames::pipeline {

std::vector<MeasuredPoint> measured_pareto(measure::EmulatedEvaluator& evaluator, int steps,
                                           const SelectOptions& options) {
  const std::vector<ParetoPoint> sweep = pareto_sweep(evaluator.estimate(), steps, options);
  std::map<std::vector<int>, double> measured;  // neighbouring targets often pick the same config
  std::vector<MeasuredPoint> points;
  Progress bar("measure", static_cast<int64_t>(sweep.size()), "config");
  for (const ParetoPoint& p : sweep) {
    const std::vector<int> choice = evaluator.choice_of(p.assignment);
    auto it = measured.find(choice);
    if (it == measured.end()) it = measured.emplace(choice, evaluator.top1(choice)).first;
    points.push_back({p, it->second});
    bar.advance(1, fmt::format("{:.1f}% saved: top-1 {:.2f}%", 100 * p.assignment.summary->energy_reduction,
                               100 * it->second));
  }
  bar.finish();
  return points;
}

void write_pareto_report(const std::string& dir, const std::vector<MeasuredPoint>& points,
                         double exact_top1, const nlohmann::json& info,
                         const nlohmann::json& ga_front) {
  nlohmann::json doc = info;
  doc["format"] = "fames-pareto";
  doc["version"] = 1;
  doc["exact_top1"] = exact_top1;
  nlohmann::json list = nlohmann::json::array();
  std::string csv = "requested_reduction,energy_reduction,predicted_dl,energy_fj_per_image,top1,top1_drop\n";
  report::Series fames{"FAMES (CBC), measured", {}, {}, report::SeriesStyle::kLinesPoints};
  for (const MeasuredPoint& m : points) {
    const AssignmentSummary& s = *m.point.assignment.summary;
    nlohmann::json j = m.point.assignment.to_json();
    j["requested_reduction"] = m.point.requested_reduction;
    j["top1"] = m.top1;
    j["top1_drop"] = exact_top1 - m.top1;
    list.push_back(std::move(j));
    csv += fmt::format("{:.6f},{:.6f},{:.6g},{:.6g},{:.6f},{:.6f}\n", m.point.requested_reduction,
                       s.energy_reduction, s.predicted_dl, s.energy_fj_per_image, m.top1,
                       exact_top1 - m.top1);
    fames.x.push_back(100 * s.energy_reduction);
    fames.y.push_back(100 * m.top1);
  }
  doc["points"] = list;
  report::XYChart chart;
  chart.title = "Measured top-1 vs multiplication energy saved" +
                (info.contains("model") ? " (" + info["model"].get<std::string>() + ")" : "");
  chart.x_label = "energy reduction vs exact multipliers (%)";
  chart.y_label = "top-1 on held-out training images (%)";
  chart.series.push_back(fames);
  if (ga_front.is_array()) {
    report::Series ga{"NSGA-II front", {}, {}, report::SeriesStyle::kPoints};
    for (const auto& p : ga_front) {
      ga.x.push_back(100 * p.at("energy_reduction").get<double>());
      ga.y.push_back(100 * p.at("top1").get<double>());
    }
    chart.series.push_back(ga);
  }
  chart.series.push_back({"exact", {0.0}, {100 * exact_top1}, report::SeriesStyle::kPoints});
  write_file_atomic(dir + "/pareto.json", doc.dump(1) + "\n");
  write_file_atomic(dir + "/pareto.csv", csv);
  report::write_chart(chart, dir + "/pareto");
}

}  // namespace fames::pipeline
