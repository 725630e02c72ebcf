// fames lib build: generates, characterises and saves a library of exact and approximate
// multipliers for every signature bw x ba over a range of bit widths: exact circuits, the classic
// families (library_build.h) and, unless --no-als, approximate logic synthesis (als_library.h).

#include <fmt/core.h>

#include <chrono>
#include <regex>
#include <set>

#include "appmul/als_library.h"
#include "appmul/library_build.h"
#include "cli/command.h"
#include "cli/common.h"
#include "util/error.h"
#include "util/progress.h"

namespace fames::cli {
namespace {

struct LibBuildArgs {
  std::string bits = "2..8", out, liberty;
  bool no_als = false, signed_a = false, json = false;
  int per_signature = 30, pairs = 4096;
  double max_mred = 0.30;
  std::string metric = "mred";
  double max_error = 0.2;
  int als_per_signature = 20;
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

void run_lib_build(const LibBuildArgs& args) {
  const std::vector<int> widths = parse_bits(args.bits);
  std::vector<Signature> sigs;
  for (int bw : widths)
    for (int ba : widths) {
      sigs.push_back(Signature{bw, ba, true, false});
      // Signed activations for 8x8 always (layers whose inputs are not post-ReLU), else on request.
      if (args.signed_a || (bw == 8 && ba == 8)) sigs.push_back(Signature{bw, ba, true, true});
    }
  FamilyBuildOptions options;
  options.max_mred = args.max_mred;
  options.max_per_signature = args.per_signature;
  options.cost.pairs = args.pairs;
  options.cost.seed = args.seed;
  if (!args.liberty.empty()) options.cells = read_liberty(args.liberty);

  const auto start = std::chrono::steady_clock::now();
  Progress progress("lib build", static_cast<int64_t>(sigs.size()), "signatures");
  Library lib =
      build_family_library(sigs, options, [&](const Signature& sig, size_t members) {
        progress.advance(1, fmt::format("{} ({} AppMuls)", sig.key(), members));
      });
  progress.finish();
  if (!args.no_als) {
    AlsOptions als;
    als.metric = parse_als_metric(args.metric);
    als.max_error = args.max_error;
    als.seed = args.seed;
    als.cells = options.cells;
    als.cost = options.cost;
    Progress als_progress("als", static_cast<int64_t>(sigs.size()), "signatures");
    add_als_members(lib, sigs, als, args.als_per_signature, [&](const Signature& sig, size_t added) {
      als_progress.advance(1, fmt::format("{} (+{} ALS)", sig.key(), added));
    });
    als_progress.finish();
  }
  lib.save(args.out);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.json) {
    print_json({{"out", args.out},
                {"signatures", sigs.size()},
                {"appmuls", lib.size()},
                {"seconds", seconds},
                {"cells", options.cells.source}});
  } else {
    fmt::print("{} AppMuls for {} signatures written to {} in {:.1f} s\n", lib.size(), sigs.size(),
               args.out, seconds);
  }
}

void setup_lib_build(CLI::App& root) {
  auto args = std::make_shared<LibBuildArgs>();
  CLI::App& group =
      command_group(root, "lib", "Build, inspect, import and export AppMul libraries");
  auto* cmd =
      group.add_subcommand("build", "Generate and characterise exact and approximate multipliers");
  cmd->footer("Example: fames lib build --bits 2..8 --out libs/default   (add --no-als to skip ALS)");
  cmd->add_flag("--no-als", args->no_als, "Skip approximate logic synthesis (exact and family multipliers only)");
  cmd->add_option("--metric", args->metric, "ALS error metric: mred, nmed, er, wce or mse")->capture_default_str();
  cmd->add_option("--max-error", args->max_error, "ALS bound on --metric (uniform operands)")->capture_default_str();
  cmd->add_option("--als-per-signature", args->als_per_signature,
                  "At most this many ALS results (Pareto front, thinned evenly) per signature")
      ->capture_default_str();
  cmd->add_option("--bits", args->bits,
                  "Operand widths: a range (2..8) or a list (2,4,8); every bw x ba pair")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Library folder to write (index.json, .tbl, .blif)")
      ->required();
  cmd->add_flag("--signed-a", args->signed_a,
                "Add signed-activation variants of every signature (default: only of 8x8)");
  cmd->add_option("--max-mred", args->max_mred, "Drop approximate members whose MRED exceeds this")
      ->capture_default_str();
  cmd->add_option("--per-signature", args->per_signature, "At most this many AppMuls per signature")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000));
  cmd->add_option("--liberty", args->liberty,
                  "Liberty file for cell figures (default: built-in NanGate 45 nm)");
  cmd->add_option("--pairs", args->pairs, "Operand pairs simulated for the energy estimate")
      ->capture_default_str()
      ->check(CLI::Range(2, 1 << 24));
  cmd->add_option("--seed", args->seed, "Seed of the energy-estimate operand stream")
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "Print a JSON summary");
  cmd->callback([args] { run_lib_build(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("lib build", fames::cli::setup_lib_build);
