// fames estimate: predicted loss change for every (layer, compatible AppMul), from training samples.
#include <torch/torch.h>

#include <chrono>

#include "cli/command.h"
#include "cli/common.h"
#include "dist/process_group.h"
#include "estimate/estimator.h"
#include "estimate/terms_file.h"
#include "models/checkpoint.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::cli {
namespace {

struct EstimateArgs {
  std::string model, library, data, out, hessian = "fisher", terms_out;
  int64_t samples = estimate::kDefaultEstimateSamples, batch = estimate::EstimateOptions{}.batch_size;
  uint64_t seed = 1;
  double temperature = 1;
  bool json = false, bias_correction = false, no_first_order = false;
};

void run_estimate(const EstimateArgs& args) {
  const auto load_start = std::chrono::steady_clock::now();
  auto loaded = models::load_model(args.model);
  const Library library = Library::load(args.library);
  const std::string spec = args.data.empty() ? loaded.meta.value("dataset", std::string(kDefaultDatasetSpec)) : args.data;
  // Samples come from the training split only: the test split is for final accuracy.
  const Dataset samples = subset(load_dataset(spec, Split::kTrain), args.samples, args.seed);
  models::check_dataset_fits(samples, loaded, "--data");
  estimate::EstimateOptions options;
  estimate::parse_hessian(args.hessian, options);
  options.bias_correction = args.bias_correction;
  options.first_order = !args.no_first_order;
  options.batch_size = args.batch;
  options.seed = args.seed;
  options.temperature = args.temperature;
  // Timed from here: the estimation proper (terms and predictions), without reading the model,
  // library and dataset, which validate does as well and does not time either. Data-parallel ranks
  // start it together, so that one rank's slower loading is counted as loading on every rank.
  dist::barrier();
  const auto start = std::chrono::steady_clock::now();
  const double load_seconds = std::chrono::duration<double>(start - load_start).count();
  // A terms file keeps the whole factor, for multipliers outside this library.
  const auto terms =
      estimate::compute_terms(*loaded.module, samples, options, args.terms_out.empty() ? &library : nullptr);
  Estimate est = estimate::assemble_estimate(terms, library, options);
  est.model = args.model;
  est.library = args.library;
  est.data = spec;
  est.seed = args.seed;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json doc = est.to_json();
  doc["split"] = "train";
  doc["estimate_seconds"] = seconds;
  doc["load_seconds"] = load_seconds;
  if (!args.terms_out.empty()) {
    if (dist::is_root()) estimate::to_terms_file(terms, args.model, est.hessian).save(args.terms_out);
    doc["terms"] = args.terms_out;
  }
  est.validate(args.out);
  if (dist::is_root()) write_file_atomic(args.out, doc.dump(1) + "\n");  // data-parallel: rank 0 writes
  size_t pairs = 0;
  for (const auto& l : est.layers) pairs += l.candidates.size();
  if (args.json) {
    print_json({{"out", args.out}, {"layers", est.layers.size()}, {"pairs", pairs}, {"samples", est.samples},
                {"hessian", est.hessian}, {"bias_correction", est.bias_correction},
                {"first_order", est.first_order}, {"temperature", est.temperature},
                {"estimate_seconds", seconds}, {"load_seconds", load_seconds}});
  } else {
    fmt::print("{}: {} layers x AppMuls = {} predictions from {} training samples ({}{}{}), {:.1f} s (+ {:.1f} s loading)\n",
               args.out, est.layers.size(), pairs, est.samples, est.hessian,
               est.bias_correction ? ", bias-corrected" : "",
               est.first_order ? "" : ", curvature term only", seconds, load_seconds);
  }
}

void setup_estimate(CLI::App& root) {
  auto args = std::make_shared<EstimateArgs>();
  auto* cmd = root.add_subcommand("estimate", "Predict each layer's loss change for every compatible AppMul (FAMES stage 1)");
  cmd->footer("Example: fames estimate --model models/resnet20-cifar10-mp.pt --lib lib/ --data cifar10:/tmp/cifar10 --out est.json\n"
              "Samples are drawn from the TRAINING split. Hessian: gn (exact Gauss-Newton), gnK (GN over each sample's\n"
              "K most probable classes, e.g. gn3), mc (Monte-Carlo GN), fisher (empirical Fisher), first (first-order only).\n"
              "--bias-correction predicts the loss change after each layer subtracts its AppMul's mean error per output\n"
              "channel (as 'fames calibrate' and 'fames validate --bias-correction' apply it). --no-first-order drops\n"
              "g'e and keeps 1/2 e'He, which 'fames run' selects on by default. See docs/estimator.md.");
  cmd->add_option("--model", args->model, "Quantized model checkpoint")->required();
  cmd->add_option("--lib", args->library, "AppMul library folder")->required();
  cmd->add_option("--data", args->data, "Dataset (default: the model's); the training split is used");
  cmd->add_option("--samples", args->samples, "Training samples")->capture_default_str()->check(positive());
  cmd->add_option("--batch", args->batch, "Batch size")->capture_default_str()->check(positive());
  cmd->add_option("--hessian", args->hessian, "gn, gnK (e.g. gn3), mc, fisher or first")->capture_default_str();
  cmd->add_flag("--bias-correction", args->bias_correction,
                "Predict the loss change after per-channel bias correction of each layer's mean AppMul error");
  cmd->add_flag("--no-first-order", args->no_first_order,
                "Predict from the curvature term alone (1/2 e'He): the sampled first-order term is noise on a trained model, and selection would pick the AppMuls whose noise is most negative");
  cmd->add_option("--seed", args->seed, "Seed for the sample subset")->capture_default_str();
  cmd->add_option("--temperature", args->temperature, "Predict changes of the loss of the logits divided by this (e.g. the temperature fames validate fits)")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--out", args->out, "Where to write est.json")->required();
  cmd->add_option("--terms-out", args->terms_out,
                  "Also write every layer's g and H (layer terms file, for fames lib tailor)");
  cmd->add_flag("--json", args->json, "Print a JSON summary");
  cmd->callback([args] { run_estimate(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("estimate", fames::cli::setup_estimate);
