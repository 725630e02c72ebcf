// fames lib tailor: ALS multipliers tailored to one layer (appmul/synth/tailor.h). The layer's Taylor
// terms come from a terms file (`fames estimate --terms-out FILE`), named directly (--terms) or
// through the est.json that recorded it (--est). Writes the tailored front as a library folder and
// prints, for every member of the comparison library with the layer's signature, the tailored
// member of no more energy with the lowest predicted loss change. The work is tailor_layer()
// (appmul/synth/layer_tailoring.h).

#include <fmt/core.h>

#include <limits>

#include "appmul/synth/layer_tailoring.h"
#include "cli/command.h"
#include "cli/common.h"

namespace fames::cli {
namespace {

struct LibTailorArgs {
  std::string est, terms, layer, lib, out, metric = "mred";
  double max_error = 0.2, max_dl = std::numeric_limits<double>::infinity();
  int count = 24, seed_steps = 30, pairs = 4096;
  uint64_t seed = 1;
  bool json = false;
};

LayerTailoringRequest tailoring_request(const LibTailorArgs& args) {
  LayerTailoringRequest request;
  request.est = args.est;
  request.terms = args.terms;
  request.layer = args.layer;
  request.library = args.lib;
  request.out = args.out;
  request.options.als = als_library_options(args.metric, args.max_error, args.seed, args.pairs, args.count,
                                             args.seed_steps);
  request.options.max_dl = args.max_dl;
  return request;
}

void run_lib_tailor(const LibTailorArgs& args) {
  const LayerTailoring t = tailor_layer(tailoring_request(args));
  if (args.json) {
    print_json(t.to_json(args.out));
    return;
  }
  fmt::print("{} ({}): {} tailored AppMuls written to {} in {:.1f} s\n", t.layer.name,
             t.layer.signature.key(), t.tailored.size(), args.out, t.seconds);
  if (t.rows.empty()) return;
  fmt::print("{:<36} {:>8} {:>7} {:>11}   {:<44} {:>8} {:>7} {:>11}\n", "library member", "fJ",
             "mred", "dL", "best tailored at <= fJ", "fJ", "mred", "dL");
  for (const TailorRow& r : t.rows) {
    fmt::print("{:<36} {:>8.1f} {:>6.2f}% {:>11.3e}   {:<44} ", r.candidate, r.energy_fj,
               100 * r.mred, r.dl, r.tailored.empty() ? "(none)" : r.tailored);
    if (r.tailored.empty())
      fmt::print("\n");
    else
      fmt::print("{:>8.1f} {:>6.2f}% {:>11.3e}\n", r.tailored_energy_fj, 100 * r.tailored_mred,
                 r.tailored_dl);
  }
  fmt::print("tailored is better (lower dL at no more energy) for {} of {} library members\n",
             t.better, t.rows.size());
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
