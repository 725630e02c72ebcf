#include "measure/operand_counts.h"

#include "measure/bias_correction.h"
#include "measure/counting.h"
#include "quant/quant_layer.h"

namespace fames::measure {

OperandHistograms model_operand_histograms(torch::nn::Module& model, const Dataset& images,
                                           int64_t batch_size) {
  const auto hist = input_histograms(model, images, {}, batch_size);
  OperandHistograms out;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& [name, layer] : quant::quant_layers(model)) {
    const torch::Tensor counts = pair_counts(*layer, hist.at(name)).contiguous();
    const double* c = counts.data_ptr<double>();
    out.add_counts(layer->signature(), std::vector<double>(c, c + counts.numel()));
    layers.push_back({{"name", name},
                      {"signature", layer->signature().key()},
                      {"multiplications", counts.sum().item<double>()}});
  }
  out.source["layers"] = layers;
  return out;
}

}  // namespace fames::measure
