// fames lib histogram: counts a model's (weight code, activation code) pairs per signature on
// training images and writes an operand histogram file (core/operand_histogram.h), for
// `fames lib build --histogram`.
#include <torch/torch.h>

#include <fmt/core.h>

#include "cli/command.h"
#include "cli/common.h"
#include "measure/operand_counts.h"
#include "models/checkpoint.h"

namespace fames::cli {
namespace {

struct LibHistogramArgs {
  std::string model, data, out;
  int64_t samples = 1000, batch = 128;
  uint64_t seed = 1;
  bool json = false;
};

void run_lib_histogram(const LibHistogramArgs& args) {
  auto loaded = models::load_model(args.model);
  const std::string spec =
      args.data.empty() ? loaded.meta.value("dataset", std::string(kDefaultDatasetSpec)) : args.data;
  // The operand statistics must not see the test split, which is for final accuracy only.
  const Dataset images = subset(load_dataset(spec, Split::kTrain), args.samples, args.seed);
  models::check_dataset_fits(images, loaded, "--data");
  OperandHistograms hist = measure::model_operand_histograms(*loaded.module, images, args.batch);
  hist.source["model"] = args.model;
  hist.source["data"] = spec;
  hist.source["split"] = "train";
  hist.source["images"] = images.size();
  hist.source["seed"] = args.seed;
  hist.save(args.out);
  const size_t layers = hist.source["layers"].size();
  if (args.json) {
    std::vector<std::string> keys;
    for (const Signature& s : hist.signatures()) keys.push_back(s.key());
    print_json({{"out", args.out}, {"signatures", keys}, {"layers", layers}, {"images", images.size()}});
  } else {
    fmt::print("{}: operand histograms of {} signatures from {} layers, {} training images\n", args.out,
               hist.signatures().size(), layers, images.size());
  }
}

void setup_lib_histogram(CLI::App& root) {
  auto args = std::make_shared<LibHistogramArgs>();
  CLI::App& group =
      command_group(root, "lib", "Build, inspect, import and export AppMul libraries");
  auto* cmd = group.add_subcommand(
      "histogram", "Count a model's (weight code, activation code) pairs per signature (for lib build --histogram)");
  cmd->footer(
      "Example: fames lib histogram --model models/resnet20-cifar10-mp.pt --data cifar10:/tmp/c10/cifar10 "
      "--out r20.hist.json\n"
      "Images come from the TRAINING split; the model runs its exact quantized forward. Layers of one\n"
      "signature are summed, so each weighs by its multiplications. Format: docs/appmul-library.md.");
  cmd->add_option("--model", args->model, "Quantized model checkpoint")->required();
  cmd->add_option("--data", args->data, "Dataset (default: the model's); the training split is used");
  cmd->add_option("--samples", args->samples, "Training images counted")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--batch", args->batch, "Batch size")->capture_default_str()->check(positive());
  cmd->add_option("--seed", args->seed, "Seed for the image subset")->capture_default_str();
  cmd->add_option("--out", args->out, "Histogram file to write (JSON)")->required();
  cmd->add_flag("--json", args->json, "Print a JSON summary");
  cmd->callback([args] { run_lib_histogram(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("lib histogram", fames::cli::setup_lib_histogram);
