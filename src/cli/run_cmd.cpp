// fames run: the whole FAMES flow (estimate -> select -> calibrate -> evaluate) with a report
// folder, as resumable stages (pipeline/run.h). Every flag has a default: the Fashion-MNIST zoo
// model and the built-in AppMul library, which is built on first use into the user's cache folder
// and reused afterwards.
#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "appmul/synth/library_recipe.h"
#include "cli/command.h"
#include "cli/common.h"
#include "dist/process_group.h"
#include "fames_version.h"
#include "models/layer_signatures.h"
#include "pipeline/run.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::cli {
namespace {

namespace fs = std::filesystem;

struct RunArgs {
  pipeline::RunOptions options;
  double energy_reduction = -1;
  std::string estimate_temperature = "fit";
  bool no_calibrate = false, no_bias_correction = false, no_uniform = false, json = false;
};

// This program's own path (it may be installed or copied under any name).
fs::path executable() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() / "fames" : self;
}

fs::path executable_dir() { return executable().parent_path(); }

// models/lenet5-fmnist-mp.pt from the working folder, else beside the build folder of this binary.
std::string default_model() {
  const std::string name = "models/lenet5-fmnist-mp.pt";
  if (file_exists(name)) return name;
  const fs::path beside = executable_dir().parent_path() / name;
  if (file_exists(beside.string())) return beside.string();
  fail("--model not given and the default zoo model {} is not in the working folder or at {}", name,
       beside.string());
}

// $XDG_CACHE_HOME/fames/library-families (or ~/.cache/...): built once, as `fames lib build --bits
// 2..8 --signed-a --no-als` would. Exact and family multipliers only, so that a first run takes
// seconds; pass --lib for a library with ALS members (`fames lib build` runs ALS by default).
// A model with signatures that library lacks (unsigned weights: w8u_a8u) gets its own folder,
// library-families-<its extra signature keys>, built the same way with them added.
std::string default_library(const std::string& model) {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const fs::path cache =
      xdg && *xdg ? fs::path(xdg) : fs::path(home && *home ? home : "/tmp") / ".cache";
  // `fames lib build --bits 2..8 --signed-a --no-als` (the recipe's defaults are lib build's), so
  // that both share one cache entry.
  LibraryRecipe recipe;
  recipe.signed_a = true;
  recipe.als = false;
  for (const std::string& card : models::zoo_cards())
    for (const Signature& sig : models::model_signatures(card)) recipe.model_signatures.push_back(sig);
  const std::vector<Signature> served = recipe_signatures(recipe);
  std::string folder = "library-families";
  // A missing model is the load stage's error (named there); the zoo's library is built regardless.
  const std::vector<Signature> needed = file_exists(model) ? models::model_signatures(model) : std::vector<Signature>();
  for (const Signature& sig : needed)
    if (std::find(served.begin(), served.end(), sig) == served.end()) {
      recipe.model_signatures.push_back(sig);
      folder += "-" + sig.key();
    }
  const fs::path dir = cache / "fames" / folder;
  const std::string index = (dir / "index.json").string();
  // Data-parallel: rank 0 builds it; the others read the same cache folder once it is there.
  if (!file_exists(index) && dist::is_root()) {
    fmt::print(stderr, "building the default AppMul library into {} (once)\n", dir.string());
    build_library(recipe, dir.string());
  }
  dist::barrier();
  if (!file_exists(index))
    fail("rank {} does not see the default AppMul library that rank 0 built in {}; pass --lib with a "
         "library every rank can read",
         dist::rank(), dir.string());
  return dir.string();
}

void run_run(RunArgs args) {
  auto& o = args.options;
  if (o.model.empty()) o.model = default_model();
  if (o.library.empty()) o.library = default_library(o.model);
  if (args.energy_reduction >= 0) o.energy_reduction = args.energy_reduction;
  o.calibrate = !args.no_calibrate;
  o.bias_correction = !args.no_bias_correction;
  o.estimate_temperature = temperature_of(args.estimate_temperature, "--estimate-temperature");
  o.uniform_baseline = !args.no_uniform;
  o.fames_version = FAMES_VERSION;
  o.command_line = command_line();
  const report::RunReport report = pipeline::run(o);
  if (args.json) {
    print_json(report.to_json());
    return;
  }
  fmt::print(
      "{}: {:.2f}% less multiplication energy; test top-1 {:.2f}% -> {:.2f}% ({:+.2f} +- {:.2f} points; "
      "uncalibrated {:.2f}%)\n",
      report.model, 100 * report.energy_reduction, 100 * report.top1_exact, 100 * report.top1_final,
      100 * (report.top1_final - report.top1_exact), 100 * report.top1_change_se, 100 * report.top1_uncalibrated);
  // The figure every choice was judged on, beside the bound asked for; +- the paired standard error.
  fmt::print("{} top-1 ({} images) {:.2f}% -> {:.2f}% ({:+.2f} +- {:.2f} points{})\n",
             report.holdout_split == "val" ? "validation" : "held-out training", report.holdout_images,
             100 * report.holdout_top1_exact, 100 * report.holdout_top1_final,
             100 * (report.holdout_top1_final - report.holdout_top1_exact), 100 * report.holdout_top1_change_se,
             report.mode == "max-accuracy-loss" ? fmt::format("; bound -{:.2f} points", report.target) : "");
  double total = 0;
  for (const auto& [stage, seconds] : report.stage_seconds) total += seconds;
  fmt::print("report in {}/ (report.md, report.json, pareto.png, layers.png); {:.1f} s in all\n",
             o.out_dir, total);
}

