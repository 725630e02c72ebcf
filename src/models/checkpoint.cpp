#include "models/checkpoint.h"

#include <algorithm>
#include <map>

#include "models/checkpoint_meta.h"
#include "models/onnx/graph_model.h"

#include "quant/output_corrections.h"
#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::models {
namespace {
constexpr const char* kMetaKey = "fames_meta";
}  // namespace

void save_model(const std::string& path, torch::nn::Module& model, const ModelSpec& spec, nlohmann::json meta) {
  meta["format"] = kCheckpointFormat;
  meta["format_version"] = kCheckpointFormatVersion;
  meta["arch"] = spec.arch;
  meta["num_classes"] = spec.num_classes;
  meta["in_channels"] = spec.in_channels;
  meta["image_size"] = spec.image_size;
  meta["width"] = spec.width;
  bool quantized = true;
  nlohmann::json asymmetric = nlohmann::json::array();
  for (auto& [name, layer] : quant::quant_layers(model)) {
    quantized = quantized && layer->quantized();
    if (layer->asymmetric_weights()) asymmetric.push_back(name);
  }
  meta["quantized"] = quantized;
  // Which layers hold zero points: the loader must register their buffers before reading.
  if (asymmetric.empty()) meta.erase("asymmetric_weights");
  else meta["asymmetric_weights"] = asymmetric;
  // An imported graph travels in the record; its tensors are buffers and layers of the archive.
  if (auto* graph = dynamic_cast<onnx::GraphModel*>(&model)) meta["graph"] = graph->graph().to_json();
  else meta.erase("graph");
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

namespace {

struct TensorShape {
  std::vector<int64_t> sizes;
  torch::ScalarType dtype;
};

// Every parameter and buffer of `model` by name, with its shape and type.
std::map<std::string, TensorShape> tensor_shapes(torch::nn::Module& model) {
  std::map<std::string, TensorShape> shapes;
  for (const auto& item : model.named_parameters())
    shapes[item.key()] = {item.value().sizes().vec(), item.value().scalar_type()};
  for (const auto& item : model.named_buffers())
    shapes[item.key()] = {item.value().sizes().vec(), item.value().scalar_type()};
  return shapes;
}

// LibTorch's load replaces each tensor with the archive's (set_), whatever its shape: compare
// every tensor with the freshly built network, and check that its storage holds all its elements.
void check_tensors(torch::nn::Module& model, const std::map<std::string, TensorShape>& built,
                   const std::string& path, const std::string& arch) {
  const auto loaded = tensor_shapes(model);
  for (const auto& [name, want] : built) {
    const TensorShape& got = loaded.at(name);
    if (got.sizes != want.sizes || got.dtype != want.dtype)
      fail("model '{}': tensor {} is {} [{}], but {} needs {} [{}]", path, name,
           c10::toString(got.dtype), fmt::join(got.sizes, ", "), arch, c10::toString(want.dtype),
           fmt::join(want.sizes, ", "));
  }
  const auto check_storage = [&](const std::string& name, const torch::Tensor& t) {
    if (t.numel() == 0) return;
    int64_t last = t.storage_offset();
    for (int64_t d = 0; d < t.dim(); ++d) last += (t.size(d) - 1) * t.stride(d);
    const int64_t needed = (last + 1) * static_cast<int64_t>(t.element_size());
    if (t.storage_offset() < 0 || static_cast<int64_t>(t.storage().nbytes()) < needed)
      fail("model '{}': the storage of tensor {} holds {} bytes, its shape needs {}", path, name,
           t.storage().nbytes(), needed);
  };
  for (const auto& item : model.named_parameters()) check_storage(item.key(), item.value());
  for (const auto& item : model.named_buffers()) check_storage(item.key(), item.value());
}

// Bit widths of every quantized layer within 2..8.
void check_bits(torch::nn::Module& model, const std::string& path) {
  for (auto& [name, layer] : quant::quant_layers(model)) {
    const int bw = layer->weight_bits(), ba = layer->act_bits();
    if (bw < 2 || bw > 8 || ba < 2 || ba > 8)
      fail("model '{}': layer {} has {}-bit weights and {}-bit activations; both must be 2..8",
           path, name, bw, ba);
  }
}

// The layers the record names as asymmetric get their zero-point buffers (before the archive is read).
void set_asymmetric_layers(torch::nn::Module& model, const std::vector<std::string>& names, const std::string& path) {
  const auto layers = quant::quant_layers(model);
  for (const std::string& name : names)
    quant::find_quant_layer(layers, name, fmt::format("model '{}': \"asymmetric_weights\" names", path))
        ->set_asymmetric_weights();
}

// Every zero point is a code of its layer's unsigned weights: 0..2^bw-1.
void check_zero_points(torch::nn::Module& model, const std::string& path) {
  for (auto& [name, layer] : quant::quant_layers(model)) {
    if (!layer->asymmetric_weights()) continue;
    const int top = (1 << layer->weight_bits()) - 1;
    const torch::Tensor bad = (layer->weight_zero < 0).logical_or(layer->weight_zero > top).nonzero();
    if (bad.numel() > 0) {
      const int64_t channel = bad[0][0].item<int64_t>();
      fail("model '{}': layer {} has weight zero point {} in output channel {}, outside 0..{} of its "
           "{}-bit unsigned weights",
           path, name, layer->weight_zero[channel].item<int>(), channel, top, layer->weight_bits());
    }
  }
}

}  // namespace

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
  CheckpointMeta meta = parse_checkpoint_meta(meta_value.toStringRef(), path);
  LoadedModel loaded;
  loaded.spec.arch = meta.arch;
  loaded.spec.num_classes = meta.num_classes;
  loaded.spec.in_channels = meta.in_channels;
  loaded.spec.image_size = meta.image_size;
  loaded.spec.width = meta.width;
  loaded.classes = std::move(meta.classes);
  loaded.meta = std::move(meta.record);
  if (!expected_arch.empty() && expected_arch != loaded.spec.arch)
    fail("model '{}' is a {} checkpoint, not {}", path, loaded.spec.arch, expected_arch);
  if (loaded.spec.arch == onnx::kArch) {
    if (!loaded.meta.contains("graph")) fail("model '{}' is an imported ONNX model without its graph record", path);
    loaded.module = std::make_shared<onnx::GraphModel>(onnx::Graph::from_json(loaded.meta["graph"], "model '" + path + "'"),
                                                      "model '" + path + "'");
  } else {
    loaded.module = build_model(loaded.spec);
  }
  set_asymmetric_layers(*loaded.module, meta.asymmetric_layers, path);
  const auto built = tensor_shapes(*loaded.module);
  try {
    loaded.module->load(archive);
  } catch (const c10::Error& e) {
    fail("model '{}' does not match architecture {}: {}", path, loaded.spec.arch,
         std::string(e.what_without_backtrace()).substr(0, 200));
  }
  check_tensors(*loaded.module, built, path, loaded.spec.arch);
  check_bits(*loaded.module, path);
  check_zero_points(*loaded.module, path);
  for (auto& [name, layer] : quant::quant_layers(*loaded.module)) layer->set_quantized(meta.quantized);
  try {
    if (loaded.meta.contains("output_corrections"))
      quant::set_output_corrections(*loaded.module, loaded.meta["output_corrections"]);
  } catch (const nlohmann::json::exception& e) {
    fail("model '{}' has corrupt output corrections: {}", path, e.what());
  } catch (const c10::Error& e) {
    fail("model '{}' has corrupt output corrections: {}", path,
         std::string(e.what_without_backtrace()).substr(0, 200));
  } catch (const Error& e) {
    fail("model '{}': {}", path, e.what());
  }
  return loaded;
}

