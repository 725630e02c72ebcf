// fames calibrate: recovers accuracy after AppMul substitution by tuning only the clipping values
// (plus optional BN re-estimation and AppMul bias correction) on training images, with early
// stopping on validation images. The output pairs with its assignment:
//   fames eval --model OUT --assign ASSIGN
#include <torch/torch.h>

#include "calibrate/calibrate.h"
#include "cli/command.h"
#include "cli/common.h"
#include "dist/process_group.h"
#include "models/checkpoint.h"
#include "measure/assigned_model.h"
#include "util/error.h"

namespace fames::cli {
namespace {

struct CalibrateArgs {
  std::string model, assign, out, data;
  int64_t samples = 4096, holdout = 0;
  uint64_t seed = 1;
  bool no_bn = false, no_clip = false, json = false;
  calibrate::CalibrateOptions options;
};

void run_calibrate(CalibrateArgs args) {
  if (args.out.empty()) fail("--out is required (the calibrated model to write)");
  auto loaded = models::load_model(args.model);
  auto& model = *loaded.module;
  const Assignment assignment = Assignment::load(args.assign);
  // The calibrated model is saved with the assignment's AppMuls in it (their corrections included).
  measure::AssignedModel assigned(model, assignment, Library::load(assignment.library),
                                  measure::Corrections::kClear);
  const CalibrationData data =
      load_calibration_data(args.data, loaded.meta.value("dataset", std::string()), args.samples,
                            args.holdout, args.seed);
  models::check_dataset_fits(data.tune, loaded, "--data");
  args.options.bn = !args.no_bn;
  args.options.clip = !args.no_clip;
  args.options.seed = args.seed;
  const auto report = calibrate::calibrate(model, data.tune, data.holdout, args.options);

  nlohmann::json meta = loaded.meta;
  meta["calibration"] = report.to_json();
  meta["calibration"]["assignment"] = args.assign;
  meta["calibration"]["from"] = args.model;
  meta["calibration"]["options"] = {{"bn", args.options.bn},
                                    {"clip", args.options.clip},
                                    {"bias_correction", args.options.bias_correction},
                                    {"weights", args.options.weights},
                                    {"calibrate_on", args.options.keep_on_top1 ? "top1" : "loss"},
                                    {"epochs", args.options.epochs},
                                    {"patience", args.options.patience},
                                    {"lr", args.options.lr},
                                    {"weights_lr", args.options.weights_lr},
                                    {"samples", data.tune.size()},
                                    {"holdout", data.holdout.size()}};
  if (dist::is_root()) models::save_model(args.out, model, loaded.spec, meta);  // data-parallel: rank 0 writes
  if (args.json) {
    nlohmann::json out = report.to_json();
    out["out"] = args.out;
    print_json(out);
  } else {
    fmt::print("{} top-1 {:.2f}% -> {:.2f}% (loss {:.4f} -> {:.4f}) in {:.1f} s; wrote {}\n",
               data.judged_on == "val" ? "validation" : "held-out", 100 * report.holdout_top1_before,
               100 * report.holdout_top1_after,
               report.holdout_loss_before, report.holdout_loss_after, report.seconds, args.out);
    fmt::print("evaluate with: fames eval --model {} --assign {}\n", args.out, args.assign);
  }
}

void setup_calibrate(CLI::App& root) {
  auto args = std::make_shared<CalibrateArgs>();
  auto* cmd = root.add_subcommand(
      "calibrate", "Tune clipping values (and BN, bias) with the assigned AppMuls in the loop");
  cmd->footer(
      "Tunes on --samples training images; --holdout validation images decide every step (a step\n"
      "that does not lower their loss is undone).\n"
      "Example: fames calibrate --model models/lenet5-fmnist-mp.pt --assign assign.json --out "
      "cal.pt");
  cmd->add_option("--model", args->model, "Model checkpoint")->required();
  cmd->add_option("--assign", args->assign, "Assignment JSON (from fames select)")->required();
  cmd->add_option("--out", args->out, "Calibrated model to write")->required();
  cmd->add_option("--data", args->data,
                  "Dataset (default: the model's own): " + dataset_spec_help());
  cmd->add_option("--samples", args->samples, "Training images to tune on (0: the whole training split)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--holdout", args->holdout, holdout_help("decide every step (early stopping)"))
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--seed", args->seed, "Seed for the image subsets and shuffling")
      ->capture_default_str();
  cmd->add_option("--epochs", args->options.epochs, "Clipping-tuning epochs, at most")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--lr", args->options.lr, "Adam learning rate for the clipping values, relative to each clip tensor's mean magnitude")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--patience", args->options.patience, "Epochs without validation improvement before tuning stops")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--weights-lr", args->options.weights_lr,
                  "With --weights: the same for the weights, biases and BN affine (relative to each tensor's mean magnitude)")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--batch", args->options.batch_size, "Batch size")
      ->capture_default_str()
      ->check(positive());
  cmd->add_flag("--no-bn", args->no_bn, "Skip BN re-estimation");
  cmd->add_flag("--no-clip", args->no_clip, "Skip clipping tuning");
  cmd->add_flag("--bias-correction", args->options.bias_correction,
                "Subtract each AppMul's mean per-channel error");
  cmd->add_flag("--weights", args->options.weights,
                "Also fine-tune weights, biases and BN affine with the AppMuls in the loop "
                "(approximation-aware training, beyond METHOD.md §4)");
  add_calibrate_on(cmd, args->options.keep_on_top1);
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->callback([args] { run_calibrate(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("calibrate", fames::cli::setup_calibrate);
