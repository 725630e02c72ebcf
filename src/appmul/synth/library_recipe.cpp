#include "appmul/synth/library_recipe.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "appmul/library/library_cache.h"
#include "appmul/synth/als_library.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace fames {
namespace {

// Bumped whenever what ALS does for the same settings changes (seeds, runs, thinning), so that the
// cache key changes even where the executable's hash cannot be read. 2: seeds from every family
// (guarded, compensated), runs that scan every gate before stopping, front in error, |bias|, MSE.
// 3: where no strict member dominates a guard-breaking rival, runs from the unguarded rivals that
// keep their own zero-product error.
constexpr int kAlsRecipeVersion = 3;

// Everything that decides the library's contents (the signature order does not), as the cache key
// is made from it. Only a histogram that weights some signature is included, so that uniform
// builds keep their keys.
nlohmann::json cache_settings(const LibraryRecipe& recipe, const std::vector<Signature>& sigs,
                              const OperandHistograms& histograms) {
  std::vector<std::string> keys;
  nlohmann::json weights_used = nlohmann::json::object();
  for (const Signature& s : sigs) {
    keys.push_back(s.key());
    if (const std::vector<double>* w = histograms.find(s)) weights_used[s.key()] = *w;
  }
  std::sort(keys.begin(), keys.end());
  nlohmann::json settings = {
      {"signatures", keys},          {"als", recipe.als},
      {"per_signature", recipe.families.max_per_signature}, {"max_mred", recipe.families.max_mred},
      {"pairs", recipe.families.cost.pairs},         {"seed", recipe.families.cost.seed},
      {"metric", recipe.metric},       {"max_error", recipe.max_error},
      {"als_per_signature", recipe.als_per_signature}, {"seed_steps", recipe.seed_steps},
      {"als_recipe", kAlsRecipeVersion},
      {"liberty", recipe.liberty.empty() ? std::string() : read_file(recipe.liberty)}};
  if (!weights_used.empty()) settings["histogram"] = weights_used;
  if (!histograms.empty()) {
    std::vector<std::string> weighted;
    for (const auto& entry : weights_used.items()) weighted.push_back(entry.key());
    fmt::print(stderr, "--histogram {}: ALS of {} of {} signatures under its pair frequencies ({})\n",
               recipe.histogram, weighted.size(), sigs.size(), fmt::join(weighted, ", "));
  }
  return settings;
}

Library build_fresh(const LibraryRecipe& recipe, const std::vector<Signature>& sigs, size_t model_count,
                    OperandHistograms histograms) {
  FamilyBuildOptions options = recipe.families;
  if (!recipe.liberty.empty()) options.cells = read_liberty(recipe.liberty);
  Progress progress("lib build", static_cast<int64_t>(sigs.size()), "signatures");
  Library lib = build_family_library(sigs, options, [&](const Signature& sig, size_t members) {
    progress.advance(1, fmt::format("{} ({} AppMuls)", sig.key(), members));
  });
  progress.finish();
  if (!recipe.als) return lib;
  AlsLibraryOptions als;
  als.als.metric = parse_als_metric(recipe.metric);
  als.als.max_error = recipe.max_error;
  als.als.seed = options.cost.seed;
  als.als.cells = options.cells;
  als.als.cost = options.cost;
  als.max_per_signature = recipe.als_per_signature;
  als.seed_steps = recipe.seed_steps;
  als.priority_count = static_cast<int>(model_count);
  als.histograms = std::move(histograms);
  Progress als_progress("als", static_cast<int64_t>(sigs.size()), "signatures");
  add_als_members(lib, sigs, als, [&](const Signature& sig, size_t added) {
    als_progress.advance(1, fmt::format("{} (+{} ALS)", sig.key(), added));
  });
  als_progress.finish();
  return lib;
}

}  // namespace

std::vector<Signature> recipe_signatures(const LibraryRecipe& recipe, size_t* model_count) {
  std::vector<Signature> sigs;
  for (int bw : recipe.widths)
    for (int ba : recipe.widths) {
      sigs.push_back(Signature{bw, ba, true, false});
      if (recipe.signed_a || (bw == 8 && ba == 8)) sigs.push_back(Signature{bw, ba, true, true});
    }
  std::vector<Signature> first;
  for (const Signature& sig : recipe.model_signatures) {
    if (std::find(first.begin(), first.end(), sig) == first.end()) first.push_back(sig);
    if (std::find(sigs.begin(), sigs.end(), sig) == sigs.end()) sigs.push_back(sig);
  }
  std::stable_partition(sigs.begin(), sigs.end(), [&](const Signature& s) {
    return std::find(first.begin(), first.end(), s) != first.end();
  });
  std::stable_sort(sigs.begin(), sigs.begin() + first.size(), [&](const Signature& a, const Signature& b) {
    return std::find(first.begin(), first.end(), a) < std::find(first.begin(), first.end(), b);
  });
  if (model_count) *model_count = first.size();
  return sigs;
}

LibraryBuildReport build_library(const LibraryRecipe& recipe, const std::string& out) {
  const auto start = std::chrono::steady_clock::now();
  size_t model_count = 0;
  const std::vector<Signature> sigs = recipe_signatures(recipe, &model_count);
  OperandHistograms histograms;
  if (!recipe.histogram.empty() && recipe.als) histograms = OperandHistograms::load(recipe.histogram);
  const std::string cache_key = library_cache_key(cache_settings(recipe, sigs, histograms).dump());
  LibraryBuildReport report;
  report.signatures = sigs.size();
  if (recipe.use_cache && restore_cached_library(cache_key, out)) {
    report.appmuls = Library::load(out).size();
    report.how = "cache " + cache_key;
  } else {
    const Library lib = build_fresh(recipe, sigs, model_count, std::move(histograms));
    lib.save(out);
    report.appmuls = lib.size();
    const bool cached = recipe.use_cache && store_cached_library(cache_key, out);
    report.how = cached ? "built, cached as " + cache_key : "built";
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

std::vector<int> parse_bit_widths(const std::string& text) {
  std::set<int> widths;
  std::smatch m;
  static const std::regex range(R"(\s*([1-8])\s*\.\.\s*([1-8])\s*)");
  if (std::regex_match(text, m, range)) {
    for (int b = std::stoi(m[1]); b <= std::stoi(m[2]); ++b) widths.insert(b);
  } else {
    static const std::regex item(R"(\s*([1-8])\s*)");
    size_t start = 0;
    while (start <= text.size()) {
      const size_t comma = text.find(',', start);
      const std::string part =
          text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!std::regex_match(part, m, item))
        widths.clear(), start = text.size() + 1;
      else
        widths.insert(std::stoi(m[1]));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (widths.empty())
    fail("--bits '{}': expected a range like 2..8 or a list like 2,4,8 (widths 1..8)", text);
  return {widths.begin(), widths.end()};
}

}  // namespace fames
