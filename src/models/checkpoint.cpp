#include "models/checkpoint.h"

#include "quant/multipliers.h"
#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::models {
namespace {
constexpr const char* kMetaKey = "fames_meta";
constexpr int kFormatVersion = 1;
}  // namespace

void save_model(const std::string& path, torch::nn::Module& model, const ModelSpec& spec, nlohmann::json meta) {
  meta["format"] = "fames-model";
  meta["format_version"] = kFormatVersion;
  meta["arch"] = spec.arch;
  meta["num_classes"] = spec.num_classes;
  meta["in_channels"] = spec.in_channels;
  meta["image_size"] = spec.image_size;
  meta["width"] = spec.width;
  bool quantized = true;
  for (auto& [name, layer] : quant::quant_layers(model)) quantized = quantized && layer->quantized();
  meta["quantized"] = quantized;
  // Bias corrections live in the layers, not in the archive; they pair with an assignment.
  const nlohmann::json corrections = quant::output_corrections(model);
  if (corrections.empty()) meta.erase("output_corrections");
  else meta["output_corrections"] = corrections;
  torch::serialize::OutputArchive archive;
  model.save(archive);
  archive.write(kMetaKey, c10::IValue(meta.dump()));
  const std::string temp = temp_path_for(path);
  try {
    archive.save_to(temp);
  } catch (const c10::Error& e) {
    std::remove(temp.c_str());
    fail("cannot write model '{}': {}", path, e.what_without_backtrace());
  }
  commit_temp_file(temp, path);
}

LoadedModel load_model(const std::string& path, const std::string& expected_arch) {
  if (!file_exists(path)) fail("model '{}' does not exist", path);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error&) {
    fail("model '{}' is not a readable fames checkpoint (corrupt or another format)", path);
  }
  c10::IValue meta_value;
  if (!archive.try_read(kMetaKey, meta_value) || !meta_value.isString())
    fail("model '{}' has no fames metadata: not a fames checkpoint", path);
  LoadedModel loaded;
  try {
    loaded.meta = nlohmann::json::parse(meta_value.toStringRef());
    loaded.spec.arch = loaded.meta.at("arch").get<std::string>();
    loaded.spec.num_classes = loaded.meta.at("num_classes").get<int64_t>();
    loaded.spec.in_channels = loaded.meta.at("in_channels").get<int64_t>();
    loaded.spec.image_size = loaded.meta.at("image_size").get<int64_t>();
    loaded.spec.width = loaded.meta.at("width").get<double>();
  } catch (const nlohmann::json::exception& e) {
    fail("model '{}' has corrupt metadata: {}", path, e.what());
  }
  if (!expected_arch.empty() && expected_arch != loaded.spec.arch)
    fail("model '{}' is a {} checkpoint, not {}", path, loaded.spec.arch, expected_arch);
  loaded.module = build_model(loaded.spec);
  try {
    loaded.module->load(archive);
  } catch (const c10::Error& e) {
    fail("model '{}' does not match architecture {}: {}", path, loaded.spec.arch,
         std::string(e.what_without_backtrace()).substr(0, 200));
  }
  const bool quantized = loaded.meta.value("quantized", true);
  for (auto& [name, layer] : quant::quant_layers(*loaded.module)) layer->set_quantized(quantized);
  try {
    if (loaded.meta.contains("output_corrections"))
      quant::set_output_corrections(*loaded.module, loaded.meta["output_corrections"]);
  } catch (const nlohmann::json::exception& e) {
    fail("model '{}' has corrupt output corrections: {}", path, e.what());
  } catch (const Error& e) {
    fail("model '{}': {}", path, e.what());
  }
  return loaded;
}

nlohmann::json layer_table(torch::nn::Module& model) {
  nlohmann::json layers = nlohmann::json::array();
  for (auto& [name, layer] : quant::quant_layers(model)) {
    layers.push_back({{"name", name},
                      {"bw", layer->weight_bits()},
                      {"ba", layer->act_bits()},
                      {"signed_a", layer->signed_input()},
                      {"macs", layer->macs_per_image()}});
  }
  return layers;
}

double weighted_average_bits(torch::nn::Module& model) {
  double weighted = 0, total = 0;
  for (auto& [name, layer] : quant::quant_layers(model)) {
    const double macs = static_cast<double>(layer->macs_per_image());
    weighted += macs * 0.5 * (layer->weight_bits() + layer->act_bits());
    total += macs;
  }
  return total > 0 ? weighted / total : 0.0;
}

}  // namespace fames::models
