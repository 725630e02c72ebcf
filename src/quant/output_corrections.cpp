#include "quant/output_corrections.h"

#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::quant {

void clear_output_corrections(torch::nn::Module& model) {
  for (auto& [name, layer] : quant_layers(model)) layer->set_output_correction(torch::Tensor());
}

nlohmann::json output_corrections(torch::nn::Module& model) {
  nlohmann::json out = nlohmann::json::object();
  for (auto& [name, layer] : quant_layers(model)) {
    const torch::Tensor& c = layer->output_correction();
    if (!c.defined()) continue;
    const torch::Tensor values = c.to(torch::kDouble).contiguous();
    out[name] =
        std::vector<double>(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
  }
  return out;
}

void set_output_corrections(torch::nn::Module& model, const nlohmann::json& corrections) {
  auto layers = quant_layers(model);
  for (const auto& [layer_name, values] : corrections.items()) {
    QuantLayer& layer = *find_quant_layer(layers, layer_name, "output correction names");
    const auto v = values.get<std::vector<double>>();
    if (static_cast<int64_t>(v.size()) != layer.out_channels())
      fail("output correction for layer '{}' has {} values, the layer has {} output channels",
           layer_name, v.size(), layer.out_channels());
    layer.set_output_correction(torch::tensor(v, torch::kDouble).to(torch::kFloat));
  }
}

}  // namespace fames::quant
