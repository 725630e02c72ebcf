// The FAMES perturbation estimator (METHOD.md §2): for every quantized layer k, the terms
//     g_e = E_x[G(x)],   H_e = E_x[ sum_c w_c(x) G_c(x) G_c(x)' ]
// from one forward pass, a few backward passes and counting passes over training samples; then
// dL_k(M) ~= g_e'e + 1/2 e'H_e e for every multiplier M (e = vec(T_M - T*)), one dot product and
// one quadratic form each. H_e is kept dense when the table has at most 1024 entries, otherwise as
// the factor F (rows sqrt(w) G) with e'H_e e = ||F e||^2 / S, restricted to the table entries that
// some multiplication of the layer uses on the samples (all other entries of G are zero, so this is
// exact).
//
// Given the library up front, compute_terms projects the factor onto the error vectors of the
// layer's candidates batch by batch and keeps only F E ([R, m]): the same predictions without
// assembling F, whose 7- and 8-bit layers have up to 65,536 columns.
//
// With bias correction (docs/estimator.md), every layer output is corrected per channel by the mean
// output error over the samples, and G(x) becomes G(x) - B'U(x) (B: mean_counting, U_o(x): sum of
// u_o(x) over output positions); g_e and H_e are built from the corrected G.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "appmul/library/library.h"
#include "data/dataset.h"
#include "core/estimate_file.h"

namespace fames::estimate {

enum class Hessian {
  kGaussNewton,  // "gn": exact Gauss-Newton, all classes c weighted by p_c(x); "gnK": the K most
                 // probable classes of each sample only (a truncated sum, K backward passes)
  kMonteCarlo,   // "mc": one class per sample drawn from p(x) (unbiased GN)
  kFisher,       // "fisher": empirical Fisher, the true label only
  kNone,         // "first": first-order term only
};

// Training images an estimate draws by default (`fames estimate --samples`, `fames run`, the bench).
constexpr int64_t kDefaultEstimateSamples = 256;

struct EstimateOptions {
  Hessian hessian = Hessian::kFisher;
  int gn_classes = 0;            // kGaussNewton: classes per sample, 0 = all
  bool bias_correction = false;  // predict the loss change after per-channel bias correction
  // false: g_e = 0, dL = 1/2 e'H_e e only. On a model trained on the training split, the sampled
  // g_e'e is mostly noise, and a selection that minimizes a sum of predictions picks exactly the
  // AppMuls whose noise came out most negative (docs/estimator.md, "First-order term").
  bool first_order = true;
  // 64: the projection's matrix products run at a better shape than with 32, and the counting
  // buffers still fit the caches (measured on the 7-bit ResNet-20: 3.45 s against 3.71 s and 3.76 s
  // with 32 and 128, medians of three).
  int64_t batch_size = 64;
  uint64_t seed = 1;
  // The loss is of the logits divided by this: p and every vector below come from logits / T, and the
  // terms are those of that loss (g / T, H / T^2).
  double temperature = 1;
};

// Parses --hessian (gn, gnK with K >= 1, mc, fisher, first) into `options`. Throws fames::Error
// naming --hessian. compute_terms throws if `first_order` is off with "first": nothing would remain.
void parse_hessian(const std::string& name, EstimateOptions& options);
// The name parse_hessian accepts for these options ("gn", "gn3", "fisher", ...).
std::string hessian_name(const EstimateOptions& options);

struct LayerTerms {
  std::string name;
  Signature signature;
  int64_t macs = 0;
  torch::Tensor g;        // [T] double, sum over samples (divide by samples)
  torch::Tensor h;        // dense: [T, T] double; factor: [R, support] float rows; projected: [R, m]
                          // float, column j = F e_j for projected[j]; sums over samples
  torch::Tensor support;  // factor form: int64 table indices of h's columns; otherwise undefined
  bool h_dense = false;
  std::vector<const ProductTable*> projected;  // projected form: the tables of h's columns
  int64_t samples = 0;

  // Predicted loss change for this layer with `table` (same signature), by the one predictor
  // (appmul/synth/loss_change.h). REQUIRES: terms computed; in projected form, `table` is one of
  // `projected` (fames::Error otherwise).
  double predict(const ProductTable& table) const;
  // The same for several tables at once (a full factor is projected onto them first).
  std::vector<double> predict(const std::vector<const ProductTable*>& tables) const;
};

// Computes the terms of every quantized layer on `samples` (training images). The model is used in
// eval mode with quantization on and no multipliers. Shows a progress bar. With `project_onto`,
// layers that would keep a factor keep its projection onto the error vectors of the library's
// multipliers of their signature instead (they then predict only those; `project_onto` must
// outlive the terms); without it, the full factor (what a terms file stores for other multipliers).
std::vector<LayerTerms> compute_terms(torch::nn::Module& model, const Dataset& samples, const EstimateOptions& options,
                                      const Library* project_onto = nullptr);

// Predicts dL for every (layer, AppMul of the layer's signature) and assembles the estimate file
// contents, recording how `terms` were computed (`options`: Hessian, bias correction, first-order
// term) so that every caller writes the same provenance. Throws fames::Error if the library lacks
// an exact multiplier for a layer's signature.
Estimate assemble_estimate(const std::vector<LayerTerms>& terms, const Library& library,
                           const EstimateOptions& options);

}  // namespace fames::estimate