void check_dataset_fits(const Dataset& data, const LoadedModel& model, const std::string& data_flag) {
  const ModelSpec& spec = model.spec;
  if (data.channels != spec.in_channels || data.height != spec.image_size ||
      data.width != spec.image_size)
    fail("{} {} has {}x{}x{} images but the model takes {}x{}x{}", data_flag, data.name,
         data.channels, data.height, data.width, spec.in_channels, spec.image_size,
         spec.image_size);
  const auto have = static_cast<int64_t>(data.classes.size());
  if (have != model.spec.num_classes)
    fail("{} {} has {} classes but the model has {}; pass --classes-by-name to match them by name",
         data_flag, data.name, have, model.spec.num_classes);
}

void match_dataset_classes(Dataset& data, const LoadedModel& model, const std::string& data_flag,
                           bool by_name) {
  if (!by_name || static_cast<int64_t>(data.classes.size()) == model.spec.num_classes)
    return check_dataset_fits(data, model, data_flag);
  std::vector<std::string> names = model.classes;
  if (names.empty() && model.meta.contains("dataset") && model.meta["dataset"].is_string())
    names = load_dataset(model.meta["dataset"].get<std::string>(), Split::kTest).classes;
  if (static_cast<int64_t>(names.size()) != model.spec.num_classes)
    fail("--classes-by-name: the model records no names for its {} classes", model.spec.num_classes);
  std::vector<int32_t> label_of(data.classes.size());
  for (size_t c = 0; c < data.classes.size(); ++c) {
    const auto it = std::find(names.begin(), names.end(), data.classes[c]);
    if (it == names.end())
      fail("{} {}: class '{}' is not one of the model's classes ({})", data_flag, data.name,
           data.classes[c], fmt::join(names, ", "));
    label_of[c] = static_cast<int32_t>(it - names.begin());
  }
  for (int32_t& label : data.labels) label = label_of[label];
  data.classes = std::move(names);
  check_dataset_fits(data, model, data_flag);
}

nlohmann::json layer_table(torch::nn::Module& model) {
  nlohmann::json layers = nlohmann::json::array();
  for (auto& [name, layer] : quant::quant_layers(model)) {
    layers.push_back({{"name", name},
                      {"bw", layer->weight_bits()},
                      {"ba", layer->act_bits()},
                      {"signed_w", !layer->asymmetric_weights()},
                      {"signature", layer->signature().key()},
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
