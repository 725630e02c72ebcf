// Layer terms: the FAMES estimator's per-layer Taylor terms (estimate/estimator.h LayerTerms) in a
// torch-free form, their file (written by `fames estimate --terms-out`, read by `fames lib tailor`)
// and the predicted loss change they define (loss_change.h, the one predictor estimate uses too),
// also as an ALS objective (als.h). Forms: kDense (H [T, T]), kFactor (F over a support), kNone
// (first-order terms only); a terms file never holds kProjected.
//
// File format (docs/appmul-library.md, "Layer terms file"), all little-endian:
//     8 bytes "FAMESTRM" | uint32 version (1) | uint64 header length L | L bytes JSON header |
//     payload: per layer, g (float64 [T]), then H (dense: float64 [T*T], row-major) or the factor
//     (support: int64 [n], then F: float32 [R*n], row-major), at the byte offsets (from the payload
//     start) that the header gives.
// load() throws fames::Error naming the file on a bad magic, version, header or truncated payload.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "appmul/synth/als.h"
#include "appmul/synth/loss_change.h"
#include "core/product_table.h"

namespace fames {

struct TermsLayer {
  using Form = TermsForm;

  std::string name;
  Signature signature;
  int64_t macs = 0;
  int64_t samples = 0;
  std::vector<double> g;  // [T]
  Form form = Form::kNone;
  std::vector<double> h;         // kDense: [T * T], row-major
  int64_t rows = 0;              // kFactor: R
  std::vector<int64_t> support;  // kFactor: [n], increasing table indices
  std::vector<float> factor;     // kFactor: [R * n], row-major

  // The terms as the predictor reads them (valid while this layer lives and is unchanged).
  TermsView view() const;
  // dL for `table` (same signature): predict_loss_change. Throws fames::Error on a signature mismatch.
  double predict(const ProductTable& table) const;
  // Throws fames::Error (naming `source`) unless sizes and the support are consistent.
  void validate(const std::string& source) const;
};

struct TermsFile {
  static constexpr uint32_t kVersion = 1;
  std::string model, hessian;
  std::vector<TermsLayer> layers;

  void save(const std::string& path) const;  // atomic
  static TermsFile load(const std::string& path);
  const TermsLayer* find(const std::string& name) const;  // nullptr if absent
};

// dL of one layer as an ALS objective. Keeps a reference to `layer`, which must outlive it. The
// estimate used to rank moves keeps the linear term exact and only the diagonal of H.
std::unique_ptr<AlsObjective> make_dl_objective(const TermsLayer& layer);

}  // namespace fames
