#include "measure/bias_correction.h"

#include <algorithm>

#include "dist/process_group.h"
#include "measure/counting.h"
#include "models/batches.h"
#include "models/zoo.h"
#include "util/error.h"
#include "util/progress.h"

namespace fames::measure {

std::map<std::string, torch::Tensor> input_histograms(torch::nn::Module& model, const Dataset& images,
                                                      const std::vector<std::string>& layers, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  std::vector<std::pair<std::string, std::shared_ptr<quant::QuantLayer>>> chosen;
  for (auto& entry : quant::quant_layers(model))
    if (layers.empty() || std::find(layers.begin(), layers.end(), entry.first) != layers.end()) chosen.push_back(entry);
  for (const auto& name : layers)
    if (std::none_of(chosen.begin(), chosen.end(), [&](const auto& c) { return c.first == name; }))
      fail("bias correction: the model has no quantized layer '{}'", name);
  std::map<std::string, torch::Tensor> hist;
  for (auto& [name, layer] : chosen) layer->set_capture(true);
  model.eval();
  const dist::Range mine = dist::shard(images.size(), batch_size);  // data-parallel: whole batches
  Progress bar("input statistics", mine.size(), "img");
  for (int64_t begin = mine.begin; begin < mine.end; begin += batch_size) {
    const int64_t count = std::min(batch_size, mine.end - begin);
    models::run_model(model, models::make_batch(images, begin, count).images);
    for (auto& [name, layer] : chosen) {
      const torch::Tensor h = tap_histogram(*layer, layer->captured_input);
      auto it = hist.find(name);
      if (it == hist.end()) {
        hist.emplace(name, h);
      } else {
        it->second += h;
      }
    }
    bar.advance(count);
  }
  bar.finish();
  for (auto& [name, layer] : chosen) {
    layer->set_capture(false);
    if (dist::active()) dist::sum_partial(hist[name]);  // counts: exact in any order
  }
  return hist;
}

torch::Tensor output_correction(const quant::QuantLayer& layer, const torch::Tensor& hist, const ProductTable& table) {
  if (table.signature() != layer.signature())
    fail("bias correction: table {} does not fit layer signature {}", table.signature().key(), layer.signature().key());
  const std::vector<int32_t> errors = table.errors();
  const torch::Tensor e = torch::tensor(std::vector<double>(errors.begin(), errors.end()), torch::kDouble);
  return torch::mv(mean_counting(layer, hist), e).to(torch::kFloat);
}

std::vector<std::pair<std::string, torch::Tensor>> bias_corrections(torch::nn::Module& model, const Dataset& images,
                                                                    int64_t batch_size) {
  std::vector<std::string> names;
  std::vector<std::shared_ptr<const ProductTable>> tables;
  auto layers = quant::quant_layers(model);
  for (auto& [name, layer] : layers) {
    layer->set_output_correction(torch::Tensor());
    tables.push_back(layer->multiplier());
    if (layer->multiplier()) names.push_back(name);
  }
  std::vector<std::pair<std::string, torch::Tensor>> out;
  if (names.empty()) return out;
  for (auto& [name, layer] : layers) layer->set_multiplier(nullptr);
  const auto hist = input_histograms(model, images, names, batch_size);
  for (size_t i = 0; i < layers.size(); ++i) layers[i].second->set_multiplier(tables[i]);
  for (auto& [name, layer] : layers)
    if (layer->multiplier()) out.emplace_back(name, output_correction(*layer, hist.at(name), *layer->multiplier()));
  return out;
}

void set_bias_corrections(torch::nn::Module& model, const Dataset& images, int64_t batch_size) {
  const auto layers = quant::quant_layers(model);
  for (auto& [name, correction] : bias_corrections(model, images, batch_size))
    quant::find_quant_layer(layers, name, "bias correction names")->set_output_correction(correction);
}

}  // namespace fames::measure
