// fames quantize: mixed-precision bit allocation (Hessian-aware, CBC) plus quantization-aware training.
#include <torch/torch.h>

#include "cli/command.h"
#include "cli/common.h"
#include "dist/process_group.h"
#include "models/batches.h"
#include "models/checkpoint.h"
#include "models/trainer.h"
#include "models/bit_allocation.h"
#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::cli {
namespace {

struct QuantizeArgs {
  std::string model, out, bits_file;
  std::string weights;  // "symmetric", "asymmetric", or empty: the model's (symmetric unless it says)
  models::AllocationOptions allocation;
  models::TrainOptions train;
  DataOptions data;
  bool json = false;
};

// --weights asymmetric gives every layer zero-point weights (w<b>u signatures); symmetric keeps a
// symmetric model as it is, and cannot undo an asymmetric one.
void apply_weight_mode(torch::nn::Module& model, const std::string& mode, const std::string& model_path) {
  for (auto& [name, layer] : quant::quant_layers(model)) {
    if (mode == "asymmetric") layer->set_asymmetric_weights();
    if (mode == "symmetric" && layer->asymmetric_weights())
      fail("--weights symmetric: layer {} of '{}' has asymmetric weights; quantize its float parent instead", name,
           model_path);
  }
}

void run_quantize(QuantizeArgs args) {
  auto loaded = models::load_model(args.model);
  Dataset data = load_training_data(args.data, "quantize", loaded.meta.value("dataset", std::string()));
  models::match_dataset_classes(data, loaded, "--data", args.data.classes_by_name);
  auto& model = *loaded.module;
  apply_weight_mode(model, args.weights, args.model);
  nlohmann::json meta = loaded.meta;
  nlohmann::json allocation_json;
  const std::string resume = args.out + ".resume";
  if (!args.bits_file.empty()) {
    quant::apply_bits(model, args.bits_file);
    allocation_json = {{"source", args.bits_file}};
  } else if (file_exists(resume) && file_exists(args.out + ".bits.json")) {
    // Resuming: the allocation was made before the interruption; reuse it.
    quant::apply_bits(model, args.out + ".bits.json");
    allocation_json = {{"source", args.out + ".bits.json"}};
  } else {
    args.allocation.seed = args.data.seed;
    const auto allocation = models::allocate_bits(model, data, args.allocation);
    nlohmann::json layers = nlohmann::json::array(), bits = nlohmann::json::object();
    for (const auto& s : allocation.layers) {
      const auto b = allocation.bits.at(s.name);
      layers.push_back({{"name", s.name}, {"macs", s.macs}, {"trace_per_weight", s.trace_per_weight},
                        {"perturbation", s.perturbation}, {"bits", b.first}});
      bits[s.name] = {b.first, b.second};
    }
    allocation_json = {{"avg_bits_bound", args.allocation.avg_bits}, {"avg_bits", allocation.avg_bits},
                       {"seconds", allocation.seconds}, {"layers", layers}};
    if (dist::is_root()) write_file_atomic(args.out + ".bits.json", bits.dump(2) + "\n");
    fmt::print(stderr, "bit allocation: average {:.3f} bits (bound {}), {:.1f} s; written to {}\n",
               allocation.avg_bits, args.allocation.avg_bits, allocation.seconds, args.out + ".bits.json");
  }
  for (auto& [name, layer] : quant::quant_layers(model)) layer->set_quantized(true);
  {
    // Initialise every clipping value on one deterministic training batch before QAT starts.
    torch::NoGradGuard no_grad;
    model.eval();
    models::run_model(model, models::make_batch(data, 0, std::min<int64_t>(256, data.size())).images);
  }
  args.train.resume_path = resume;
  args.train.seed = args.data.seed;
  args.train.label = "qat";
  models::train(model, data, args.train);
  const bool asymmetric = quant::quant_layers(model).front().second->asymmetric_weights();
  meta["quantize"] = {{"from", args.model}, {"allocation", allocation_json},
                      {"weights", asymmetric ? "asymmetric" : "symmetric"},
                      {"qat", {{"epochs", args.train.epochs}, {"lr", args.train.lr}, {"batch", args.train.batch_size}}}};
  meta["avg_bits"] = models::weighted_average_bits(model);
  // The validation images are unseen only if the parent never trained on them either.
  meta["validation"] = validation_record(data);
  if (loaded.meta.value("validation", nlohmann::json()) != meta["validation"]) meta["validation"]["images"] = 0;
  if (dist::is_root()) {  // data-parallel: rank 0 writes
    models::save_model(args.out, model, loaded.spec, meta);
    std::remove(resume.c_str());
  }
  if (args.json) print_json({{"out", args.out}, {"avg_bits", meta["avg_bits"]}, {"layers", models::layer_table(model)}});
  else fmt::print("saved {} (weighted average {:.3f} bits)\n", args.out, meta["avg_bits"].get<double>());
}

void setup_quantize(CLI::App& root) {
  auto args = std::make_shared<QuantizeArgs>();
  args->train.epochs = 10;
  args->train.lr = 0.01;
  auto* cmd = root.add_subcommand("quantize", "Allocate per-layer bits (Hessian-aware ILP) and run quantization-aware training");
  cmd->footer("Example: fames quantize --model fp.pt --data cifar10:/tmp/cifar10 --avg-bits 4 --epochs 15 --out mp.pt\n"
              "Bits: bw = ba = b per layer, b in [min, max], multiplication-weighted average <= --avg-bits.\n"
              "Writes OUT.bits.json (the allocation) beside OUT; resumable like 'fames train'.");
  cmd->add_option("--model", args->model, "Pretrained (float or quantized) checkpoint")->required();
  cmd->add_option("--out", args->out, "Where to write the quantized checkpoint")->required();
  cmd->add_option("--avg-bits", args->allocation.avg_bits, "Bound on the multiplication-weighted average bits")
      ->capture_default_str()
      ->check(in_range(2, 8));
  cmd->add_option("--min-bits", args->allocation.min_bits, "Smallest bitwidth")->capture_default_str()->check(in_range(2, 8));
  cmd->add_option("--max-bits", args->allocation.max_bits, "Largest bitwidth")->capture_default_str()->check(in_range(2, 8));
  cmd->add_option("--bits", args->bits_file, "Take the bits from this JSON file instead of allocating");
  cmd->add_option("--weights", args->weights,
                  "Weight quantization: symmetric (signed codes) or asymmetric (unsigned codes with a zero point "
                  "per output channel, for unsigned multipliers such as mul8u); default: the model's (symmetric)")
      ->check(CLI::IsMember({"symmetric", "asymmetric"}));
  cmd->add_option("--probes", args->allocation.hutchinson_samples, "Hutchinson probes per batch")->capture_default_str()
      ->check(positive());
  add_training_options(*cmd, args->train, "QAT");
  cmd->add_flag("--json", args->json, "Print a JSON summary");
  add_data_options(*cmd, args->data, "train");
  cmd->callback([args] { run_quantize(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("quantize", fames::cli::setup_quantize);
