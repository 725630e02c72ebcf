// The FAMES perturbation estimator (METHOD.md §2): for every quantized layer k, the terms
//     g_e = E_x[G(x)],   H_e = E_x[ sum_c w_c(x) G_c(x) G_c(x)' ]
// from one forward pass, a few backward passes and counting passes over training samples; then
// dL_k(M) ~= g_e'e + 1/2 e'H_e e for every multiplier M (e = vec(T_M - T*)), one dot product and
// one quadratic form each. H_e is kept dense when the table has at most 1024 entries, otherwise as
// the factor F (rows sqrt(w) G) with e'H_e e = ||F e||^2 / S.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "appmul/library.h"
#include "data/dataset.h"
#include "select/estimate_file.h"

namespace fames::estimate {

enum class Hessian {
  kGaussNewton,  // "gn": exact Gauss-Newton, all classes c weighted by p_c(x)
  kMonteCarlo,   // "mc": one class per sample drawn from p(x) (unbiased GN)
  kFisher,       // "fisher": empirical Fisher, the true label only
  kNone,         // "first": first-order term only
};
Hessian parse_hessian(const std::string& name);  // throws fames::Error naming --hessian
const char* hessian_name(Hessian h);

struct EstimateOptions {
  Hessian hessian = Hessian::kFisher;
  int64_t batch_size = 32;
  uint64_t seed = 1;
};

struct LayerTerms {
  std::string name;
  Signature signature;
  int64_t macs = 0;
  torch::Tensor g;       // [T] double, sum over samples (divide by samples)
  torch::Tensor h;       // [T, T] double (dense form) or [R, T] float factor rows; sums over samples
  bool h_dense = false;
  int64_t samples = 0;

  // Predicted loss change for this layer with `table` (same signature). REQUIRES: terms computed.
  double predict(const ProductTable& table) const;
};

// Computes the terms of every quantized layer on `samples` (training images). The model is used in
// eval mode with quantization on. Shows a progress bar.
std::vector<LayerTerms> compute_terms(torch::nn::Module& model, const Dataset& samples, const EstimateOptions& options);

// Predicts dL for every (layer, AppMul of the layer's signature) and assembles the estimate file
// contents. Throws fames::Error if the library lacks an exact multiplier for a layer's signature.
Estimate assemble_estimate(const std::vector<LayerTerms>& terms, const Library& library);

}  // namespace fames::estimate
