// fames validate: measured vs predicted loss change (ranking fidelity and additivity).
#include <torch/torch.h>

#include <chrono>

#include "cli/command.h"
#include "cli/common.h"
#include "estimate/validate.h"
#include "models/checkpoint.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::cli {
namespace {

struct ValidateArgs {
  std::string est, pairs = "all", out;
  std::vector<std::string> configs;
  bool json = false;
};

void run_validate(const ValidateArgs& args) {
  const nlohmann::json doc = nlohmann::json::parse(read_file(args.est), nullptr, false);
  if (doc.is_discarded()) fail("'{}' is not valid JSON", args.est);
  Estimate est = Estimate::from_json(doc, args.est);  // one read serves the estimate and its extras
  est.validate(args.est);
  int64_t max_pairs = 0;
  if (args.pairs != "all") {
    try {
      max_pairs = std::stoll(args.pairs);
    } catch (...) {
      fail("--pairs must be 'all' or a number, got '{}'", args.pairs);
    }
  }
  auto loaded = models::load_model(est.model);
  const Library library = Library::load(est.library);
  const Dataset samples = subset(load_dataset(doc.value("data", std::string(kDefaultDatasetSpec)), Split::kTrain),
                                 est.samples, doc.value("seed", uint64_t{1}));
  const auto result = estimate::validate_single_layer(*loaded.module, est, library, samples, max_pairs, 1);
  const auto configs = estimate::validate_configs(*loaded.module, est, library, samples, args.configs);
  const double estimate_seconds = doc.value("estimate_seconds", 0.0);
  nlohmann::json out = {{"spearman", result.spearman},
                        {"kendall", result.kendall},
                        {"pairs", result.pairs.size()},
                        {"samples", samples.size()},
                        {"hessian", est.hessian},
                        {"base_loss", result.base_loss},
                        {"estimate_seconds", estimate_seconds},
                        {"measure_seconds", result.measure_seconds},
                        {"measure_over_estimate", estimate_seconds > 0 ? result.measure_seconds / estimate_seconds : 0.0}};
  nlohmann::json per_layer = nlohmann::json::array(), pairs = nlohmann::json::array(), cfg = nlohmann::json::array();
  for (const auto& l : result.per_layer)
    per_layer.push_back({{"layer", l.layer}, {"pairs", l.pairs}, {"spearman", l.spearman}, {"kendall", l.kendall}});
  for (const auto& p : result.pairs)
    pairs.push_back({{"layer", p.layer}, {"appmul", p.appmul}, {"predicted", p.predicted}, {"measured", p.measured}});
  for (const auto& c : configs) cfg.push_back({{"config", c.name}, {"predicted", c.predicted}, {"measured", c.measured}});
  out["per_layer"] = per_layer;
  out["configs"] = cfg;
  if (!args.out.empty()) {
    nlohmann::json full = out;
    full["pair_results"] = pairs;
    write_file_atomic(args.out, full.dump(1) + "\n");
  }
  if (args.json) {
    print_json(out);
    return;
  }
  fmt::print("{} pairs on {} training samples: Spearman {:.4f}  Kendall {:.4f}\n", result.pairs.size(), samples.size(),
             result.spearman, result.kendall);
  fmt::print("estimate {:.1f} s, measure {:.1f} s (ratio {:.1f}x)\n", estimate_seconds, result.measure_seconds,
             estimate_seconds > 0 ? result.measure_seconds / estimate_seconds : 0.0);
  for (const auto& l : result.per_layer)
    fmt::print("  {:<24} {:3} pairs  Spearman {:7.4f}  Kendall {:7.4f}\n", l.layer, l.pairs, l.spearman, l.kendall);
  for (const auto& c : configs)
    fmt::print("  config {}: predicted {:.5f}  measured {:.5f}\n", c.name, c.predicted, c.measured);
}

void setup_validate(CLI::App& root) {
  auto args = std::make_shared<ValidateArgs>();
  auto* cmd = root.add_subcommand("validate", "Measure true loss changes by emulation and compare with an estimate");
  cmd->footer("Example: fames validate --est est.json --pairs all --configs a30.json a40.json --json\n"
              "Uses the model, library, data and samples recorded in est.json (training split).");
  cmd->add_option("--est", args->est, "est.json from 'fames estimate'")->required()->check(CLI::ExistingFile);
  cmd->add_option("--pairs", args->pairs, "'all' or the number of single-layer pairs to measure")->capture_default_str();
  cmd->add_option("--configs", args->configs, "Assignment files to test additivity on");
  cmd->add_option("--out", args->out, "Also write every pair's predicted and measured value to this JSON file");
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->callback([args] { run_validate(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("validate", fames::cli::setup_validate);
