// fames eval: top-1 and loss of a model on a dataset split, exact or with assigned AppMuls; with
// --baseline, also its top-1 change against another model on the same images, with that change's
// paired standard error.
#include <torch/torch.h>

#include <optional>

#include "cli/command.h"
#include "cli/common.h"
#include "models/checkpoint.h"
#include "models/trainer.h"
#include "measure/assigned_model.h"
#include "util/error.h"

namespace fames::cli {
namespace {

struct EvalArgs {
  std::string model, assign, baseline;
  DataOptions data;
  int64_t batch = 256;
  bool json = false;
};

// A model as `fames eval` measures it: with the AppMuls `assign` names, else those it records.
struct Measured {
  models::LoadedModel loaded;
  std::optional<measure::AssignedModel> assigned;
};

void apply_assignment(Measured& m, const std::string& path, const std::string& assign) {
  // Without its AppMuls a calibrated model reads low (the 4-bit ResNet-20 calibrated at 30%: 81.23%
  // test instead of 85.07%).
  if (const std::string file = assignment_for(path, m.loaded.meta, assign, "evaluating"); !file.empty()) {
    const Assignment assignment = Assignment::load(file);
    m.assigned.emplace(*m.loaded.module, assignment, Library::load(assignment.library));
  }
}

void run_eval(const EvalArgs& args) {
  Measured measured{models::load_model(args.model), std::nullopt};
  models::LoadedModel& loaded = measured.loaded;
  Dataset data = load_data(args.data, loaded.meta.value("dataset", std::string()));
  models::match_dataset_classes(data, loaded, "--data", args.data.classes_by_name);
  if (parse_split(args.data.split) == Split::kVal && args.data.limit == 0) note_if_validation_seen(loaded.meta, data, args.model);
  apply_assignment(measured, args.model, args.assign);
  std::optional<Measured> baseline;
  if (!args.baseline.empty()) {
    baseline.emplace();  // in place: an AssignedModel does not move
    baseline->loaded = models::load_model(args.baseline);
    if (!baseline->loaded.classes.empty() && !loaded.classes.empty() && baseline->loaded.classes != loaded.classes)
      fail("--baseline {}: its classes are not those of --model {} (or not in the same order)", args.baseline,
           args.model);
    models::match_dataset_classes(data, baseline->loaded, "--data", false);
    apply_assignment(*baseline, args.baseline, "");
  }
  const auto result = models::evaluate(*loaded.module, data, args.batch);
  std::optional<models::EvalResult> base;
  std::optional<models::PairedTop1Difference> change;
  if (baseline) {
    base = models::evaluate(*baseline->loaded.module, data, args.batch, "baseline");
    change = models::paired_top1_difference(*base, result);
  }
  if (args.json) {
    nlohmann::json out = {{"model", args.model},
                          {"top1", result.top1},
                          {"loss", result.loss},
                          {"samples", result.samples},
                          {"split", args.data.split},
                          {"avg_bits", models::weighted_average_bits(*loaded.module)}};
    if (change)
      out["baseline"] = {{"model", args.baseline},
                         {"top1", base->top1},
                         {"top1_change", change->difference},
                         {"top1_change_standard_error", change->standard_error},
                         {"only_baseline_right", change->only_base},
                         {"only_model_right", change->only_other}};
    print_json(out);
  } else {
    fmt::print("{}: top-1 {:.2f}%  loss {:.4f}  on {} {} images\n", args.model, 100 * result.top1, result.loss,
               result.samples, args.data.split);
    if (change)
      fmt::print("against {}: top-1 {:.2f}% -> {:.2f}% ({:+.2f} points, paired standard error {:.2f}; {} images "
                 "right only before, {} only after)\n",
                 args.baseline, 100 * base->top1, 100 * result.top1, 100 * change->difference,
                 100 * change->standard_error, change->only_base, change->only_other);
  }
}

void setup_eval(CLI::App& root) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = root.add_subcommand("eval", "Evaluate a model's top-1 accuracy and loss");
  cmd->footer("Example: fames eval --model models/lenet5-fmnist-mp.pt --json");
  cmd->add_option("--model", args->model, "Model checkpoint")->required();
  cmd->add_option("--assign", args->assign,
                  "Assignment JSON {library, layers: {layer: appmul}} to emulate (default: the one a calibrated model "
                  "records; none: exact multipliers)");
  cmd->add_option("--baseline", args->baseline,
                  "A second model (as a rule the exact one) measured on the same images: prints the top-1 change "
                  "from it to --model and that change's paired standard error")
      ->check(CLI::ExistingFile);
  cmd->add_option("--batch", args->batch, "Batch size")->capture_default_str()
      ->check(positive());
  cmd->add_flag("--json", args->json, "Print one JSON object");
  add_data_options(*cmd, args->data, "test");
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("eval", fames::cli::setup_eval);
