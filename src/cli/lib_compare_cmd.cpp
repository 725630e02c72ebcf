// fames lib compare: does the ALS front of one signature dominate the classic families? Prints,
// for every family member (truncation, broken array, perforation by default) whose error lies in
// [--min-error, --max-error], the cheapest ALS member with no more error, and whether it is cheaper.
// The ALS members come from --lib (members with source "als:*") or are built on the spot with the
// settings of `fames lib build` (same flags, same defaults). With --histogram every error (ALS and
// family members alike) is measured under that operand histogram, and ALS built here uses it too;
// --lib with --histogram shows how a library built without it fares under it. With --check, a
// member that is not dominated is an error (exit status 1).

#include <fmt/core.h>

#include <chrono>
#include <set>
#include <sstream>

#include "appmul/synth/als_library.h"
#include "appmul/synth/dominance.h"
#include "appmul/synth/generators.h"
#include "cli/command.h"
#include "cli/common.h"
#include "util/error.h"

namespace fames::cli {
namespace {

struct LibCompareArgs {
  std::string sig = "w8u_a8u", lib, families = "trunc,bam,perf", metric = "mred", histogram;
  double min_error = 0.005, max_error = 0.2;
  int als_per_signature = 24, seed_steps = 30, pairs = 4096;
  uint64_t seed = 1;
  bool check = false, json = false, front = false;
};

std::set<std::string> parse_families(const std::string& text) {
  std::set<std::string> names;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == "all") {
      for (Family f : {Family::kTrunc, Family::kTruncCorrected, Family::kBrokenArray,
                       Family::kPerforation, Family::kLowerOr, Family::kApproxFullAdder,
                       Family::kDrum, Family::kMitchell})
        names.insert(family_name(f));
      continue;
    }
    bool known = false;
    for (Family f : {Family::kTrunc, Family::kTruncCorrected, Family::kBrokenArray,
                     Family::kPerforation, Family::kLowerOr, Family::kApproxFullAdder,
                     Family::kDrum, Family::kMitchell})
      known = known || item == family_name(f);
    if (!known)
      fail("--families '{}': unknown family '{}' (trunc, truncc, bam, perf, loa, afa, drum, "
           "mitchell or all)",
           text, item);
    names.insert(item);
  }
  if (names.empty()) fail("--families is empty");
  return names;
}

