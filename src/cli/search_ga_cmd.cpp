// fames search-ga: the genetic-search baseline (NSGA-II, as in ALWANN) over per-layer AppMul
// choices, with top-1 measured by emulation on held-out training images and energy from the
// candidates. Writes the final Pareto front with its assignments (ga.json).
#include <fmt/core.h>

#include "cli/command.h"
#include "cli/common.h"
#include "dist/process_group.h"
#include "pipeline/ga_search.h"
#include "pipeline/search_inputs.h"
#include "util/files.h"

namespace fames::cli {
namespace {

struct SearchGaArgs {
  std::string model, est, library, data, out;
  int64_t holdout = 1000;
  Nsga2Options ga;
  bool json = false;
};

void run_search_ga(const SearchGaArgs& args) {
  pipeline::SearchInputs in = pipeline::load_search_inputs(args.model, args.est, args.library, args.data, args.holdout,
                                       args.ga.seed);
  const pipeline::GaRun run = pipeline::run_ga(*in.evaluator, args.ga);
  nlohmann::json doc = pipeline::ga_to_json(*in.evaluator, run, args.ga);
  doc["model"] = args.model;
  doc["data"] = in.data_spec;
  doc["estimate"] = args.est;
  doc["command"] = command_line();
  if (dist::is_root()) write_file_atomic(args.out, doc.dump(1) + "\n");  // data-parallel: rank 0 writes
  if (args.json) {
    doc.erase("history");
    doc["out"] = args.out;
    print_json(doc);
    return;
  }
  fmt::print("{} evaluations in {:.1f} s ({} generations), exact top-1 {:.2f}% on {} {} images\n",
             run.search.evaluations.size(), run.search.seconds, run.search.generations_done,
             100 * run.exact_top1, in.evaluator->holdout_size(), in.judged_on == "val" ? "validation" : "held-out");
  fmt::print("{:>10} {:>9} {:>10}\n", "energy", "top-1", "found at");
  for (const auto& p : doc["front"])
    fmt::print("{:>9.2f}% {:>8.2f}% {:>9.1f}s\n", 100 * p["energy_reduction"].get<double>(),
               100 * p["top1"].get<double>(), p["seconds"].get<double>());
  fmt::print("wrote {}\n", args.out);
}

void setup_search_ga(CLI::App& root) {
  auto args = std::make_shared<SearchGaArgs>();
  auto* cmd = root.add_subcommand(
      "search-ga", "Genetic search (NSGA-II) for per-layer AppMuls, measured by emulation (the baseline FAMES replaces)");
  cmd->footer(
      "Example: fames search-ga --model models/lenet5-fmnist-mp.pt --est est.json --holdout 1000 \\\n"
      "           --population 32 --generations 50 --time-limit 600 --out ga.json\n"
      "Fitness: top-1 on --holdout validation images (maximized) and multiplication\n"
      "energy per image (minimized). Candidates and energies come from --est (as 'fames select' sees\n"
      "them) or, without it, from every AppMul of --lib that fits each layer.");
  cmd->add_option("--model", args->model, "Quantized model checkpoint")->required()->check(CLI::ExistingFile);
  cmd->add_option("--est", args->est, "est.json: the candidates and energies (and the library)")->check(CLI::ExistingFile);
  cmd->add_option("--lib", args->library, "AppMul library folder (default: the estimate's)");
  cmd->add_option("--data", args->data, "Dataset (default: the model's); the training split is used");
  cmd->add_option("--holdout", args->holdout,
                  holdout_help("measure top-1; fewer than a run's because the GA measures thousands of configurations"))
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--population", args->ga.population, "Population size")->capture_default_str()->check(in_range(2, 100000));
  cmd->add_option("--generations", args->ga.generations, "Generations after the initial population")
      ->capture_default_str()->check(at_least(0));
  cmd->add_option("--time-limit", args->ga.time_limit_s, "Stop after this many seconds (0 = none)")
      ->capture_default_str()->check(at_least(0));
  cmd->add_option("--seed", args->ga.seed, "Seed of the search and of the hold-out draw")->capture_default_str();
  cmd->add_option("--out", args->out, "Where to write ga.json")->required();
  cmd->add_flag("--json", args->json, "Print the result (without the evaluation history) as JSON");
  cmd->callback([args] { run_search_ga(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("search-ga", fames::cli::setup_search_ga);
