#include "quant/bits.h"

#include <nlohmann/json.hpp>

#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::quant {

BitMap read_bits_file(const std::string& path) {
  BitMap bits;
  try {
    const auto doc = nlohmann::json::parse(read_file(path));
    const auto& layers = doc.contains("layers") ? doc.at("layers") : doc;
    for (const auto& [name, value] : layers.items()) {
      if (value.is_number_integer()) {
        bits[name] = {value.get<int>(), value.get<int>()};
      } else {
        bits[name] = {value.at(0).get<int>(), value.at(1).get<int>()};
      }
    }
  } catch (const nlohmann::json::exception& e) {
    fail("bits file '{}' is not valid (expected {{\"layer\": [bw, ba], ...}}): {}", path, e.what());
  }
  return bits;
}

void apply_bits(torch::nn::Module& model, const BitMap& bits) {
  auto layers = quant_layers(model);
  for (const auto& [name, b] : bits) {
    find_quant_layer(layers, name, "bits name")->set_bits(b.first, b.second);
  }
}

void apply_bits(torch::nn::Module& model, const std::string& spec) {
  if (!spec.empty() && std::all_of(spec.begin(), spec.end(), ::isdigit)) {
    const int b = spec.size() <= 2 ? std::stoi(spec) : 0;  // longer digit strings are out of range
    if (b < 2 || b > 8) fail("--bits {} is out of range 2..8", spec);
    for (auto& [name, layer] : quant_layers(model)) layer->set_bits(b, b);
    return;
  }
  apply_bits(model, read_bits_file(spec));
}

BitMap current_bits(torch::nn::Module& model) {
  BitMap bits;
  for (auto& [name, layer] : quant_layers(model)) bits[name] = {layer->weight_bits(), layer->act_bits()};
  return bits;
}

}  // namespace fames::quant
