#include "models/onnx/export_folder.h"

#include <unistd.h>

#include <filesystem>

#include "appmul/io/verilog.h"
#include "appmul/library/library.h"
#include "models/onnx/qdq_export.h"
#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::models::onnx {
namespace {

namespace fs = std::filesystem;

// One manifest entry per quantized layer; writes each chosen AppMul's Verilog once into `dir`.
nlohmann::json manifest_layers(torch::nn::Module& model, const ExportRequest& request, const std::string& dir) {
  const Assignment& assignment = *request.assignment;
  const Library library = Library::load(request.library, true);
  const auto layers = quant::quant_layers(model);
  for (const auto& [name, appmul] : assignment.layers) quant::find_quant_layer(layers, name, "--assign names");
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& [name, layer] : layers) {
    nlohmann::json e = {{"layer", name}, {"signature", layer->signature().key()}, {"bw", layer->weight_bits()},
                        {"ba", layer->act_bits()}, {"signed_a", layer->signed_input()}, {"macs", layer->macs_per_image()},
                        {"appmul", nullptr}, {"verilog", nullptr}, {"energy_fj_per_image", nullptr}};
    const auto it = assignment.layers.find(name);
    if (it != assignment.layers.end()) {
      const AppMul* m = library.find(it->second);
      if (!m) fail("--assign: layer '{}' uses AppMul '{}', which library '{}' does not have", name, it->second, request.library);
      if (m->signature() != layer->signature())
        fail("--assign: AppMul '{}' is {} but layer '{}' is {}", m->name, m->signature().key(), name, layer->signature().key());
      nlohmann::json metrics = appmul_json(*m);
      for (const char* key : {"name", "bw", "ba", "signed_w", "signed_a", "source"}) metrics.erase(key);
      e.update(metrics);
      e["appmul"] = m->name;
      e["energy_fj_per_image"] = m->energy_fj * static_cast<double>(layer->macs_per_image());
      if (m->netlist) {
        e["verilog"] = "verilog/" + m->name + ".v";
        if (!file_exists(dir + "/" + e["verilog"].get<std::string>()))
          write_verilog_file(*m->netlist, dir + "/" + e["verilog"].get<std::string>(), m->name);
      }
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

nlohmann::json write_manifest(torch::nn::Module& model, const ExportRequest& request, const std::string& dir) {
  nlohmann::json layers = manifest_layers(model, request, dir);
  double energy = 0;
  for (const auto& e : layers)
    if (!e["energy_fj_per_image"].is_null()) energy += e["energy_fj_per_image"].get<double>();
  nlohmann::json manifest = {{"format", "fames-export"}, {"model", request.model_path}, {"onnx", "model.onnx"},
                             {"library", request.library}, {"layers", layers}, {"energy_fj_per_image", energy}};
  write_file_atomic(dir + "/manifest.json", manifest.dump(2) + "\n");
  return manifest;
}

// Moves the finished folder `temp` to `out`, replacing a previous export there.
void commit_folder(const std::string& temp, const std::string& out) {
  std::error_code ec;
  if (fs::exists(out, ec)) {
    if (!fs::exists(fs::path(out) / "model.onnx", ec))
      fail("--out '{}' exists and is not a folder `fames export` wrote (no model.onnx); not replacing it", out);
    const std::string old = temp + ".old";
    fs::rename(out, old, ec);
    if (ec) fail("--out '{}' could not be replaced: {}", out, ec.message());
    fs::rename(temp, out, ec);
    fs::remove_all(old);
  } else {
    fs::rename(temp, out, ec);
  }
  if (ec) fail("--out '{}' could not be written: {}", out, ec.message());
}

}  // namespace

nlohmann::json write_export_folder(torch::nn::Module& model, const ModelSpec& spec, const ExportRequest& request) {
  const fs::path out = fs::path(request.out).lexically_normal();
  const std::string temp = (out.has_filename() ? out : out.parent_path()).string() + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(temp, ec);
  fs::create_directories(temp, ec);
  if (ec) fail("--out '{}': cannot create '{}': {}", request.out, temp, ec.message());
  try {
    {
      torch::NoGradGuard no_grad;  // one forward pass so that every layer knows its multiplications
      model.eval();
      run_model(model, torch::zeros({1, spec.in_channels, spec.image_size, spec.image_size}));
    }
    write_qdq_onnx(model, spec, temp + "/model.onnx");
    nlohmann::json manifest = request.assignment ? write_manifest(model, request, temp) : nlohmann::json::object();
    commit_folder(temp, request.out);
    return manifest;
  } catch (...) {
    fs::remove_all(temp, ec);
    throw;
  }
}

}  // namespace fames::models::onnx
