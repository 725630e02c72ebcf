// fames lib build: generates, characterises and saves a library of exact and approximate
// multipliers for every signature bw x ba over a range of bit widths: exact circuits, the classic
// families (library_build.h) and, unless --no-als, approximate logic synthesis (als_library.h).
// With --histogram, ALS measures its error of every signature the file covers under that operand
// histogram (operand_histogram.h), the others' uniformly. A second build with the same settings
// (histogram content included, and the same fames executable) restores the result from the cache
// (library_cache.h) instead.

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>
#include <set>

#include "appmul/synth/als_library.h"
#include "appmul/synth/library_build.h"
#include "appmul/library/library_cache.h"
#include "models/checkpoint.h"
#include "util/files.h"
#include "cli/command.h"
#include "cli/common.h"
#include "util/error.h"
#include "util/progress.h"

namespace fames::cli {
namespace {

struct LibBuildArgs {
  std::string bits = "2..8", out, liberty, histogram;
  std::vector<std::string> models;
  bool no_als = false, signed_a = false, json = false, no_cache = false;
  int per_signature = 30, pairs = 4096;
  double max_mred = 0.30;
  std::string metric = "mred";
  double max_error = 0.2;
  int als_per_signature = 24, seed_steps = 30;
  uint64_t seed = 1;
};

// "2..8", "4", "2,4,8" -> sorted widths in 1..8.
std::vector<int> parse_bits(const std::string& text) {
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

// The layer signatures of a model: from its card (M.json, or the card beside M.pt), else from the
// checkpoint itself.
std::vector<Signature> model_signatures(const std::string& path) {
  std::string card = path;
  if (card.size() < 5 || card.compare(card.size() - 5, 5, ".json") != 0) {
    const size_t dot = card.rfind('.');
    card = (dot == std::string::npos ? card : card.substr(0, dot)) + ".json";
  }
  nlohmann::json layers;
  if (file_exists(card)) {
    const nlohmann::json j = nlohmann::json::parse(read_file(card), nullptr, false);
    if (j.is_discarded() || !j.contains("layers") || !j["layers"].is_array())
      fail("--model '{}': the card {} has no \"layers\" list", path, card);
    layers = j["layers"];
  } else {
    auto loaded = models::load_model(path);
    layers = models::layer_table(*loaded.module);
  }
  std::vector<Signature> sigs;
  for (const auto& l : layers) {
    Signature sig{l.at("bw").get<int>(), l.at("ba").get<int>(), true, l.value("signed_a", false)};
    if (!sig.valid()) fail("--model '{}': layer with invalid widths {}x{}", path, sig.bw, sig.ba);
    if (std::find(sigs.begin(), sigs.end(), sig) == sigs.end()) sigs.push_back(sig);
  }
  return sigs;
}

// Zoo cards in ./models (files with a "layers" list), for the default build order.
std::vector<std::string> zoo_cards() {
  std::vector<std::string> cards;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator("models", ec)) {
    const std::string p = f.path().string();
    if (f.path().extension() != ".json" || p.find(".bits.") != std::string::npos) continue;
    const nlohmann::json j = nlohmann::json::parse(read_file(p), nullptr, false);
    if (!j.is_discarded() && j.contains("layers") && j["layers"].is_array()) cards.push_back(p);
  }
  std::sort(cards.begin(), cards.end());
  return cards;
}

void report(const LibBuildArgs& args, size_t appmuls, size_t signatures,
            std::chrono::steady_clock::time_point start, const std::string& how) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.json) {
    print_json({{"out", args.out},
                {"signatures", signatures},
                {"appmuls", appmuls},
                {"seconds", seconds},
                {"how", how}});
  } else {
    fmt::print("{} AppMuls for {} signatures written to {} in {:.1f} s ({})\n", appmuls,
               signatures, args.out, seconds, how);
  }
}