void setup_run(CLI::App& root) {
  auto args = std::make_shared<RunArgs>();
  auto& o = args->options;
  o.out_dir = "fames-report";
  auto* cmd = root.add_subcommand(
      "run", "The whole FAMES flow: estimate, select, calibrate, evaluate, report");
  cmd->footer(
      "Without --energy-reduction, finds the largest energy reduction whose calibrated top-1 on the\n"
      "validation split (--holdout images no model trained on; held-out training images when the\n"
      "dataset has no validation split) stays within --max-accuracy-loss points of the exact model's.\n"
      "The test split is used only for the exact and final top-1.\n"
      "Stages, each writing its files into the --out folder R: load, exact_eval, estimate "
      "(R/est.json),\n"
      "select (R/sweep.json), assign (R/assign.json), calibrate (R/model-calibrated.pt), "
      "final_eval,\n"
      "layer_measure, ga, uniform (R/parts/*.json), report. R/manifest.json records what each "
      "finished stage\n"
      "was computed from: running again with the same --out keeps every stage whose options and "
      "input files\n"
      "are unchanged (an interrupted run resumes; a changed flag redoes only the stages it "
      "affects).\n"
      "Example: fames run   (the Fashion-MNIST zoo model and the built-in library)\n"
      "         fames run --model models/resnet20-cifar10-mp.pt --data cifar10:/tmp/cifar10 --out "
      "r20-report");
  cmd->add_option("--model", o.model, "Quantized model (default: models/lenet5-fmnist-mp.pt)");
  cmd->add_option("--data", o.data, "Dataset (default: the model's): " + dataset_spec_help());
  cmd->add_option("--lib", o.library,
                  "AppMul library folder (default: built-in, cached after the first run)");
  auto* reduction = cmd->add_option("--energy-reduction", args->energy_reduction,
                                    "Target multiplication-energy reduction, 0..1")
                        ->check(in_range(0, 1));
  cmd->add_option("--max-accuracy-loss", o.max_accuracy_loss,
                  "Largest validation top-1 loss, percentage points")
      ->capture_default_str()
      ->check(at_least(0))
      ->excludes(reduction);
  cmd->add_option("--out", o.out_dir, "Report folder")->capture_default_str();
  cmd->add_option("--hessian", o.hessian, "Estimator Hessian (see fames estimate --help)")
      ->capture_default_str();
  cmd->add_option("--estimate-temperature", args->estimate_temperature,
                  "fit: estimate the loss of the logits divided by the temperature that gives the exact model its "
                  "lowest loss on the held-out images (what fames validate measures); or a number > 0")
      ->capture_default_str();
  cmd->add_flag("--first-order", o.first_order,
                "Select on the full Taylor estimate g'e + 1/2 e'He (default: the curvature term alone; "
                "see fames estimate --no-first-order)");
  cmd->add_option("--samples", o.estimate_samples, "Estimation samples (training split)")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--calibration-samples", o.calibration_samples,
                  "Calibration images (training split; 0: all of it)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--holdout", o.holdout, holdout_help("judge every configuration (the bound, the sweep, calibration's stopping)"))
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--sweep", o.sweep_steps, "Energy-reduction steps of the measured sweep")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--calibration-epochs", o.calibration_epochs, "Clipping-tuning epochs, at most")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--calibration-patience", o.calibration_patience,
                  "Epochs without validation improvement before clipping tuning stops")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--ga-seconds", o.ga_seconds, "Time for the GA baseline in the plot (0: none)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--seed", o.seed, "Seed for every sample and the GA")->capture_default_str();
  cmd->add_flag("--no-calibrate", args->no_calibrate, "Skip calibration");
  cmd->add_flag("--no-bias-correction", args->no_bias_correction,
                "No per-channel AppMul bias correction: estimate, sweep and calibrate the uncorrected AppMuls");
  cmd->add_flag("--finetune-weights", o.finetune_weights,
                "Calibration also fine-tunes weights, biases and BN affine with the AppMuls in the "
                "loop (approximation-aware training, beyond METHOD.md §4); it gains with more "
                "--calibration-samples, up to the whole training split (0). With --max-accuracy-loss "
                "the search then bisects the sweep instead of climbing it point by point");
  add_calibrate_on(cmd, o.calibrate_on_top1);
  cmd->add_option("--bound-confidence", o.bound_confidence,
                  "With --max-accuracy-loss: a configuration passes only if its validation top-1 minus Z paired "
                  "standard errors of its change from the exact model stays within the bound, so that the bound "
                  "is likelier to hold on unseen images (1: about 84% one-sided; 0: the figure alone)")
      ->capture_default_str()
      ->check(at_least(0))
      ->excludes(reduction);
  cmd->add_flag("--no-uniform", args->no_uniform, "Skip the uniform single-family baseline");
  cmd->add_flag("--force", o.force,
                "Recompute every stage, even those whose results in --out are up to date");
  cmd->add_flag("--json", args->json, "Print report.json on stdout");
  cmd->callback([args] { run_run(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("run", fames::cli::setup_run);
