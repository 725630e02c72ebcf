// The report of one end-to-end FAMES run (`fames run`): report.json for scripts, report.md for
// people, and two charts (report/plot.h): accuracy against multiplication-energy reduction for
// FAMES, the GA and uniform single-family substitution (pareto.png/.svg), and the per-layer energy
// before and after (layers.png/.svg). Torch-free: it only formats what the run measured.
//
// Units: energy_reduction is a fraction (0..1) of the multiplication energy with every layer on its
// exact AppMul of the same bitwidths; top-1 values are fractions; dl in nats; seconds wall-clock.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace fames::report {

struct RunLayer {
  std::string name, signature, appmul;
  int64_t macs = 0;
  double energy_fj_per_image = 0, exact_energy_fj_per_image = 0;
  double predicted_dl = 0;
  std::optional<double> measured_dl;  // this layer alone substituted, uncalibrated
};

// A measured configuration: energy reduction and held-out (validation) top-1.
struct CurvePoint {
  double energy_reduction = 0, top1 = 0;
  std::string label;
};

struct RunReport {
  std::string model, data, library, hessian,
      mode;           // mode: "energy-reduction" or "max-accuracy-loss"
  double target = 0;  // R, or P in percentage points
  double energy_reduction = 0;
  double top1_exact = 0, top1_final = 0, top1_uncalibrated = 0;  // test split
  double holdout_top1_exact = 0, holdout_top1_final = 0,
         holdout_top1_uncalibrated = 0;  // the held-out images every choice was judged on
  // Paired standard errors of the top-1 changes exact -> final on those images (fractions).
  double top1_change_se = 0, holdout_top1_change_se = 0;
  std::string holdout_split = "val";  // where they come from: "val" (validation split) or "train"
  int64_t test_images = 0, holdout_images = 0, estimate_samples = 0, calibration_samples = 0;
  std::vector<RunLayer> layers;
  std::vector<std::pair<std::string, double>> stage_seconds;  // in stage order
  std::vector<CurvePoint> fames_curve, ga_curve, uniform_curve;
  nlohmann::json extra = nlohmann::json::object();  // copied into report.json as is

  nlohmann::json to_json() const;
  std::string to_markdown() const;
};

// A layer row and a curve as report.json holds them (a row without its "energy_share", which needs
// every row), and back: the report parts of `fames run` store them so. The readers throw
// nlohmann::json::exception on a missing or mistyped key.
nlohmann::json layer_to_json(const RunLayer& layer);
RunLayer layer_from_json(const nlohmann::json& j);
nlohmann::json curve_to_json(const std::vector<CurvePoint>& curve);
std::vector<CurvePoint> curve_from_json(const nlohmann::json& j);

// Writes DIR/report.json, report.md, pareto.{png,svg} and layers.{png,svg} (each file atomically).
// Throws fames::Error naming the file or gnuplot's failure.
void write_run_report(const RunReport& report, const std::string& dir);

// The points of `points` not dominated in (higher energy_reduction, higher top1), by energy.
std::vector<CurvePoint> upper_front(std::vector<CurvePoint> points);

}  // namespace fames::report