void run_lib_build(const LibBuildArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int> widths = parse_bits(args.bits);
  std::vector<Signature> sigs;
  for (int bw : widths)
    for (int ba : widths) {
      sigs.push_back(Signature{bw, ba, true, false});
      // Signed activations for 8x8 always (layers whose inputs are not post-ReLU), else on request.
      if (args.signed_a || (bw == 8 && ba == 8)) sigs.push_back(Signature{bw, ba, true, true});
    }
  // The signatures the models use come first and are added if missing (e.g. a first conv's signed
  // activations), so that the library serves them: --model's, else the zoo's.
  std::vector<Signature> first;
  for (const std::string& m : args.models.empty() ? zoo_cards() : args.models)
    for (const Signature& sig : model_signatures(m)) {
      if (std::find(first.begin(), first.end(), sig) == first.end()) first.push_back(sig);
      if (std::find(sigs.begin(), sigs.end(), sig) == sigs.end()) sigs.push_back(sig);
    }
  std::stable_partition(sigs.begin(), sigs.end(), [&](const Signature& s) {
    return std::find(first.begin(), first.end(), s) != first.end();
  });
  std::stable_sort(sigs.begin(), sigs.begin() + first.size(), [&](const Signature& a, const Signature& b) {
    return std::find(first.begin(), first.end(), a) < std::find(first.begin(), first.end(), b);
  });

  OperandHistograms histograms;
  if (!args.histogram.empty() && !args.no_als) histograms = OperandHistograms::load(args.histogram);
  // Cache key: everything that decides the contents (the order does not).
  std::vector<std::string> keys;
  nlohmann::json weights_used = nlohmann::json::object();
  for (const Signature& s : sigs) {
    keys.push_back(s.key());
    if (const std::vector<double>* w = histograms.find(s)) weights_used[s.key()] = *w;
  }
  std::sort(keys.begin(), keys.end());
  nlohmann::json settings = {
      {"signatures", keys},          {"als", !args.no_als},
      {"per_signature", args.per_signature}, {"max_mred", args.max_mred},
      {"pairs", args.pairs},         {"seed", args.seed},
      {"metric", args.metric},       {"max_error", args.max_error},
      {"als_per_signature", args.als_per_signature}, {"seed_steps", args.seed_steps},
      {"liberty", args.liberty.empty() ? std::string() : read_file(args.liberty)}};
  // Only when given, so that uniform builds keep their cache keys.
  if (!weights_used.empty()) settings["histogram"] = weights_used;
  if (!histograms.empty()) {
    std::vector<std::string> weighted;
    for (const auto& entry : weights_used.items()) weighted.push_back(entry.key());
    fmt::print(stderr, "--histogram {}: ALS of {} of {} signatures under its pair frequencies ({})\n",
               args.histogram, weighted.size(), sigs.size(), fmt::join(weighted, ", "));
  }
  const std::string cache_key = library_cache_key(settings.dump());
  if (!args.no_cache && restore_cached_library(cache_key, args.out)) {
    const Library lib = Library::load(args.out);
    report(args, lib.size(), sigs.size(), start, "cache " + cache_key);
    return;
  }
  FamilyBuildOptions options;
  options.max_mred = args.max_mred;
  options.max_per_signature = args.per_signature;
  options.cost.pairs = args.pairs;
  options.cost.seed = args.seed;
  if (!args.liberty.empty()) options.cells = read_liberty(args.liberty);

  Progress progress("lib build", static_cast<int64_t>(sigs.size()), "signatures");
  Library lib =
      build_family_library(sigs, options, [&](const Signature& sig, size_t members) {
        progress.advance(1, fmt::format("{} ({} AppMuls)", sig.key(), members));
      });
  progress.finish();
  if (!args.no_als) {
    AlsLibraryOptions als;
    als.als.metric = parse_als_metric(args.metric);
    als.als.max_error = args.max_error;
    als.als.seed = args.seed;
    als.als.cells = options.cells;
    als.als.cost = options.cost;
    als.max_per_signature = args.als_per_signature;
    als.seed_steps = args.seed_steps;
    als.priority_count = static_cast<int>(first.size());
    als.histograms = std::move(histograms);
    Progress als_progress("als", static_cast<int64_t>(sigs.size()), "signatures");
    add_als_members(lib, sigs, als, [&](const Signature& sig, size_t added) {
      als_progress.advance(1, fmt::format("{} (+{} ALS)", sig.key(), added));
    });
    als_progress.finish();
  }
  lib.save(args.out);
  const bool cached = !args.no_cache && store_cached_library(cache_key, args.out);
  report(args, lib.size(), sigs.size(), start, cached ? "built, cached as " + cache_key : "built");
}

void setup_lib_build(CLI::App& root) {
  auto args = std::make_shared<LibBuildArgs>();
  CLI::App& group =
      command_group(root, "lib", "Build, inspect, import and export AppMul libraries");
  auto* cmd =
      group.add_subcommand("build", "Generate and characterise exact and approximate multipliers");
  cmd->footer(
      "Example: fames lib build --bits 2..8 --out libs/default   (add --no-als to skip ALS)\n"
      "         fames lib build --bits 2..8 --model models/lenet5-fmnist-mp.pt --out libs/lenet");
  cmd->add_flag("--no-als", args->no_als, "Skip approximate logic synthesis (exact and family multipliers only)");
  cmd->add_option("--metric", args->metric, "ALS error metric: mred, nmed, er, wce or mse")->capture_default_str();
  cmd->add_option("--max-error", args->max_error,
                  "ALS bound on --metric (uniform operands, or under --histogram where it has the signature)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--histogram", args->histogram,
                  "Operand histogram file (fames lib histogram): ALS of the signatures it covers measures "
                  "its error under their pair frequencies; the others stay uniform");
  cmd->add_option("--als-per-signature", args->als_per_signature,
                  "At most this many ALS results per signature (Pareto front; members that dominate a "
                  "family member first, then evenly spread)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--seed-steps", args->seed_steps,
                  "Steps of the ALS runs seeded from each truncation, broken-array and perforation "
                  "member (0: ALS from the exact multiplier only)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--bits", args->bits,
                  "Operand widths: a range (2..8) or a list (2,4,8); every bw x ba pair")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Library folder to write (index.json, .tbl, .blif)")
      ->required();
  cmd->add_flag("--signed-a", args->signed_a,
                "Add signed-activation variants of every signature (default: only of 8x8)");
  cmd->add_option("--max-mred", args->max_mred, "Drop approximate members whose MRED exceeds this")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--per-signature", args->per_signature, "At most this many AppMuls per signature")
      ->capture_default_str()
      ->check(in_range(2, 1000));
  cmd->add_option("--liberty", args->liberty,
                  "Liberty file for cell figures (default: built-in NanGate 45 nm)");
  cmd->add_option("--pairs", args->pairs, "Operand pairs simulated for the energy estimate")
      ->capture_default_str()
      ->check(in_range(2, 1 << 24));
  cmd->add_option("--seed", args->seed, "Seed of the energy-estimate operand stream")
      ->capture_default_str();
  cmd->add_option("--model", args->models,
                  "Model (checkpoint or card) whose layer signatures go first and are added if "
                  "missing; repeatable (default: the zoo cards in ./models)");
  cmd->add_flag("--no-cache", args->no_cache,
                "Neither read nor write the library cache ($XDG_CACHE_HOME or ~/.cache/fames/lib)");
  cmd->add_flag("--json", args->json, "Print a JSON summary");
  cmd->callback([args] { run_lib_build(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("lib build", fames::cli::setup_lib_build);
