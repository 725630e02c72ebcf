// Layer terms: the FAMES estimator's per-layer Taylor terms (estimate/estimator.h LayerTerms) in a
// torch-free form, their file (written by `fames estimate --terms-out`, read by `fames lib tailor`)
// and the predicted loss change they define, as an ALS objective (als.h).
//
// With e = vec(T_M - T*) (ProductTable layout, T = table size) and S = samples:
//     dL(e) = ( g'e + 1/2 q(e) ) / S,   q(e) = e'He      (dense H, [T, T])
//                                        q(e) = ||F e_U||^2 (factor F, [R, |U|], U = support)
//                                        q(e) = 0          (first-order terms, no H)
// exactly as LayerTerms::predict computes it. The support U lists the table indices that F's
// columns stand for, increasing; all other entries of H are zero.
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
#include "core/product_table.h"

namespace fames {

struct TermsLayer {
  enum class Form { kNone, kDense, kFactor };

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

  // dL for `table` (same signature). Throws fames::Error on a signature mismatch.
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
