#include "appmul/synth/layer_tailoring.h"

#include <chrono>

#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace fames {
namespace {

// The terms file and comparison library the request names, directly or through its est.json.
std::pair<std::string, std::string> terms_and_library(const LayerTailoringRequest& request) {
  std::string terms = request.terms, library = request.library;
  if (!request.est.empty()) {
    const nlohmann::json est = nlohmann::json::parse(read_file(request.est), nullptr, false);
    if (est.is_discarded()) fail("--est '{}': not valid JSON", request.est);
    if (terms.empty()) {
      if (!est.contains("terms") || !est["terms"].is_string())
        fail("--est '{}' names no terms file: run fames estimate with --terms-out, or pass --terms",
             request.est);
      terms = est["terms"].get<std::string>();
    }
    if (library.empty() && est.contains("library") && est["library"].is_string())
      library = est["library"].get<std::string>();
  }
  if (terms.empty()) fail("give --est (an est.json with a terms file) or --terms");
  return {terms, library};
}

TermsLayer terms_of_layer(const std::string& terms_path, const std::string& name) {
  const TermsFile terms = TermsFile::load(terms_path);
  const TermsLayer* layer = terms.find(name);
  if (!layer) {
    std::string names;
    for (const auto& l : terms.layers) names += (names.empty() ? "" : ", ") + l.name;
    fail("--layer '{}' is not in {} (layers: {})", name, terms_path, names);
  }
  return *layer;
}

}  // namespace

LayerTailoring tailor_layer(const LayerTailoringRequest& request) {
  const auto [terms_path, library_path] = terms_and_library(request);
  LayerTailoring t;
  t.layer = terms_of_layer(terms_path, request.layer);
  t.library = library_path;
  TailorOptions options = request.options;
  const auto start = std::chrono::steady_clock::now();
  Progress progress("tailor " + t.layer.name, 0, "steps");
  options.als.als.on_step = [&](const AppMul&) {
#pragma omp critical(fames_tailor_progress)
    progress.advance(1);
  };
  t.tailored = tailor_appmuls(t.layer, options);
  progress.finish();
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Library out;
  for (const AppMul& m : t.tailored) out.add(m);
  out.save(request.out);
  for (const AppMul& m : t.tailored) t.tailored_dl.push_back(t.layer.predict(m.table));
  if (!library_path.empty()) {
    const Library lib = Library::load(library_path);
    t.rows = compare_tailored(t.layer, lib.of_signature(t.layer.signature), t.tailored);
  }
  for (const TailorRow& r : t.rows) t.better += !r.tailored.empty() && r.tailored_dl < r.dl;
  return t;
}

nlohmann::json LayerTailoring::to_json(const std::string& out) const {
  nlohmann::json jr = nlohmann::json::array();
  for (const TailorRow& r : rows)
    jr.push_back({{"candidate", r.candidate}, {"energy_fj", r.energy_fj}, {"mred", r.mred},
                  {"dl", r.dl}, {"tailored", r.tailored},
                  {"tailored_energy_fj", r.tailored_energy_fj},
                  {"tailored_mred", r.tailored_mred}, {"tailored_dl", r.tailored_dl}});
  nlohmann::json jt = nlohmann::json::array();
  for (size_t i = 0; i < tailored.size(); ++i) {
    nlohmann::json j = appmul_json(tailored[i]);
    j["dl"] = tailored_dl[i];
    jt.push_back(j);
  }
  return {{"layer", layer.name}, {"signature", layer.signature.key()},
          {"out", out}, {"seconds", seconds}, {"tailored", jt}, {"library", library},
          {"rows", jr}, {"tailored_better", better}};
}

}  // namespace fames
