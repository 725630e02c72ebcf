#include "core/estimate_file.h"

#include <cmath>
#include <set>

#include "core/json_fields.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {

const EstimateCandidate* EstimateLayer::find(const std::string& appmul) const {
  for (const EstimateCandidate& c : candidates)
    if (c.appmul == appmul) return &c;
  return nullptr;
}

const EstimateCandidate& EstimateLayer::exact_candidate() const {
  const EstimateCandidate* c = find(exact);
  if (!c) fail("layer {}: its exact AppMul '{}' is not among its candidates", name, exact);
  return *c;
}

const EstimateLayer* Estimate::find_layer(const std::string& name) const {
  for (const EstimateLayer& layer : layers)
    if (layer.name == name) return &layer;
  return nullptr;
}

double Estimate::exact_energy_fj_per_image() const {
  double total = 0;
  for (const EstimateLayer& layer : layers)
    total += layer.energy_fj_per_image(layer.exact_candidate());
  return total;
}

void Estimate::validate(const std::string& source) const {
  std::set<std::string> names;
  for (size_t k = 0; k < layers.size(); ++k) {
    const EstimateLayer& layer = layers[k];
    const std::string where = fmt::format("{}: layers[{}] ({})", source, k, layer.name);
    if (layer.name.empty()) fail("{}: layers[{}] has an empty name", source, k);
    if (!names.insert(layer.name).second) fail("{}: layer name is not unique", where);
    if (layer.macs < 0) fail("{}: macs is negative", where);
    if (layer.candidates.empty()) fail("{}: has no candidates", where);
    if (!layer.find(layer.exact))
      fail("{}: exact AppMul '{}' is not among the candidates", where, layer.exact);
    std::set<std::string> seen;
    for (const EstimateCandidate& c : layer.candidates) {
      if (!seen.insert(c.appmul).second)
        fail("{}: candidate '{}' is listed twice", where, c.appmul);
      if (!std::isfinite(c.dl)) fail("{}: candidate '{}' has a non-finite dl", where, c.appmul);
      if (!(c.energy_fj >= 0) || !std::isfinite(c.energy_fj))
        fail("{}: candidate '{}' has energy_fj {}; it must be finite and >= 0", where, c.appmul,
             c.energy_fj);
      auto it = appmuls.find(c.appmul);
      if (it == appmuls.end())
        fail("{}: candidate '{}' is missing from \"appmuls\"", where, c.appmul);
      if (it->second.signature != layer.signature)
        fail("{}: candidate '{}' has signature {}, the layer has {}", where, c.appmul,
             it->second.signature.key(), layer.signature.key());
    }
  }
}

nlohmann::json Estimate::to_json() const {
  nlohmann::json j;
  j["version"] = kVersion;
  j["model"] = model;
  j["library"] = library;
  j["samples"] = samples;
  if (!data.empty()) j["data"] = data;
  j["seed"] = seed;
  j["hessian"] = hessian;
  j["bias_correction"] = bias_correction;
  j["first_order"] = first_order;
  if (temperature != 1) j["temperature"] = temperature;
  j["layers"] = nlohmann::json::array();
  for (const EstimateLayer& layer : layers) {
    nlohmann::json candidates = nlohmann::json::array();
    for (const EstimateCandidate& c : layer.candidates)
      candidates.push_back({{"appmul", c.appmul}, {"dl", c.dl}, {"energy_fj", c.energy_fj}});
    j["layers"].push_back({{"name", layer.name},
                           {"signature", layer.signature.key()},
                           {"macs", layer.macs},
                           {"exact", layer.exact},
                           {"candidates", std::move(candidates)}});
  }
  j["appmuls"] = nlohmann::json::object();
  for (const auto& [name, a] : appmuls)
    j["appmuls"][name] = {
        {"signature", a.signature.key()}, {"energy_fj", a.energy_fj}, {"mred", a.mred}};
  return j;
}

namespace {
Signature parse_signature(const detail::JsonFields& f) {
  const std::string text = f.string("signature");
  try {
    return Signature::parse(text);
  } catch (const Error& e) {
    f.fail_here(e.what());
  }
}
}  // namespace

Estimate Estimate::from_json(const nlohmann::json& j, const std::string& source) {
  const detail::JsonFields root(j, source, "");
  const int64_t version = root.integer("version");
  if (version != kVersion)
    root.fail_here(fmt::format("version {} is not supported (expected {})", version, kVersion));
  Estimate e;
  e.model = root.string("model");
  e.library = root.string("library");
  e.samples = root.integer("samples");
  e.hessian = root.string("hessian");
  if (j.contains("data")) e.data = root.string("data");
  if (j.contains("seed")) {
    const int64_t seed = root.integer("seed");
    if (seed < 0) root.fail_here("'seed' must be an integer >= 0");
    e.seed = static_cast<uint64_t>(seed);
  }
  // Optional (files written before it existed are plain estimates).
  if (j.contains("bias_correction")) {
    if (!j["bias_correction"].is_boolean()) root.fail_here("'bias_correction' must be true or false");
    e.bias_correction = j["bias_correction"].get<bool>();
  }
  if (j.contains("first_order")) {
    if (!j["first_order"].is_boolean()) root.fail_here("'first_order' must be true or false");
    e.first_order = j["first_order"].get<bool>();
  }
  if (j.contains("temperature")) {
    e.temperature = root.number("temperature");
    if (!(e.temperature > 0) || !std::isfinite(e.temperature)) root.fail_here("'temperature' must be a number > 0");
  }
  const nlohmann::json& layers = root.array("layers");
  for (size_t k = 0; k < layers.size(); ++k) {
    const detail::JsonFields lf = root.element("layers", k);
    EstimateLayer layer;
    layer.name = lf.string("name");
    layer.signature = parse_signature(lf);
    layer.macs = lf.integer("macs");
    layer.exact = lf.string("exact");
    const nlohmann::json& candidates = lf.array("candidates");
    for (size_t i = 0; i < candidates.size(); ++i) {
      const detail::JsonFields cf = lf.element("candidates", i);
      layer.candidates.push_back({cf.string("appmul"), cf.number("dl"), cf.number("energy_fj")});
    }
    e.layers.push_back(std::move(layer));
  }
  const detail::JsonFields appmuls = root.object("appmuls");
  for (const auto& [name, value] : root.raw("appmuls").items()) {
    const detail::JsonFields af(value, source, appmuls.path_of(name.c_str()));
    e.appmuls[name] = {parse_signature(af), af.number("energy_fj"), af.number("mred")};
  }
  e.validate(source);
  return e;
}

Estimate Estimate::load(const std::string& path) {
  return from_json(detail::parse_json_file_text(read_file(path), path), path);
}

void Estimate::save(const std::string& path) const {
  validate(path);
  write_file_atomic(path, to_json().dump(2) + "\n");
}

}  // namespace fames
