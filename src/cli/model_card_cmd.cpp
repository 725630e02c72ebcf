// fames model-card: evaluates a zoo model on the full test split and writes its card (JSON).
#include <torch/torch.h>

#include <fmt/core.h>

#include "cli/command.h"
#include "cli/common.h"
#include "models/checkpoint.h"
#include "models/trainer.h"
#include "util/files.h"

namespace fames::cli {
namespace {

struct CardArgs {
  std::string model, name, data, reproduce, out;
};

void run_card(const CardArgs& args) {
  auto loaded = models::load_model(args.model);
  const std::string spec = args.data.empty() ? loaded.meta.value("dataset", std::string(kDefaultDatasetSpec)) : args.data;
  const Dataset test = load_dataset(spec, Split::kTest);
  const auto result = models::evaluate(*loaded.module, test);
  models::check_dataset_fits(test, loaded, "--data");
  // The dataset recorded on the card is the kind, not this machine's folder.
  const std::string kind = spec.substr(0, spec.find(':'));
  nlohmann::json card = {{"name", args.name},
                         {"arch", loaded.spec.arch},
                         {"dataset", kind},
                         {"file", args.name + ".pt"},
                         {"top1", result.top1},
                         {"test_loss", result.loss},
                         {"test_samples", result.samples},
                         {"avg_bits", models::weighted_average_bits(*loaded.module)},
                         {"validation_images_unseen", validation_images_unseen(loaded.meta)},
                         {"layers", models::layer_table(*loaded.module)},
                         {"reproduce", args.reproduce},
                         {"measured_by", "fames eval --model models/" + args.name + ".pt --data " + kind +
                                             (kind == spec ? "" : ":<dir>") + " --split test"}};
  const std::string out = args.out.empty() ? "models/" + args.name + ".json" : args.out;
  write_file_atomic(out, card.dump(2) + "\n");
  fmt::print("{}: top-1 {:.2f}% on {} test images, {:.2f} average bits -> {}\n", args.name, 100 * result.top1,
             result.samples, card["avg_bits"].get<double>(), out);
}

void setup_card(CLI::App& root) {
  auto args = std::make_shared<CardArgs>();
  auto* cmd = root.add_subcommand("model-card", "Evaluate a zoo model on the full test split and write its card");
  cmd->add_option("--model", args->model, "Checkpoint")->required();
  cmd->add_option("--name", args->name, "Zoo name (card file models/NAME.json)")->required();
  cmd->add_option("--data", args->data, "Dataset (default: the model's)");
  cmd->add_option("--reproduce", args->reproduce, "The command(s) that rebuild the model")->required();
  cmd->add_option("--out", args->out, "Card path (default models/NAME.json)");
  cmd->callback([args] { run_card(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("model-card", fames::cli::setup_card);
