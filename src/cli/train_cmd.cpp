// fames train: trains a zoo architecture (float, or quantization-aware at given bits), resumable.
#include <torch/torch.h>

#include "cli/command.h"
#include "cli/common.h"
#include "dist/process_group.h"
#include "models/checkpoint.h"
#include "models/trainer.h"
#include "quant/bits.h"
#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::cli {
namespace {

struct TrainArgs {
  models::ModelSpec spec;
  DataOptions data;
  models::TrainOptions train;
  std::string out, init, bits;
  bool float_mode = false;
};

void run_train(const TrainArgs& args) {
  Dataset data = load_training_data(args.data, "train");
  models::ModelSpec spec = args.spec;
  std::shared_ptr<torch::nn::Module> model;
  nlohmann::json meta;
  if (!args.init.empty()) {
    auto loaded = models::load_model(args.init);
    model = loaded.module;
    spec = loaded.spec;
    meta = loaded.meta;
  } else {
    spec.in_channels = data.channels;
    spec.image_size = data.height;
    spec.num_classes = static_cast<int64_t>(data.classes.size());
    model = models::build_model(spec);
  }
  if (spec.in_channels != data.channels || spec.image_size != data.height)
    fail("--data images are {}x{}x{} but the model expects {}x{}x{}", data.channels, data.height, data.width,
         spec.in_channels, spec.image_size, spec.image_size);
  if (spec.num_classes != static_cast<int64_t>(data.classes.size()))
    fail("--data has {} classes but the --init model has {}", data.classes.size(), spec.num_classes);
  meta["classes"] = data.classes;  // lets --classes-by-name match other datasets to the model
  for (auto& [name, layer] : quant::quant_layers(*model)) layer->set_quantized(!args.float_mode);
  if (!args.bits.empty()) quant::apply_bits(*model, args.bits);
  models::TrainOptions options = args.train;
  options.resume_path = args.out + ".resume";
  models::train(*model, data, options, [&](int epoch, double loss, double acc) {
    meta["train"] = {{"epochs_done", epoch}, {"loss", loss}, {"train_top1", acc}};
  });
  meta["validation"] = validation_record(data);
  meta["dataset"] = args.data.spec.empty() ? std::string(kDefaultDatasetSpec) : args.data.spec;
  meta["train_options"] = {{"epochs", options.epochs}, {"batch", options.batch_size}, {"lr", options.lr},
                           {"weight_decay", options.weight_decay}, {"seed", options.seed}};
  if (dist::is_root()) {  // data-parallel: rank 0 writes
    models::save_model(args.out, *model, spec, meta);
    std::remove(options.resume_path.c_str());
  }
  fmt::print("saved {}\n", args.out);
}

void setup_train(CLI::App& root) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = root.add_subcommand("train", "Train a zoo model (float or quantization-aware), resumable");
  cmd->footer("Example: fames train --arch resnet20 --data cifar10:/tmp/cifar10 --epochs 60 --float --out fp.pt\n"
              "After an interruption, the same command continues from the last finished epoch (OUT.resume).");
  cmd->add_option("--arch", args->spec.arch, "Architecture: resnet20, resnet18, vgg19, squeezenet, lenet5")
      ->capture_default_str();
  cmd->add_option("--width", args->spec.width, "Channel width multiplier (vgg19, resnet18, squeezenet)")
      ->capture_default_str()
      ->check(in_range(0.01, 2));
  cmd->add_option("--init", args->init, "Start from this checkpoint instead of random weights");
  cmd->add_option("--bits", args->bits, "Bits: one number for every layer (e.g. 8), or a JSON file {layer: [bw, ba]}");
  cmd->add_flag("--float", args->float_mode, "Train in full precision (quantization off)");
  add_training_options(*cmd, args->train, "");
  cmd->add_option("--warmup", args->train.warmup_epochs, "Warm-up epochs")->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--out", args->out, "Where to write the trained checkpoint")->required();
  add_data_options(*cmd, args->data, "train");
  cmd->callback([args] {
    TrainArgs a = *args;
    a.train.seed = a.data.seed;
    run_train(a);
  });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("train", fames::cli::setup_train);
