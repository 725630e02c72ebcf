// fames bench select-vs-ga: FAMES (estimate + select) against the NSGA-II search it replaces, on
// the same model, candidates, emulator and validation images (held-out training images without a
// validation split): FAMES's time, the GA's time to first match FAMES's configuration (top-1 at
// least as high, energy at most as high), and the ratio.
#include <fmt/core.h>

#include "cli/command.h"
#include "cli/common.h"
#include "models/checkpoint.h"
#include "pipeline/select_vs_ga.h"
#include "util/error.h"

namespace fames::cli {
namespace {

struct BenchSelectArgs {
  std::string model, library, data;
  pipeline::SelectVsGaOptions options;
  bool json = false;
};

void run_bench_select(const BenchSelectArgs& args) {
  auto loaded = models::load_model(args.model);
  const Library library = Library::load(args.library);
  const std::string spec =
      args.data.empty() ? loaded.meta.value("dataset", std::string(kDefaultDatasetSpec)) : args.data;
  const Dataset train = load_dataset(spec, Split::kTrain);
  models::check_dataset_fits(train, loaded, "--data");
  // The GA scores on, and the match is judged on, validation images when the dataset has them.
  const Dataset validation = train.validation_excluded > 0 ? load_dataset(spec, Split::kVal) : Dataset();
  const bool on_val = validation.size() > 0;
  const pipeline::SelectVsGaResult r =
      pipeline::bench_select_vs_ga(*loaded.module, library, args.library, train, validation, args.options);
  nlohmann::json out = to_json(r);
  out["model"] = args.model;
  out["data"] = spec;
  out["holdout"] = args.options.holdout;
  out["holdout_split"] = on_val ? "val" : "train";
  out["samples"] = args.options.samples;
  out["hessian"] = args.options.hessian;
  out["bias_correction"] = args.options.bias_correction;
  out["first_order"] = args.options.first_order;
  out["ga_population"] = args.options.ga.population;
  out["ga_time_limit_s"] = args.options.ga.time_limit_s;
  out["stop_at_speedup"] = args.options.stop_at_speedup;
  out["seed"] = args.options.seed;
  out["command"] = command_line();
  if (args.json) {
    print_json(out);
    return;
  }
  const pipeline::GaMatch& m = r.match();
  const bool judged = r.judge > 0;
  const char* kind = on_val ? "validation" : "held-out training";
  const std::string where = judged ? fmt::format("{} judging {} images (neither side saw them)", r.judge, kind)
                                   : fmt::format("the GA's {} {} images", args.options.holdout, kind);
  fmt::print("top-1 on {}: exact {:.2f}%\n", where, 100 * r.headline_exact_top1());
  fmt::print("FAMES: {:.2f} s (estimate {:.2f} s, select {:.3f} s): {:.2f}% energy saved, top-1 {:.2f}%\n",
             r.fames_seconds, r.fames_estimate_seconds, r.fames_select_seconds, 100 * r.fames_energy_reduction,
             100 * r.headline_fames_top1());
  if (m.reached)
    fmt::print("GA:    {:.1f} s ({} evaluations) to first reach it: {:.2f}% saved, top-1 {:.2f}%\n", m.seconds,
               m.evaluations, 100 * m.energy_reduction, 100 * m.top1);
  else
    fmt::print("GA:    never reached it in {:.1f} s ({} evaluations); best at <= FAMES energy: top-1 {:.2f}%\n",
               m.seconds, m.evaluations, 100 * m.top1);
  fmt::print("speedup {}{:.1f}x\n", m.reached ? "" : ">= ", m.speedup);
  if (judged)
    fmt::print("on the GA's own scoring images (FAMES {:.2f}%, exact {:.2f}%): {} in {:.1f} s, speedup {}{:.1f}x\n",
               100 * r.fames_top1, 100 * r.exact_top1, r.held_out.reached ? "reached" : "not reached",
               r.held_out.seconds, r.held_out.reached ? "" : ">= ", r.held_out.speedup);
}

void setup_bench_select(CLI::App& root) {
  auto args = std::make_shared<BenchSelectArgs>();
  auto& group = command_group(root, "bench", "Measured claims: emulation speed, selection against GA, ...");
  auto* cmd = group.add_subcommand("select-vs-ga", "FAMES (estimate + select) vs genetic search: time to equal quality");
  cmd->footer(
      "Example: fames bench select-vs-ga --model models/lenet5-fmnist-mp.pt --lib lib/ --energy-reduction 0.3 \\\n"
      "           --ga-time-limit 600 --json\n"
      "The GA scores configurations on --holdout validation images; FAMES estimates on --samples\n"
      "training images. Both are judged by the same emulator on --judge further validation images\n"
      "that neither saw (training images held out, without a validation split). The GA stops when it\n"
      "first matches FAMES's configuration there\n"
      "(top-1 >= and energy <=) or at --ga-time-limit (its own time, judging excluded); 'speedup' is then\n"
      "a lower bound. The JSON's held_out object gives the same comparison on the GA's own images.");
  cmd->add_option("--model", args->model, "Quantized model checkpoint")->required()->check(CLI::ExistingFile);
  cmd->add_option("--lib", args->library, "AppMul library folder")->required();
  cmd->add_option("--data", args->data, "Dataset (default: the model's); training split, and its validation split to judge on");
  cmd->add_option("--energy-reduction", args->options.energy_reduction, "FAMES's energy-reduction target")
      ->capture_default_str()->check(in_range(0, 1));
  cmd->add_option("--samples", args->options.samples, "FAMES estimation samples")->capture_default_str()->check(positive());
  cmd->add_option("--hessian", args->options.hessian, "FAMES curvature: gn, gnK (e.g. gn3), mc, fisher or first")->capture_default_str();
  cmd->add_option("--holdout", args->options.holdout,
                  "Validation images the GA scores on (held-out training images without a validation split)")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--judge", args->options.judge,
                  "Further validation images that judge the match, seen by neither side (0 = judge on --holdout)")
      ->capture_default_str()->check(at_least(0));
  cmd->add_option("--ga-time-limit", args->options.ga.time_limit_s, "GA time limit in seconds (0 = none)")
      ->capture_default_str()->check(at_least(0));
  cmd->add_option("--stop-at-speedup", args->options.stop_at_speedup,
                  "Also stop the GA once its own time is this many times FAMES's (0 = no such stop)")
      ->capture_default_str()->check(at_least(0));
  cmd->add_option("--population", args->options.ga.population, "GA population")->capture_default_str()->check(in_range(2, 100000));
  cmd->add_option("--generations", args->options.ga.generations, "GA generations")->capture_default_str()->check(at_least(0));
  cmd->add_option("--seed", args->options.seed, "Seed of samples, hold-out and GA")->capture_default_str();
  cmd->add_flag("--no-bias-correction", [args](int64_t) { args->options.bias_correction = false; },
                "Neither side corrects the AppMuls' per-channel mean error (by default FAMES estimates, and the "
                "shared evaluator measures, corrected configurations)");
  cmd->add_flag("--first-order", args->options.first_order,
                "FAMES selects on the full Taylor estimate (by default, as in 'fames run', on the curvature term)");
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->callback([args] {
    args->options.ga.seed = args->options.seed;
    run_bench_select(*args);
  });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("bench select-vs-ga", fames::cli::setup_bench_select);
