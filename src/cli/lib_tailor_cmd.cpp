// fames lib tailor: ALS multipliers tailored to one layer (appmul/synth/tailor.h). The layer's Taylor
// terms come from a terms file (`fames estimate --terms-out FILE`), named directly (--terms) or
// through the est.json that recorded it (--est). Writes the tailored front as a library folder and
// prints, for every member of the comparison library with the layer's signature, the tailored
// member of no more energy with the lowest predicted loss change.

#include <fmt/core.h>

#include <chrono>
#include <limits>

#include "appmul/synth/tailor.h"
#include "cli/command.h"
#include "cli/common.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace fames::cli {
namespace {

struct LibTailorArgs {
  std::string est, terms, layer, lib, out, metric = "mred";
  double max_error = 0.2, max_dl = std::numeric_limits<double>::infinity();
  int count = 24, seed_steps = 30, pairs = 4096;
  uint64_t seed = 1;
  bool json = false;
};

void run_lib_tailor(const LibTailorArgs& args) {
  std::string terms_path = args.terms, lib_path = args.lib;
  if (!args.est.empty()) {
    const nlohmann::json est = nlohmann::json::parse(read_file(args.est), nullptr, false);
    if (est.is_discarded()) fail("--est '{}': not valid JSON", args.est);
    if (terms_path.empty()) {
      if (!est.contains("terms") || !est["terms"].is_string())
        fail("--est '{}' names no terms file: run fames estimate with --terms-out, or pass --terms",
             args.est);
      terms_path = est["terms"].get<std::string>();
    }
    if (lib_path.empty() && est.contains("library") && est["library"].is_string())
      lib_path = est["library"].get<std::string>();
  }
  if (terms_path.empty()) fail("give --est (an est.json with a terms file) or --terms");
  const TermsFile terms = TermsFile::load(terms_path);
  const TermsLayer* layer = terms.find(args.layer);
  if (!layer) {
    std::string names;
    for (const auto& l : terms.layers) names += (names.empty() ? "" : ", ") + l.name;
    fail("--layer '{}' is not in {} (layers: {})", args.layer, terms_path, names);
  }
  TailorOptions options;
  options.als.als.metric = parse_als_metric(args.metric);
  options.als.als.max_error = args.max_error;
  options.als.als.seed = args.seed;
  options.als.als.cost.pairs = args.pairs;
  options.als.als.cost.seed = args.seed;
  options.als.max_per_signature = args.count;
  options.als.seed_steps = args.seed_steps;
  options.max_dl = args.max_dl;

  const auto start = std::chrono::steady_clock::now();
  Progress progress("tailor " + layer->name, 0, "steps");
  options.als.als.on_step = [&](const AppMul&) {
#pragma omp critical(fames_tailor_progress)
    progress.advance(1);
  };
  const std::vector<AppMul> tailored = tailor_appmuls(*layer, options);
  progress.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Library out;
  for (const AppMul& m : tailored) out.add(m);
  out.save(args.out);

  std::vector<TailorRow> rows;
  Library lib;
  if (!lib_path.empty()) {
    lib = Library::load(lib_path);
    rows = compare_tailored(*layer, lib.of_signature(layer->signature), tailored);
  }
  int better = 0;
  for (const TailorRow& r : rows) better += !r.tailored.empty() && r.tailored_dl < r.dl;
  if (args.json) {
    nlohmann::json jr = nlohmann::json::array();
    for (const TailorRow& r : rows)
      jr.push_back({{"candidate", r.candidate}, {"energy_fj", r.energy_fj}, {"mred", r.mred},
                    {"dl", r.dl}, {"tailored", r.tailored},
                    {"tailored_energy_fj", r.tailored_energy_fj},
                    {"tailored_mred", r.tailored_mred}, {"tailored_dl", r.tailored_dl}});
    nlohmann::json jt = nlohmann::json::array();
    for (const AppMul& m : tailored) {
      nlohmann::json j = appmul_json(m);
      j["dl"] = layer->predict(m.table);
      jt.push_back(j);
    }
    print_json({{"layer", layer->name}, {"signature", layer->signature.key()},
                {"out", args.out}, {"seconds", seconds}, {"tailored", jt}, {"library", lib_path},
                {"rows", jr}, {"tailored_better", better}});
    return;
  }
  fmt::print("{} ({}): {} tailored AppMuls written to {} in {:.1f} s\n", layer->name,
             layer->signature.key(), tailored.size(), args.out, seconds);
  if (rows.empty()) return;
  fmt::print("{:<36} {:>8} {:>7} {:>11}   {:<44} {:>8} {:>7} {:>11}\n", "library member", "fJ",
             "mred", "dL", "best tailored at <= fJ", "fJ", "mred", "dL");
  for (const TailorRow& r : rows) {
    fmt::print("{:<36} {:>8.1f} {:>6.2f}% {:>11.3e}   {:<44} ", r.candidate, r.energy_fj,
               100 * r.mred, r.dl, r.tailored.empty() ? "(none)" : r.tailored);
    if (r.tailored.empty())
      fmt::print("\n");
    else
      fmt::print("{:>8.1f} {:>6.2f}% {:>11.3e}\n", r.tailored_energy_fj, 100 * r.tailored_mred,
                 r.tailored_dl);
  }
  fmt::print("tailored is better (lower dL at no more energy) for {} of {} library members\n",
             better, rows.size());
}

void setup_lib_tailor(CLI::App& root) {
  auto args = std::make_shared<LibTailorArgs>();
  CLI::App& group =
      command_group(root, "lib", "Build, inspect, import and export AppMul libraries");
  auto* cmd = group.add_subcommand(
      "tailor", "ALS multipliers that minimise one layer's predicted loss change");
  cmd->footer(
      "Example: fames estimate --model m.pt --lib lib --out est.json --terms-out est.terms\n"
      "         fames lib tailor --est est.json --layer conv2 --out /tmp/conv2-lib");
  cmd->add_option("--est", args->est,
                  "est.json written with --terms-out (gives the terms file and the library)");
  cmd->add_option("--terms", args->terms, "Layer terms file (instead of, or overriding, --est)");
  cmd->add_option("--layer", args->layer, "Layer name, as in est.json")->required();
  cmd->add_option("--lib", args->lib, "Library to compare with (default: the one of --est)");
  cmd->add_option("--out", args->out, "Library folder for the tailored AppMuls")->required();
  cmd->add_option("--metric", args->metric, "Uniform error metric bounded by --max-error")
      ->capture_default_str();
  cmd->add_option("--max-error", args->max_error, "Bound on --metric")->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--max-dl", args->max_dl, "Bound on the predicted loss change (default: none)")
      ->check(finite_number());
  cmd->add_option("--count", args->count, "At most this many tailored AppMuls (0: whole front)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--seed-steps", args->seed_steps,
                  "Steps of the runs seeded from family members (0: from the exact one only)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--pairs", args->pairs, "Operand pairs simulated for the energy estimate")
      ->capture_default_str()
      ->check(in_range(2, 1 << 24));
  cmd->add_option("--seed", args->seed, "Seed (ALS sampling and energy stream)")
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "Print a JSON report");
  cmd->callback([args] { run_lib_tailor(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("lib tailor", fames::cli::setup_lib_tailor);
