// Measured fitness of per-layer AppMul choices: top-1 accuracy by bit-exact emulation on held-out
// TRAINING images, and multiplication energy from the estimate's candidates. This one evaluator
// serves the GA baseline, the measured Pareto sweep and the FAMES-vs-GA benchmark, so every
// configuration is judged by the same emulator on the same images.
//
// A choice vector has one entry per estimate layer: an index into that layer's `candidates`.
// Every layer gets its candidate's product table, the exact one included (as `fames eval --assign`
// does with a selected assignment). The evaluator is a view of the model (assigned_model.h): while
// it lives the model carries the last configuration it applied; when it ends every layer's
// multiplier and output correction are as before. LibTorch code (fames_nn). Not thread-safe.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "appmul/library/library.h"
#include "core/assignment.h"
#include "core/estimate_file.h"
#include "data/dataset.h"
#include "measure/assigned_model.h"
#include "models/batches.h"
#include "quant/quant_layer.h"

namespace fames::measure {

// The candidate set without predictions: every library AppMul fitting each quantized layer of
// `model`, with dl = 0 and the library's energy (what the GA needs when no est.json is given).
// Layer macs come from one forward pass over the first images of `sample`.
// Throws fames::Error if the library lacks an exact multiplier for a layer's signature.
Estimate candidates_from_library(torch::nn::Module& model, const Library& library,
                                 const Dataset& sample, const std::string& library_dir);

class EmulatedEvaluator {
 public:
  // REQUIRES: `model` outlives the evaluator; its quantized layers are named as in `estimate`.
  // Throws fames::Error naming the layer or AppMul if the model or library does not match.
  EmulatedEvaluator(torch::nn::Module& model, Estimate estimate, const Library& library,
                    const Dataset& holdout, int64_t batch_size = 256);

  // From now on every non-exact choice also subtracts its per-channel mean AppMul error
  // (measure/bias_correction.h), computed from the tap histograms of each layer's input over
  // `images` (TRAINING images, not the holdout) with every layer exact: one pass now, then one
  // small product per (layer, candidate) on first use. This is the correction the estimator's
  // --bias-correction mode predicts for.
  void enable_bias_correction(const Dataset& images);
  bool bias_correction() const { return !histograms_.empty(); }

  // Sets layer k to candidates[choice[k]] (and its correction, when enabled).
  void apply(const std::vector<int>& choice);
  // Holdout top-1 (0..1) with apply(choice). Leaves those multipliers set (until the next apply or
  // the evaluator's end).
  double top1(const std::vector<int>& choice);
  // Multiplication energy per image (fJ) of `choice`, from the estimate.
  double energy_fj(const std::vector<int>& choice) const;
  double exact_energy_fj() const { return estimate_.exact_energy_fj_per_image(); }
  // 1 - energy_fj / exact_energy_fj() (0 when the exact energy is 0).
  double energy_reduction(double energy_fj) const;

  std::vector<int> choice_counts() const;  // candidates per layer
  std::vector<int> exact_choice() const;   // every layer on its exact AppMul
  // The choice an assignment makes (layers it does not name: exact). Throws for unknown AppMuls.
  std::vector<int> choice_of(const Assignment& assignment) const;

  const Estimate& estimate() const { return estimate_; }
  int64_t holdout_size() const { return holdout_size_; }
  int64_t evaluations() const { return evaluations_; }
  double eval_seconds() const { return eval_seconds_; }  // total time spent in top1()

 private:
  AssignedModel view_;  // restores the model's multipliers and corrections at the end
  Estimate estimate_;
  std::vector<std::shared_ptr<quant::QuantLayer>> layers_;  // in estimate order
  std::vector<std::vector<std::shared_ptr<const ProductTable>>> tables_;  // [layer][candidate]
  std::vector<int> exact_index_;                            // [layer]
  std::vector<torch::Tensor> histograms_;                   // [layer]; empty: no correction
  std::vector<std::vector<torch::Tensor>> corrections_;     // [layer][candidate], made on first use
  std::vector<models::Batch> batches_;
  int64_t holdout_size_ = 0, evaluations_ = 0;
  double eval_seconds_ = 0;
};

}  // namespace fames::measure
