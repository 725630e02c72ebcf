#include "core/assignment.h"

#include "core/json_fields.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {

const std::string& Assignment::appmul_for(const std::string& layer) const {
  auto it = layers.find(layer);
  if (it == layers.end()) fail("the assignment has no AppMul for layer '{}'", layer);
  return it->second;
}

nlohmann::json Assignment::to_json() const {
  nlohmann::json j;
  j["library"] = library;
  j["layers"] = layers;
  if (summary) {
    const AssignmentSummary& s = *summary;
    j["energy_reduction"] = s.energy_reduction;
    j["predicted_dl"] = s.predicted_dl;
    j["energy_fj_per_image"] = s.energy_fj_per_image;
    j["exact_energy_fj_per_image"] = s.exact_energy_fj_per_image;
    j["per_layer"] = nlohmann::json::object();
    for (const auto& [name, l] : s.per_layer)
      j["per_layer"][name] = {
          {"appmul", l.appmul}, {"dl", l.dl}, {"energy_fj_per_image", l.energy_fj_per_image}};
    j["solver"] = s.solver;
    j["seconds"] = s.seconds;
  }
  return j;
}

Assignment Assignment::from_json(const nlohmann::json& j, const std::string& source) {
  const detail::JsonFields root(j, source, "");
  Assignment a;
  a.library = root.string("library");
  const detail::JsonFields layers = root.object("layers");
  for (const auto& [name, value] : root.raw("layers").items()) {
    if (!value.is_string())
      fail("{}: {} must be a string (an AppMul name)", source, layers.path_of(name.c_str()));
    a.layers[name] = value.get<std::string>();
  }
  // The summary is all or nothing: selection writes every field.
  if (root.has("energy_reduction")) {
    AssignmentSummary s;
    s.energy_reduction = root.number("energy_reduction");
    s.predicted_dl = root.number("predicted_dl");
    s.energy_fj_per_image = root.number("energy_fj_per_image");
    s.exact_energy_fj_per_image = root.number("exact_energy_fj_per_image");
    const detail::JsonFields per_layer = root.object("per_layer");
    for (const auto& [name, value] : root.raw("per_layer").items()) {
      const detail::JsonFields lf(value, source, per_layer.path_of(name.c_str()));
      s.per_layer[name] = {lf.string("appmul"), lf.number("dl"), lf.number("energy_fj_per_image")};
    }
    s.solver = root.string("solver");
    s.seconds = root.number("seconds");
    a.summary = std::move(s);
  }
  return a;
}

Assignment Assignment::load(const std::string& path) {
  return from_json(detail::parse_json_file_text(read_file(path), path), path);
}

void Assignment::save(const std::string& path) const {
  write_file_atomic(path, to_json().dump(2) + "\n");
}

}  // namespace fames
