// fames lib build: generates, characterises and saves a library of exact and approximate
// multipliers for every signature bw x ba over a range of bit widths: exact circuits, the classic
// families (library_build.h) and, unless --no-als, approximate logic synthesis (als_library.h).
// With --histogram, ALS measures its error of every signature the file covers under that operand
// histogram (operand_histogram.h), the others' uniformly. A second build with the same settings
// (histogram content included, and the same fames executable) restores the result from the cache
// (library_cache.h) instead. The work is build_library() (appmul/synth/library_recipe.h).

#include <fmt/core.h>

#include "appmul/synth/library_recipe.h"
#include "cli/command.h"
#include "cli/common.h"
#include "models/layer_signatures.h"

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

LibraryRecipe recipe_of(const LibBuildArgs& args) {
  LibraryRecipe recipe;
  recipe.widths = parse_bit_widths(args.bits);
  recipe.signed_a = args.signed_a;
  // The signatures the models use come first and are added if missing (e.g. a first conv's signed
  // activations), so that the library serves them: --model's, else the zoo's.
  for (const std::string& m : args.models.empty() ? models::zoo_cards() : args.models)
    for (const Signature& sig : models::model_signatures(m)) recipe.model_signatures.push_back(sig);
  recipe.families.max_mred = args.max_mred;
  recipe.families.max_per_signature = args.per_signature;
  recipe.families.cost.pairs = args.pairs;
  recipe.families.cost.seed = args.seed;
  recipe.liberty = args.liberty;
  recipe.als = !args.no_als;
  recipe.metric = args.metric;
  recipe.max_error = args.max_error;
  recipe.als_per_signature = args.als_per_signature;
  recipe.seed_steps = args.seed_steps;
  recipe.histogram = args.histogram;
  recipe.use_cache = !args.no_cache;
  return recipe;
}

void run_lib_build(const LibBuildArgs& args) {
  const LibraryBuildReport r = build_library(recipe_of(args), args.out);
  if (args.json) {
    print_json({{"out", args.out},
                {"signatures", r.signatures},
                {"appmuls", r.appmuls},
                {"seconds", r.seconds},
                {"how", r.how}});
  } else {
    fmt::print("{} AppMuls for {} signatures written to {} in {:.1f} s ({})\n", r.appmuls,
               r.signatures, args.out, r.seconds, r.how);
  }
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
                  "Steps of the ALS runs seeded from each family member (guarded, compensated; "
                  "0: ALS from the exact multiplier only)")
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
