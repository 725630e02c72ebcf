// Assignment: which AppMul each layer uses (assign.json), written by `fames select` and read by the
// emulator, calibration and reports. Format: docs/formats.md, "Assignment (assign.json)".
//
// `layers` is the contract: layer name -> AppMul name in `library`. A layer of the model that is
// absent uses its exact multiplier. `summary` is informative (what selection predicted); it is
// present when selection wrote the file and optional on load.
// Units: energies in fJ per image (one inference); energy_reduction is a fraction in [0, 1)
// relative to exact multipliers of the same bitwidths; dl in loss units (nats).
// load() throws fames::Error naming the file and the missing/bad key; save() writes atomically.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace fames {

struct AssignmentLayerSummary {
  std::string appmul;
  double dl = 0;                   // predicted loss change of this layer's choice
  double energy_fj_per_image = 0;  // macs * energy per multiplication
};

struct AssignmentSummary {
  double energy_reduction = 0;           // 1 - energy_fj_per_image / exact_energy_fj_per_image
  double predicted_dl = 0;               // sum of the per-layer dl (additivity assumption)
  double energy_fj_per_image = 0;        // multiplication energy of this assignment
  double exact_energy_fj_per_image = 0;  // the same with every layer's exact AppMul
  std::map<std::string, AssignmentLayerSummary> per_layer;
  std::string solver;  // "cbc", "dp", ...
  double seconds = 0;  // solver wall time
};

struct Assignment {
  std::string library;                        // AppMul library folder
  std::map<std::string, std::string> layers;  // layer name -> AppMul name
  std::optional<AssignmentSummary> summary;

  // The AppMul of `layer`; throws fames::Error naming the layer if it is not assigned.
  const std::string& appmul_for(const std::string& layer) const;

  static Assignment load(const std::string& path);
  void save(const std::string& path) const;  // atomic

  nlohmann::json to_json() const;
  // `source` names the origin in error messages (usually the file path).
  static Assignment from_json(const nlohmann::json& j, const std::string& source);
};

}  // namespace fames
