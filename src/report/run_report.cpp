#include "report/run_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "report/plot.h"
#include "util/files.h"

namespace fames::report {
namespace {

double total_energy(const std::vector<RunLayer>& layers) {
  double sum = 0;
  for (const auto& l : layers) sum += l.energy_fj_per_image;
  return sum;
}

Series curve_series(const std::string& name, const std::vector<CurvePoint>& curve,
                    SeriesStyle style) {
  Series s{name, {}, {}, style};
  for (const auto& p : curve) {
    s.x.push_back(100 * p.energy_reduction);
    s.y.push_back(100 * p.top1);
  }
  return s;
}

}  // namespace

nlohmann::json curve_to_json(const std::vector<CurvePoint>& curve) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : curve)
    out.push_back({{"energy_reduction", p.energy_reduction}, {"top1", p.top1}, {"label", p.label}});
  return out;
}

std::vector<CurvePoint> curve_from_json(const nlohmann::json& j) {
  std::vector<CurvePoint> curve;
  for (const auto& p : j)
    curve.push_back({p.at("energy_reduction").get<double>(), p.at("top1").get<double>(),
                     p.at("label").get<std::string>()});
  return curve;
}

nlohmann::json layer_to_json(const RunLayer& l) {
  nlohmann::json j{{"name", l.name},
                   {"signature", l.signature},
                   {"appmul", l.appmul},
                   {"macs", l.macs},
                   {"energy_fj_per_image", l.energy_fj_per_image},
                   {"exact_energy_fj_per_image", l.exact_energy_fj_per_image},
                   {"predicted_dl", l.predicted_dl}};
  if (l.measured_dl) j["measured_dl"] = *l.measured_dl;
  return j;
}

RunLayer layer_from_json(const nlohmann::json& j) {
  RunLayer l;
  l.name = j.at("name").get<std::string>();
  l.signature = j.at("signature").get<std::string>();
  l.appmul = j.at("appmul").get<std::string>();
  l.macs = j.at("macs").get<int64_t>();
  l.energy_fj_per_image = j.at("energy_fj_per_image").get<double>();
  l.exact_energy_fj_per_image = j.at("exact_energy_fj_per_image").get<double>();
  l.predicted_dl = j.at("predicted_dl").get<double>();
  if (j.contains("measured_dl")) l.measured_dl = j["measured_dl"].get<double>();
  return l;
}

std::vector<CurvePoint> upper_front(std::vector<CurvePoint> points) {
  // By decreasing energy reduction; a point survives if it is more accurate than all that save
  // more.
  std::sort(points.begin(), points.end(), [](const CurvePoint& a, const CurvePoint& b) {
    return a.energy_reduction != b.energy_reduction ? a.energy_reduction > b.energy_reduction
                                                    : a.top1 > b.top1;
  });
  std::vector<CurvePoint> front;
  for (const auto& p : points)
    if (front.empty() || p.top1 > front.back().top1) front.push_back(p);
  std::reverse(front.begin(), front.end());
  return front;
}

nlohmann::json RunReport::to_json() const {
  nlohmann::json layer_list = nlohmann::json::array();
  const double total = total_energy(layers);
  for (const auto& l : layers) {
    nlohmann::json j = layer_to_json(l);
    j["energy_share"] = total > 0 ? l.energy_fj_per_image / total : 0.0;
    layer_list.push_back(std::move(j));
  }
  nlohmann::json stages = nlohmann::json::object();
  double total_seconds = 0;
  for (const auto& [stage, seconds] : stage_seconds) {
    stages[stage] = seconds;
    total_seconds += seconds;
  }
  nlohmann::json out{{"format", "fames-run-report"},
                     {"version", 1},
                     {"model", model},
                     {"data", data},
                     {"library", library},
                     {"hessian", hessian},
                     {"mode", mode},
                     {"target", target},
                     {"energy_reduction", energy_reduction},
                     {"top1_exact", top1_exact},
                     {"top1_final", top1_final},
                     {"top1_uncalibrated", top1_uncalibrated},
                     {"top1_drop", top1_exact - top1_final},
                     {"top1_change_standard_error", top1_change_se},
                     {"holdout_top1_change_standard_error", holdout_top1_change_se},
                     {"holdout_top1_exact", holdout_top1_exact},
                     {"holdout_top1_final", holdout_top1_final},
                     {"holdout_top1_uncalibrated", holdout_top1_uncalibrated},
                     {"test_images", test_images},
                     {"holdout_images", holdout_images},
                     {"holdout_split", holdout_split},
                     {"estimate_samples", estimate_samples},
                     {"calibration_samples", calibration_samples},
                     {"layers", layer_list},
                     {"stage_seconds", stages},
                     {"total_seconds", total_seconds},
                     {"curves",
                      {{"fames", curve_to_json(fames_curve)},
                       {"ga", curve_to_json(ga_curve)},
                       {"uniform", curve_to_json(uniform_curve)}}}};
  for (const auto& [key, value] : extra.items()) out[key] = value;
  return out;
}

