#include "appmul/synth/family_comparison.h"

#include <chrono>
#include <sstream>

#include "appmul/synth/generators.h"
#include "util/error.h"

namespace fames {
namespace {

constexpr Family kRivalFamilies[] = {Family::kTrunc,       Family::kTruncCorrected, Family::kBrokenArray,
                                     Family::kPerforation, Family::kLowerOr,        Family::kApproxFullAdder,
                                     Family::kDrum,        Family::kMitchell};

std::vector<AppMul> als_members(const FamilyComparisonOptions& options) {
  if (options.library.empty()) return build_als_members({options.signature}, options.als).front();
  std::vector<AppMul> als;
  const Library lib = Library::load(options.library);
  for (const AppMul* m : lib.of_signature(options.signature))
    if (m->source.rfind("als:", 0) == 0) als.push_back(*m);
  if (als.empty()) fail("--lib '{}' has no ALS members of {}", options.library, options.signature.key());
  return als;
}

}  // namespace

std::set<std::string> parse_family_names(const std::string& text) {
  std::set<std::string> names;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    bool known = false;
    for (Family f : kRivalFamilies) {
      if (item == "all") names.insert(family_name(f));
      known = known || item == family_name(f);
    }
    if (item == "all") continue;
    if (!known)
      fail("--families '{}': unknown family '{}' (trunc, truncc, bam, perf, loa, afa, drum, "
           "mitchell or all)",
           text, item);
    names.insert(item);
  }
  if (names.empty()) fail("--families is empty");
  return names;
}

FamilyComparison compare_with_families(const FamilyComparisonOptions& options) {
  const Signature& sig = options.signature;
  FamilyComparison c;
  c.signature = sig;
  c.metric = als_metric_name(options.als.als.metric);
  c.library = options.library;
  c.histogram = options.histogram;
  const std::vector<double>* weights = nullptr;
  if (!options.histogram.empty()) {
    weights = options.als.histograms.find(sig);
    if (!weights) fail("--histogram {} has no entry for {}", options.histogram, sig.key());
  }
  const auto start = std::chrono::steady_clock::now();
  c.als = als_members(options);
  c.als_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const AlsOptions& als = options.als.als;
  c.exact = characterize(generate_multiplier(sig, {Family::kExactDadda}), "exact:dadda", als.cells, als.cost);
  std::vector<AppMul> rivals;
  for (const GeneratorSpec& spec : default_family_specs(sig))
    if (options.families.count(family_name(spec.family)))
      rivals.push_back(characterize(generate_multiplier(sig, spec), generator_source(spec), als.cells, als.cost));
  c.weighted = weights != nullptr;
  if (weights)  // every comparison below is then under the histogram
    for (std::vector<AppMul>* members : {&c.als, &rivals})
      for (AppMul& m : *members) m.metrics = error_metrics(m.table, *weights);
  c.front = pareto_front(c.als, als.metric);
  c.report = check_dominance(c.front, rivals, als.metric, options.min_error, options.max_error);
  return c;
}

nlohmann::json FamilyComparison::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const DominanceRow& r : report.rows)
    rows.push_back({{"rival", r.rival},
                    {"rival_source", r.rival_source},
                    {"rival_error", r.rival_error},
                    {"rival_energy_fj", r.rival_energy_fj},
                    {"best", r.best},
                    {"best_error", r.best_error},
                    {"best_energy_fj", r.best_energy_fj},
                    {"dominated", r.dominated}});
  nlohmann::json members = nlohmann::json::array();
  for (const AppMul& m : front) members.push_back(appmul_json(m));
  return {{"signature", signature.key()},
          {"metric", metric},
          {"histogram", histogram},
          {"exact_energy_fj", exact.energy_fj},
          {"als_members", als.size()},
          {"als_seconds", als_seconds},
          {"rows", rows},
          {"front", members},
          {"dominated", report.dominated_count()},
          {"all_dominated", report.all_dominated()}};
}

}  // namespace fames
