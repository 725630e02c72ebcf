// A model viewed with AppMuls. measure::AssignedModel puts product tables (and output corrections)
// into a model's quantized layers for as long as it lives and, when it ends, gives every layer back
// the multiplier and output correction it had before: measuring code works on a view instead of
// applying, clearing and restoring a shared model by hand.
//
// Only multipliers and output corrections are saved and restored. Parameters and buffers that a
// caller changes through the view (calibration moves clips and BN statistics) stay changed.
// Views nest: a view made while another lives restores what that one had set; end them in the
// reverse order of construction (as scopes do). The model must outlive its views. LibTorch code
// (fames_nn). Not thread-safe.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "appmul/library/library.h"
#include "core/assignment.h"
#include "core/estimate_file.h"
#include "data/dataset.h"
#include "quant/quant_layer.h"

namespace fames::measure {

// What a view does with the output corrections the model already has.
enum class Corrections {
  kKeep,   // leave them (a calibrated checkpoint's corrections belong to its assignment)
  kClear,  // remove them all
};

// Every layer of `est` on its exact AppMul, then the layers `assignment` names on its AppMuls.
Assignment with_exact_layers(const Estimate& est, const Assignment& assignment = {});

// The product table of library AppMul `appmul` for `layer` (a copy, shared by the layers that get
// it). Throws fames::Error naming the layer or AppMul if the library lacks it or its signature does
// not fit the layer; `library_name` names the library in that message.
std::shared_ptr<const ProductTable> appmul_table(const Library& library, const std::string& appmul,
                                                 const quant::QuantLayer& layer,
                                                 const std::string& layer_name,
                                                 const std::string& library_name);

// Puts the assignment's AppMuls into `model` for good (layers it does not name keep theirs), for
// code that keeps the model with its AppMuls (calibration, whose result is saved). Measuring code
// uses AssignedModel. Throws fames::Error naming the layer or AppMul if the model has no such layer,
// the library no such AppMul, or its signature does not fit the layer.
void apply_assignment(torch::nn::Module& model, const Assignment& assignment,
                      const Library& library);

// Removes every layer's multiplier (back to the exact fake-quant path) and output correction.
void clear_multipliers(torch::nn::Module& model);

class AssignedModel {
 public:
  using NamedLayers = std::vector<std::pair<std::string, std::shared_ptr<quant::QuantLayer>>>;

  // A view that changes nothing yet: it only remembers every layer's multiplier and correction.
  explicit AssignedModel(torch::nn::Module& model);
  // The layers `assignment` names on its AppMuls from `library`, every other layer on the exact
  // fake-quant path (no table); corrections as `corrections` says. Throws as apply_assignment does
  // (the model is then as it was).
  AssignedModel(torch::nn::Module& model, const Assignment& assignment, const Library& library,
                Corrections corrections = Corrections::kKeep);
  ~AssignedModel();
  AssignedModel(const AssignedModel&) = delete;
  AssignedModel& operator=(const AssignedModel&) = delete;

  torch::nn::Module& model() const { return model_; }
  // The model's quantized layers in model order; a caller may set their multipliers and
  // corrections directly, the view restores them all.
  const NamedLayers& layers() const { return layers_; }
  // Throws fames::Error naming the layer if the model has none of that name; `who_names` says who
  // asked ("the estimate names").
  quant::QuantLayer& layer(const std::string& name, const std::string& who_names) const;

  // Every layer with a multiplier subtracts its AppMul's mean per-channel error over `images`
  // (bias_corrections in bias_correction.h: inputs taken with every layer exact, one pass).
  void correct_bias(const Dataset& images, int64_t batch_size = 128);

  // Ends the view without restoring: the model keeps what was put into it.
  void keep() { keep_ = true; }

 private:
  torch::nn::Module& model_;
  NamedLayers layers_;
  std::vector<std::shared_ptr<const ProductTable>> saved_tables_;  // [layer]
  std::vector<torch::Tensor> saved_corrections_;                   // [layer]
  bool keep_ = false;
};

}  // namespace fames::measure