std::string RunReport::to_markdown() const {
  std::string md = fmt::format("# FAMES run: {}\n\n", model);
  md +=
      fmt::format("Data `{}`, library `{}`, Hessian `{}`; {} {}.\n\n", data, library, hessian, mode,
                  mode == "energy-reduction" ? fmt::format("{:.1f}%", 100 * target)
                                             : fmt::format("{:.2f} points", target));
  md += "| | exact multipliers | FAMES, uncalibrated | FAMES, calibrated |\n|---|---|---|---|\n";
  md += fmt::format("| test top-1 ({} images) | {:.2f}% | {:.2f}% | {:.2f}% |\n", test_images,
                    100 * top1_exact, 100 * top1_uncalibrated, 100 * top1_final);
  md += fmt::format("| {} top-1 ({} images) | {:.2f}% | {:.2f}% | {:.2f}% |\n",
                    holdout_split == "val" ? "validation" : "held-out training", holdout_images,
                    100 * holdout_top1_exact, 100 * holdout_top1_uncalibrated, 100 * holdout_top1_final);
  md += fmt::format(
      "\n**Multiplication energy reduction: {:.2f}%** against exact multipliers of the same "
      "bitwidths, "
      "test top-1 change {:+.2f} points (paired standard error {:.2f}; on the {} images {:+.2f}, error "
      "{:.2f}).\n\n",
      100 * energy_reduction, 100 * (top1_final - top1_exact), 100 * top1_change_se,
      holdout_split == "val" ? "validation" : "held-out training", 100 * (holdout_top1_final - holdout_top1_exact),
      100 * holdout_top1_change_se);
  md +=
      "## Layers\n\n| layer | signature | multiplications | AppMul | energy share | energy saved | "
      "predicted dL | measured dL |\n"
      "|---|---|---:|---|---:|---:|---:|---:|\n";
  const double total = total_energy(layers);
  for (const auto& l : layers) {
    const double saved = l.exact_energy_fj_per_image > 0
                             ? 1 - l.energy_fj_per_image / l.exact_energy_fj_per_image
                             : 0;
    md += fmt::format(
        "| {} | {} | {} | {} | {:.1f}% | {:.1f}% | {:.3g} | {} |\n", l.name, l.signature, l.macs,
        l.appmul, total > 0 ? 100 * l.energy_fj_per_image / total : 0.0, 100 * saved,
        l.predicted_dl, l.measured_dl ? fmt::format("{:.3g}", *l.measured_dl) : std::string("-"));
  }
  md +=
      "\nPredicted dL: the FAMES estimate; measured dL: the loss change on the estimation samples "
      "with only this layer substituted and every other layer on its exact table (bias-corrected "
      "when the estimate is, not calibrated).\n\n## Stage times\n\n| stage | seconds |\n|---|---:|\n";
  for (const auto& [stage, seconds] : stage_seconds)
    md += fmt::format("| {} | {:.1f} |\n", stage, seconds);
  md += "\n## Plots\n\n![accuracy against energy](pareto.png)\n\n![per-layer energy](layers.png)\n";
  return md;
}

void write_run_report(const RunReport& report, const std::string& dir) {
  std::filesystem::create_directories(dir);
  XYChart pareto;
  pareto.title = "Held-out top-1 against multiplication-energy reduction";
  pareto.x_label = "multiplication energy reduction (%)";
  pareto.y_label = report.holdout_split == "val" ? "validation top-1 (%)" : "held-out training top-1 (%)";
  pareto.series.push_back(
      curve_series("FAMES (uncalibrated)", report.fames_curve, SeriesStyle::kLinesPoints));
  if (!report.ga_curve.empty())
    pareto.series.push_back(curve_series("GA (NSGA-II) front", upper_front(report.ga_curve),
                                         SeriesStyle::kLinesPoints));
  if (!report.uniform_curve.empty())
    pareto.series.push_back(curve_series("best uniform single-family",
                                         upper_front(report.uniform_curve),
                                         SeriesStyle::kLinesPoints));
  pareto.series.push_back(curve_series(
      "FAMES, calibrated (chosen)", {{report.energy_reduction, report.holdout_top1_final, "final"}},
      SeriesStyle::kPoints));
  write_chart(pareto, dir + "/pareto");

  BarChart bars;
  bars.title = "Multiplication energy per layer";
  bars.y_label = "energy per image (nJ)";
  BarSeries exact{"exact", {}}, chosen{"FAMES", {}};
  for (const auto& l : report.layers) {
    bars.categories.push_back(l.name);
    exact.values.push_back(l.exact_energy_fj_per_image * 1e-6);
    chosen.values.push_back(l.energy_fj_per_image * 1e-6);
  }
  bars.series = {exact, chosen};
  write_chart(bars, dir + "/layers");
  write_file_atomic(dir + "/report.md", report.to_markdown());
  write_file_atomic(dir + "/report.json", report.to_json().dump(2) + "\n");
}

}  // namespace fames::report
