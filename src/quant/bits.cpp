#include "quant/bits.h"

#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::quant {

BitMap read_bits_file(const std::string& path) {
  const std::string where = fmt::format("bits file '{}'", path);
  const nlohmann::json doc = detail::parse_json_file_text(read_file(path), where);
  const nlohmann::json& layers = doc.is_object() && doc.contains("layers") ? doc["layers"] : doc;
  if (!layers.is_object()) fail("{}: expected {{\"layer\": [bw, ba] or b, ...}}", where);
  BitMap bits;
  for (const auto& [name, value] : layers.items()) {
    // Checked before the conversion to int: a float or a huge integer would not fit.
    const auto width = [&, &name = name](const nlohmann::json& v) {
      if (!v.is_number_integer() || v.get<int64_t>() < 2 || v.get<int64_t>() > 8)
        fail("{}: layer '{}': bit widths must be integers 2..8, got {}", where, name, v.dump());
      return static_cast<int>(v.get<int64_t>());
    };
    if (value.is_array() && value.size() == 2)
      bits[name] = {width(value[0]), width(value[1])};
    else if (value.is_number())
      bits[name] = {width(value), width(value)};
    else
      fail("{}: layer '{}': expected [bw, ba] or one width, got {}", where, name, value.dump());
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
