// The predicted loss change of a layer (METHOD.md §2), torch-free and written once: every holder of
// a layer's Taylor terms predicts through it (estimate/estimator.h LayerTerms while estimating,
// TermsLayer from a terms file for `fames lib tailor`, and the ALS objective built on it).
//
// With e = vec(T_M - T*) (ProductTable layout, T = table size) and S = max(1, samples):
//     dL(e) = ( g'e + 1/2 q(e) ) / S,   q(e) = e'He           kDense:     H [T, T], symmetric
//                                        q(e) = ||F e_U||^2     kFactor:    F [R, n], U = support
//                                        q(e) = ||P[:, j]||^2   kProjected: P = F E [R, m], column j
//                                                                           for projected[j]
//                                        q(e) = 0               kNone:      first-order terms only
// The support U lists the n table indices that F's columns stand for, increasing; all other entries
// of H are zero. A projected view predicts only the tables it was projected onto (by address).
// Sums run in double in a fixed order (the same input gives the same bits); F and P are float.
// A view owns nothing: its arrays must outlive it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/product_table.h"

namespace fames {

enum class TermsForm { kNone, kDense, kFactor, kProjected };

struct TermsView {
  std::string name;  // the layer, for error messages
  Signature signature;
  int64_t samples = 0;
  const double* g = nullptr;                                   // [T]; null: g = 0
  TermsForm form = TermsForm::kNone;
  const double* h = nullptr;                                   // kDense: [T * T], row-major
  int64_t rows = 0;                                            // kFactor, kProjected: R
  int64_t columns = 0;                                         // kFactor: n; kProjected: m
  const int64_t* support = nullptr;                            // kFactor: [n], increasing
  const float* factor = nullptr;                               // kFactor: F; kProjected: P; [R * columns]
  const std::vector<const ProductTable*>* projected = nullptr;  // kProjected: [m]
};

// dL of each table. Throws fames::Error naming the layer when a table's signature is not the
// view's, or (kProjected) a table is not one of `projected`.
std::vector<double> predict_loss_change(const TermsView& terms,
                                        const std::vector<const ProductTable*>& tables);
// dL of one error vector ([T], table order). Throws fames::Error on a size mismatch or for a
// projected view (it knows only its tables).
double predict_loss_change(const TermsView& terms, const std::vector<int32_t>& errors);

}  // namespace fames