void run_lib_compare(const LibCompareArgs& args) {
  const Signature sig = Signature::parse(args.sig);
  const std::set<std::string> families = parse_families(args.families);
  AlsLibraryOptions options;
  options.als.metric = parse_als_metric(args.metric);
  options.als.max_error = args.max_error;
  options.als.seed = args.seed;
  options.als.cost.pairs = args.pairs;
  options.als.cost.seed = args.seed;
  options.max_per_signature = args.als_per_signature;
  options.seed_steps = args.seed_steps;
  const std::vector<double>* weights = nullptr;
  if (!args.histogram.empty()) {
    options.histograms = OperandHistograms::load(args.histogram);
    weights = options.histograms.find(sig);
    if (!weights) fail("--histogram {} has no entry for {}", args.histogram, sig.key());
  }

  const auto start = std::chrono::steady_clock::now();
  std::vector<AppMul> als;
  if (!args.lib.empty()) {
    const Library lib = Library::load(args.lib);
    for (const AppMul* m : lib.of_signature(sig))
      if (m->source.rfind("als:", 0) == 0) als.push_back(*m);
    if (als.empty()) fail("--lib '{}' has no ALS members of {}", args.lib, sig.key());
  } else {
    als = build_als_members({sig}, options).front();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<AppMul> rivals;
  const AppMul exact = characterize(generate_multiplier(sig, {Family::kExactDadda}), "exact:dadda",
                                    options.als.cells, options.als.cost);
  for (const GeneratorSpec& spec : default_family_specs(sig))
    if (families.count(family_name(spec.family)))
      rivals.push_back(characterize(generate_multiplier(sig, spec), generator_source(spec),
                                    options.als.cells, options.als.cost));
  if (weights)  // every comparison below is then under the histogram
    for (std::vector<AppMul>* members : {&als, &rivals})
      for (AppMul& m : *members) m.metrics = error_metrics(m.table, *weights);
  const std::vector<AppMul> front = pareto_front(als, options.als.metric);
  const DominanceReport report =
      check_dominance(front, rivals, options.als.metric, args.min_error, args.max_error);

  const std::string metric = als_metric_name(options.als.metric);
  if (args.json) {
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
    nlohmann::json fr = nlohmann::json::array();
    for (const AppMul& m : front) fr.push_back(appmul_json(m));
    print_json({{"signature", sig.key()},
                {"metric", metric},
                {"histogram", args.histogram},
                {"exact_energy_fj", exact.energy_fj},
                {"als_members", als.size()},
                {"als_seconds", seconds},
                {"rows", rows},
                {"front", fr},
                {"dominated", report.dominated_count()},
                {"all_dominated", report.all_dominated()}});
  } else {
    fmt::print("{}: exact (dadda) {:.1f} fJ; {} ALS members ({} on the front){}{}\n", sig.key(),
               exact.energy_fj, als.size(), front.size(),
               args.lib.empty() ? fmt::format(", built in {:.1f} s", seconds)
                                : " from " + args.lib,
               weights ? "; errors under the operand histogram " + args.histogram : "");
    fmt::print("{:<22} {:>8} {:>9}   {:<34} {:>8} {:>9} {:>7}\n", "family member", metric,
               "fJ", "cheapest ALS at <= " + metric, metric, "fJ", "saving");
    for (const DominanceRow& r : report.rows) {
      const std::string rival = r.rival.substr(0, r.rival.size() - sig.key().size() - 1);
      if (r.best.empty()) {
        fmt::print("{:<22} {:>7.3f}% {:>9.1f}   {:<34} {:>8} {:>9} {:>7}\n", rival,
                   100 * r.rival_error, r.rival_energy_fj, "(none)", "", "", "NO");
        continue;
      }
      const std::string best = r.best.substr(0, r.best.size() - sig.key().size() - 1);
      fmt::print("{:<22} {:>7.3f}% {:>9.1f}   {:<34} {:>7.3f}% {:>9.1f} {:>6.1f}%{}\n", rival,
                 100 * r.rival_error, r.rival_energy_fj, best, 100 * r.best_error,
                 r.best_energy_fj, 100 * (1 - r.best_energy_fj / r.rival_energy_fj),
                 r.dominated ? "" : "  NO");
    }
    if (args.front) {
      fmt::print("ALS front:\n");
      for (const AppMul& m : front)
        fmt::print("  {:<40} {:>7.3f}% {:>9.1f} fJ\n", m.name, 100 * metric_value(m.metrics, options.als.metric),
                   m.energy_fj);
    }
    fmt::print("dominated: {} of {} family members with {} in [{}%, {}%]\n",
               report.dominated_count(), report.rows.size(), metric, 100 * args.min_error,
               100 * args.max_error);
  }
  if (args.check && !report.all_dominated())
    fail("--check: {} of {} family members of {} are not dominated by the ALS front",
         report.rows.size() - report.dominated_count(), report.rows.size(), sig.key());
}

void setup_lib_compare(CLI::App& root) {
  auto args = std::make_shared<LibCompareArgs>();
  CLI::App& group =
      command_group(root, "lib", "Build, inspect, import and export AppMul libraries");
  auto* cmd = group.add_subcommand(
      "compare", "Check that a signature's ALS front dominates the classic families");
  cmd->footer(
      "Example: fames lib compare --sig w8u_a8u --check   (builds the ALS members on the spot)\n"
      "         fames lib compare --sig w4s_a4u --lib libs/default --families all --front");
  cmd->add_option("--sig", args->sig, "Signature, e.g. w8u_a8u, w4s_a4u or 4x4")
      ->capture_default_str();
  cmd->add_option("--lib", args->lib, "Take the ALS members from this library instead of building");
  cmd->add_option("--families", args->families,
                  "Rival families: comma list of trunc, truncc, bam, perf, loa, afa, drum, "
                  "mitchell, or all")
      ->capture_default_str();
  cmd->add_option("--metric", args->metric, "Error metric: mred, nmed, er, wce or mse")
      ->capture_default_str();
  cmd->add_option("--min-error", args->min_error, "Check rivals with at least this error")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--max-error", args->max_error,
                  "Check rivals with at most this error (also the ALS bound when building)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--als-per-signature", args->als_per_signature,
                  "When building: ALS members kept (as lib build)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--seed-steps", args->seed_steps,
                  "When building: steps of each ALS run seeded from a family member (as lib build)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--pairs", args->pairs, "Operand pairs simulated for the energy estimate")
      ->capture_default_str()
      ->check(in_range(2, 1 << 24));
  cmd->add_option("--seed", args->seed, "Seed (ALS sampling and energy stream)")
      ->capture_default_str();
  cmd->add_option("--histogram", args->histogram,
                  "Operand histogram file (fames lib histogram): measure every error under it (and "
                  "build ALS under it)");
  cmd->add_flag("--front", args->front, "Also list the ALS front");
  cmd->add_flag("--check", args->check, "Exit with status 1 unless every rival is dominated");
  cmd->add_flag("--json", args->json, "Print a JSON report");
  cmd->callback([args] { run_lib_compare(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("lib compare", fames::cli::setup_lib_compare);
