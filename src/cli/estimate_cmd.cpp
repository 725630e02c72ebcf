// fames estimate: predicted loss change for every (layer, compatible AppMul), from training samples.
#include <torch/torch.h>

#include <chrono>

#include "cli/command.h"
#include "cli/common.h"
#include "estimate/estimator.h"
#include "models/checkpoint.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::cli {
namespace {

struct EstimateArgs {
  std::string model, library, data, out, hessian = "fisher";
  int64_t samples = 256, batch = 32;
  uint64_t seed = 1;
  bool json = false;
};

void run_estimate(const EstimateArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  auto loaded = models::load_model(args.model);
  const Library library = Library::load(args.library);
  const std::string spec = args.data.empty() ? loaded.meta.value("dataset", std::string(kDefaultDatasetSpec)) : args.data;
  // Samples come from the training split only: the test split is for final accuracy.
  const Dataset samples = subset(load_dataset(spec, Split::kTrain), args.samples, args.seed);
  estimate::EstimateOptions options;
  options.hessian = estimate::parse_hessian(args.hessian);
  options.batch_size = args.batch;
  options.seed = args.seed;
  const auto terms = estimate::compute_terms(*loaded.module, samples, options);
  Estimate est = estimate::assemble_estimate(terms, library);
  est.model = args.model;
  est.library = args.library;
  est.hessian = estimate::hessian_name(options.hessian);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json doc = est.to_json();
  doc["data"] = spec;
  doc["split"] = "train";
  doc["seed"] = args.seed;
  doc["estimate_seconds"] = seconds;
  est.validate(args.out);
  write_file_atomic(args.out, doc.dump(1) + "\n");
  size_t pairs = 0;
  for (const auto& l : est.layers) pairs += l.candidates.size();
  if (args.json) {
    print_json({{"out", args.out}, {"layers", est.layers.size()}, {"pairs", pairs}, {"samples", est.samples},
                {"hessian", est.hessian}, {"estimate_seconds", seconds}});
  } else {
    fmt::print("{}: {} layers x AppMuls = {} predictions from {} training samples ({}), {:.1f} s\n", args.out,
               est.layers.size(), pairs, est.samples, est.hessian, seconds);
  }
}

void setup_estimate(CLI::App& root) {
  auto args = std::make_shared<EstimateArgs>();
  auto* cmd = root.add_subcommand("estimate", "Predict each layer's loss change for every compatible AppMul (FAMES stage 1)");
  cmd->footer("Example: fames estimate --model models/resnet20-cifar10-mp.pt --lib lib/ --data cifar10:/tmp/cifar10 --out est.json\n"
              "Samples are drawn from the TRAINING split. Hessian: gn (exact Gauss-Newton), mc (Monte-Carlo GN),\n"
              "fisher (empirical Fisher), first (first-order only).");
  cmd->add_option("--model", args->model, "Quantized model checkpoint")->required();
  cmd->add_option("--lib", args->library, "AppMul library folder")->required();
  cmd->add_option("--data", args->data, "Dataset (default: the model's); the training split is used");
  cmd->add_option("--samples", args->samples, "Training samples")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--batch", args->batch, "Batch size")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--hessian", args->hessian, "gn, mc, fisher or first")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed for the sample subset")->capture_default_str();
  cmd->add_option("--out", args->out, "Where to write est.json")->required();
  cmd->add_flag("--json", args->json, "Print a JSON summary");
  cmd->callback([args] { run_estimate(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("estimate", fames::cli::setup_estimate);
