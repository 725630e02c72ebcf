// Estimate: the output of `fames estimate` (est.json) and the input of selection. Per layer: its
// signature, multiplications per inference (one image) and, for every AppMul of the library that
// fits the signature (the exact one included), the predicted loss change dL and the energy per
// multiplication. Format: docs/formats.md, "Estimate (est.json)".
//
// Units: energy_fj in femtojoules per multiplication; macs per image; dL in loss units (mean
// cross-entropy, nats). Energy of a layer with AppMul m = macs * energy_fj(m).
// load() validates everything selection relies on and throws fames::Error naming the file and the
// key path (e.g. "est.json: layers[2].candidates[0]: missing key \"dl\""). save() writes
// atomically.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/signature.h"

namespace fames {

struct EstimateCandidate {
  std::string appmul;    // AppMul name, a key of Estimate::appmuls
  double dl = 0;         // predicted loss change if only this layer uses `appmul` (exact: 0)
  double energy_fj = 0;  // energy per multiplication, fJ, >= 0
};

struct EstimateLayer {
  std::string name;     // stable layer name, e.g. "layer1.0.conv1"
  Signature signature;  // operand widths and signedness; every candidate has this signature
  int64_t macs = 0;     // multiplications per image, >= 0
  std::string exact;    // name of the exact AppMul of this signature (one of the candidates)
  std::vector<EstimateCandidate> candidates;  // non-empty, unique names

  const EstimateCandidate& exact_candidate() const;                // REQUIRES: validated layer
  const EstimateCandidate* find(const std::string& appmul) const;  // nullptr if absent
  double energy_fj_per_image(const EstimateCandidate& c) const {
    return static_cast<double>(macs) * c.energy_fj;
  }
};

struct EstimateAppMul {
  Signature signature;
  double energy_fj = 0;  // energy per multiplication, fJ
  double mred = 0;       // mean relative error distance, 0..1 (informative)
};

struct Estimate {
  static constexpr int kVersion = 1;

  std::string model;    // path of the model the estimate was made for
  std::string library;  // AppMul library folder
  int64_t samples = 0;  // calibration samples used
  // Where the samples came from: the dataset spec (empty: not recorded, the model's own) and the
  // seed that drew them from its training split, so that `fames validate` can redraw them.
  std::string data;
  uint64_t seed = 1;
  std::string hessian;  // curvature approximation ("gn", "mc", "fisher", "none", ...)
  // The predictions are of the loss change after per-channel bias correction (estimate
  // --bias-correction); whoever measures configurations for them corrects them too.
  bool bias_correction = false;
  // The predictions include the first-order term g_e'e (false: curvature term only).
  bool first_order = true;
  // The predictions are of the loss of the logits divided by this (estimate --temperature).
  double temperature = 1;
  std::vector<EstimateLayer> layers;
  std::map<std::string, EstimateAppMul> appmuls;

  // Reads and validates `path`. Throws fames::Error naming the file (and key) on any problem.
  static Estimate load(const std::string& path);
  // Validates, then writes `path` atomically.
  void save(const std::string& path) const;

  nlohmann::json to_json() const;
  // `source` names the origin in error messages (usually the file path).
  static Estimate from_json(const nlohmann::json& j, const std::string& source);
  // Checks the invariants documented above; throws fames::Error mentioning `source`.
  void validate(const std::string& source) const;

  const EstimateLayer* find_layer(const std::string& name) const;  // nullptr if absent
  // Multiplication energy per image when every layer uses its exact AppMul, fJ.
  double exact_energy_fj_per_image() const;
};

}  // namespace fames
