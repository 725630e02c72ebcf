#include "measure/assigned_model.h"

#include "measure/bias_correction.h"
#include "util/error.h"

namespace fames::measure {

Assignment with_exact_layers(const Estimate& est, const Assignment& assignment) {
  Assignment out = assignment;
  for (const EstimateLayer& layer : est.layers) out.layers.emplace(layer.name, layer.exact);
  return out;
}

std::shared_ptr<const ProductTable> appmul_table(const Library& library, const std::string& appmul,
                                                 const quant::QuantLayer& layer,
                                                 const std::string& layer_name,
                                                 const std::string& library_name) {
  const AppMul* m = library.find(appmul);
  if (!m)
    fail("assignment uses AppMul '{}', which library '{}' does not have", appmul, library_name);
  if (m->signature() != layer.signature())
    fail("AppMul '{}' is {} but layer '{}' is {}", appmul, m->signature().key(), layer_name,
         layer.signature().key());
  return std::make_shared<const ProductTable>(m->table);
}

void apply_assignment(torch::nn::Module& model, const Assignment& assignment,
                      const Library& library) {
  auto layers = quant::quant_layers(model);
  for (const auto& [layer_name, appmul_name] : assignment.layers) {
    quant::QuantLayer& layer = *quant::find_quant_layer(layers, layer_name, "assignment names");
    layer.set_multiplier(appmul_table(library, appmul_name, layer, layer_name, assignment.library));
  }
}

void clear_multipliers(torch::nn::Module& model) {
  for (auto& [name, layer] : quant::quant_layers(model)) {
    layer->set_multiplier(nullptr);
    layer->set_output_correction(torch::Tensor());
  }
}

AssignedModel::AssignedModel(torch::nn::Module& model)
    : model_(model), layers_(quant::quant_layers(model)) {
  for (const auto& [name, layer] : layers_) {
    saved_tables_.push_back(layer->multiplier());
    saved_corrections_.push_back(layer->output_correction());
  }
}

AssignedModel::AssignedModel(torch::nn::Module& model, const Assignment& assignment,
                             const Library& library, Corrections corrections)
    : AssignedModel(model) {
  // The delegated constructor has finished, so if this throws the destructor restores the layers.
  for (const auto& [name, layer] : layers_) {
    layer->set_multiplier(nullptr);
    if (corrections == Corrections::kClear) layer->set_output_correction(torch::Tensor());
  }
  apply_assignment(model_, assignment, library);
}

AssignedModel::~AssignedModel() {
  if (keep_) return;
  for (size_t i = 0; i < layers_.size(); ++i) {
    quant::QuantLayer& layer = *layers_[i].second;
    layer.set_multiplier(saved_tables_[i]);
    // Setting a correction drops the layer's cached emulation state: only when it changed.
    if (!saved_corrections_[i].is_same(layer.output_correction()))
      layer.set_output_correction(saved_corrections_[i]);
  }
}

quant::QuantLayer& AssignedModel::layer(const std::string& name, const std::string& who_names) const {
  return *quant::find_quant_layer(layers_, name, who_names);
}

void AssignedModel::correct_bias(const Dataset& images, int64_t batch_size) {
  set_bias_corrections(model_, images, batch_size);
}

}  // namespace fames::measure
