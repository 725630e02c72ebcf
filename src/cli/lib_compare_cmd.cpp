// fames lib compare: does the ALS front of one signature dominate the classic families? Prints,
// for every family member (truncation, broken array, perforation by default) whose error lies in
// [--min-error, --max-error], the cheapest ALS member with no more error, and whether it is cheaper.
// The ALS members come from --lib (members with source "als:*") or are built on the spot with the
// settings of `fames lib build` (same flags, same defaults). With --histogram every error (ALS and
// family members alike) is measured under that operand histogram, and ALS built here uses it too;
// --lib with --histogram shows how a library built without it fares under it. With --check, a
// member that is not dominated is an error (exit status 1). The comparison itself is
// compare_with_families() (appmul/synth/family_comparison.h).

#include <fmt/core.h>

#include "appmul/synth/family_comparison.h"
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

FamilyComparisonOptions comparison_options(const LibCompareArgs& args) {
  FamilyComparisonOptions options;
  options.signature = Signature::parse(args.sig);
  options.families = parse_family_names(args.families);
  options.library = args.lib;
  options.als = als_library_options(args.metric, args.max_error, args.seed, args.pairs, args.als_per_signature,
                                    args.seed_steps);
  options.histogram = args.histogram;
  if (!args.histogram.empty()) options.als.histograms = OperandHistograms::load(args.histogram);
  options.min_error = args.min_error;
  options.max_error = args.max_error;
  return options;
}

void print_comparison(const FamilyComparison& c, const LibCompareArgs& args) {
  const std::string& metric = c.metric;
  const std::string key = c.signature.key();
  fmt::print("{}: exact (dadda) {:.1f} fJ; {} ALS members ({} on the front){}{}\n", key,
             c.exact.energy_fj, c.als.size(), c.front.size(),
             c.library.empty() ? fmt::format(", built in {:.1f} s", c.als_seconds) : " from " + c.library,
             c.weighted ? "; errors under the operand histogram " + c.histogram : "");
  fmt::print("{:<22} {:>8} {:>9}   {:<34} {:>8} {:>9} {:>7}\n", "family member", metric,
             "fJ", "cheapest ALS at <= " + metric, metric, "fJ", "saving");
  for (const DominanceRow& r : c.report.rows) {
    const std::string rival = r.rival.substr(0, r.rival.size() - key.size() - 1);
    if (r.best.empty()) {
      fmt::print("{:<22} {:>7.3f}% {:>9.1f}   {:<34} {:>8} {:>9} {:>7}\n", rival,
                 100 * r.rival_error, r.rival_energy_fj, "(none)", "", "", "NO");
      continue;
    }
    const std::string best = r.best.substr(0, r.best.size() - key.size() - 1);
    fmt::print("{:<22} {:>7.3f}% {:>9.1f}   {:<34} {:>7.3f}% {:>9.1f} {:>6.1f}%{}\n", rival,
               100 * r.rival_error, r.rival_energy_fj, best, 100 * r.best_error,
               r.best_energy_fj, 100 * (1 - r.best_energy_fj / r.rival_energy_fj),
               r.dominated ? "" : "  NO");
  }
  if (args.front) {
    fmt::print("ALS front:\n");
    const AlsMetric m = parse_als_metric(metric);
    for (const AppMul& a : c.front)
      fmt::print("  {:<40} {:>7.3f}% {:>9.1f} fJ\n", a.name, 100 * metric_value(a.metrics, m), a.energy_fj);
  }
  fmt::print("dominated: {} of {} family members with {} in [{}%, {}%]\n",
             c.report.dominated_count(), c.report.rows.size(), metric, 100 * args.min_error,
             100 * args.max_error);
}

void run_lib_compare(const LibCompareArgs& args) {
  const FamilyComparison c = compare_with_families(comparison_options(args));
  if (args.json)
    print_json(c.to_json());
  else
    print_comparison(c, args);
  if (args.check && !c.report.all_dominated())
    fail("--check: {} of {} family members of {} are not dominated by the ALS front",
         c.report.rows.size() - c.report.dominated_count(), c.report.rows.size(), c.signature.key());
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
