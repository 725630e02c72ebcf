// fames validate: measured vs predicted loss change (ranking fidelity and additivity).
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include "cli/command.h"
#include "cli/common.h"
#include "core/json_fields.h"
#include "dist/process_group.h"
#include "estimate/validate.h"
#include "models/bit_allocation.h"
#include "quant/quant_layer.h"
#include "models/checkpoint.h"
#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"

namespace fames::cli {
namespace {

struct ValidateArgs {
  std::string est, pairs = "all", out, reuse, measure_on = "val", temperature = "fit";
  int64_t images = 0;  // 0: as many as the estimate's samples
  std::vector<std::string> configs;
  bool json = false, bias_correction = false;
};

// The "pair_results" of a `validate --out` file or its .partial: one object per pair, what
// read_pair_results reads back (`predicted` is not read: it is the estimate's).
nlohmann::json pair_results_json(const std::vector<estimate::PairResult>& pairs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : pairs)
    out.push_back({{"layer", p.layer}, {"appmul", p.appmul}, {"predicted", p.predicted}, {"measured", p.measured},
                   {"measured_se", p.measured_se}});
  return out;
}

std::vector<estimate::PairResult> read_pair_results(const detail::JsonFields& file) {
  std::vector<estimate::PairResult> pairs;
  for (size_t i = 0; i < file.array("pair_results").size(); ++i) {
    const detail::JsonFields p = file.element("pair_results", i);
    // Files written before standard errors were measured have none: no pair counts as resolved.
    pairs.push_back({p.string("layer"), p.string("appmul"), 0.0, p.number("measured"),
                     p.has("measured_se") ? p.number("measured_se") : 0.0});
  }
  return pairs;
}

// --reuse: the measured values of an earlier `validate --out` on the same model, library, samples,
// correction and temperature (`wanted`, as temperature_of gives it); only the predictions (of this
// est.json) are new. Returns the number of images the measurements were made on.
int64_t reuse_measurements(const ValidateArgs& args, const Estimate& est, bool bias_correction, double wanted,
                           estimate::ValidationResult& result, std::vector<estimate::ConfigResult>& configs) {
  const std::string where = fmt::format("--reuse '{}'", args.reuse);
  const nlohmann::json doc = detail::parse_json_file_text(read_file(args.reuse), where);
  const detail::JsonFields old(doc, where, "");
  if (!old.has("pair_results")) fail("{} is not a 'fames validate --out' file", where);
  if (old.has("bias_correction") && !old.raw("bias_correction").is_boolean())
    old.fail_here("\"bias_correction\" must be true or false");
  if ((old.has("bias_correction") && old.raw("bias_correction") == true) != bias_correction)
    fail("{} was measured {} bias correction", where, bias_correction ? "without" : "with");
  for (estimate::PairResult& p : read_pair_results(old)) {
    const EstimateLayer* l = est.find_layer(p.layer);
    const EstimateCandidate* c = l ? l->find(p.appmul) : nullptr;
    if (!c) fail("{}: layer {} with AppMul {} is not in '{}'", where, p.layer, p.appmul, args.est);
    p.predicted = c->dl;
    result.pairs.push_back(std::move(p));
  }
  const std::string old_on = old.has("measured_on") ? old.string("measured_on") : "samples";
  if (old_on != args.measure_on) fail("{} was measured on {}, not on {} (--measure-on)", where, old_on, args.measure_on);
  // Files without "corrected_on" took the correction on the measurement images themselves.
  if (bias_correction && (old.has("corrected_on") ? old.string("corrected_on") : old_on) != "samples")
    fail("{} was measured with each layer's correction taken on the validation images, not on the estimation "
         "samples; measure again",
         where);
  // Files written before temperatures were fitted measured at 1.
  const bool old_fitted = old.has("temperature_fitted") && old.raw("temperature_fitted") == true;
  result.temperature = old.has("temperature") ? old.number("temperature") : 1.0;
  if (old_fitted != (wanted == 0) || (wanted > 0 && wanted != result.temperature))
    fail("{} was measured at temperature {:.4g} ({}), not at --temperature {}", where, result.temperature,
         old_fitted ? "fitted: pass --temperature fit" : "as given: pass --temperature " + fmt::format("{:g}", result.temperature),
         args.temperature);
  result.base_loss = old.has("base_loss") ? old.number("base_loss") : 0.0;
  result.measure_seconds = old.has("measure_seconds") ? old.number("measure_seconds") : 0.0;
  estimate::score_pairs(est, result);
  for (const auto& file : args.configs) {
    std::optional<double> measured;
    for (size_t i = 0; old.has("configs") && i < old.array("configs").size() && !measured; ++i) {
      const detail::JsonFields c = old.element("configs", i);
      if (c.string("config") == file) measured = c.number("measured");
    }
    if (!measured) fail("{} has no measurement of config '{}'", where, file);
    configs.push_back({file, estimate::predicted_loss_change(est, Assignment::load(file), file), *measured});
  }
  return old.has("samples") ? old.integer("samples") : est.samples;
}

// --out F keeps F.partial while the pairs are measured: every pair measured so far, and the key
// of what they were measured on. A rerun with the same inputs takes them from it and measures only
// the rest; a key that differs (another model, library, image draw or correction) starts over.
constexpr const char* kPartialFormat = "fames-validate-partial";
constexpr double kCheckpointSeconds = 30;

struct Checkpoint {
  std::string path;  // empty: none (no --out)
  nlohmann::json key;
  std::vector<estimate::PairResult> known;
  double seconds = 0;  // measuring time of the runs before
};

// Reads `path` if it holds pairs measured on `key`; otherwise says why it is not used. Rank 0's
// file decides for every rank (data-parallel ranks must measure the same pairs).
void load_checkpoint(Checkpoint& c) {
  std::string text;
  try {
    if (dist::is_root() && file_exists(c.path)) text = read_file(c.path);
  } catch (const Error&) {
    text = "unreadable";
  }
  if (dist::active()) dist::broadcast(text);
  if (text.empty()) return;
  try {
    const nlohmann::json doc = detail::parse_json_file_text(text, c.path);
    if (!doc.is_object() || doc.value("format", "") != kPartialFormat || !doc.contains("key") ||
        doc["key"] != c.key) {
      fmt::print(stderr, "note: {} was measured on other inputs; measuring every pair again\n", c.path);
      return;
    }
    const detail::JsonFields fields(doc, c.path, "");
    c.known = read_pair_results(fields);
    c.seconds = fields.number("measure_seconds");
    fmt::print(stderr, "validate: {} pairs already measured in {}\n", c.known.size(), c.path);
  } catch (const std::exception& e) {  // fames::Error or a JSON field of the wrong type
    c.known.clear();
    fmt::print(stderr, "note: {} is unreadable ({}); measuring every pair again\n", c.path, e.what());
  }
}

void save_checkpoint(const Checkpoint& c, const std::vector<estimate::PairResult>& pairs, double seconds) {
  const nlohmann::json doc = {{"format", kPartialFormat}, {"key", c.key}, {"measure_seconds", seconds},
                              {"pair_results", pair_results_json(pairs)}};
  if (dist::is_root()) write_file_atomic(c.path, doc.dump(1) + "\n");
}

// The images the loss changes are measured on: the estimation samples themselves (where the
// sampled first-order term is real), or as many images of the validation split, which neither the
// model nor the estimate has seen (what the selection's predictions must hold on).
Dataset measurement_images(const ValidateArgs& args, const std::string& data_spec, const Dataset& samples,
                           uint64_t seed) {
  if (args.measure_on == "samples") return samples;
  return subset(load_dataset(data_spec, Split::kVal), args.images > 0 ? args.images : samples.size(), seed);
}

// Per quantized layer: its weight Hessian trace (from the estimation samples, as bit allocation
// takes it) and the squared real value of one integer product, for the controls.
std::vector<estimate::ControlLayer> control_layers(torch::nn::Module& model, const Dataset& samples, uint64_t seed) {
  models::AllocationOptions options;
  options.seed = seed;
  const auto traces = models::weight_hessian_traces(model, samples, options);
  std::vector<estimate::ControlLayer> layers;
  const auto quant_layers = quant::quant_layers(model);
  for (size_t k = 0; k < quant_layers.size(); ++k) {
    torch::NoGradGuard no_grad;
    const auto& layer = quant_layers[k].second;
    const double step_sq = (layer->weight_step() * layer->act_step()).pow(2).mean().item<double>();
    layers.push_back({quant_layers[k].first, traces[k].second, step_sq});
  }
  return layers;
}

void run_validate(const ValidateArgs& args) {
  const nlohmann::json doc = detail::parse_json_file_text(read_file(args.est), args.est);
  Estimate est = Estimate::from_json(doc, args.est);  // one read serves the estimate and its extras
  est.validate(args.est);
  const detail::JsonFields extras(doc, args.est, "");
  const uint64_t seed = est.seed;
  const double estimate_seconds = extras.has("estimate_seconds") ? extras.number("estimate_seconds") : 0.0;
  int64_t max_pairs = 0;
  if (args.pairs != "all") {
    size_t used = 0;
    try {
      max_pairs = std::stoll(args.pairs, &used);
    } catch (const std::exception&) {
    }
    if (used == 0 || used != args.pairs.size() || max_pairs < 1)
      fail("--pairs must be 'all' or a number >= 1, got '{}'", args.pairs);
  }
  const double temperature = temperature_of(args.temperature, "--temperature");
  // A bias-corrected estimate is only meaningful against corrected measurements.
  const bool bias_correction = args.bias_correction || est.bias_correction;
  if (bias_correction != est.bias_correction)
    fmt::print(stderr, "note: '{}' was estimated without --bias-correction; measuring with it\n", args.est);
  estimate::ValidationResult result;
  std::vector<estimate::ConfigResult> configs;
  int64_t sample_count = est.samples;
  // A --reuse file is checked before the model is loaded: its errors name it, whatever else is wrong.
  if (!args.reuse.empty()) sample_count = reuse_measurements(args, est, bias_correction, temperature, result, configs);
  auto loaded = models::load_model(est.model);
  const Library library = Library::load(est.library);
  // An estimate that does not say where its samples came from drew them from the model's dataset.
  const std::string data_spec =
      !est.data.empty() ? est.data : loaded.meta.value("dataset", std::string(kDefaultDatasetSpec));
  // The estimation samples (as `fames estimate` drew them): the controls' Hessian traces, and the
  // measurement images with --measure-on samples.
  const Dataset samples = subset(load_dataset(data_spec, Split::kTrain), est.samples, seed);
  models::check_dataset_fits(samples, loaded, "the dataset of --est");
  // The correction the estimate predicts for, and `fames run` applies: over training images.
  const Dataset* correct_on = bias_correction ? &samples : nullptr;
  Checkpoint checkpoint;
  if (args.reuse.empty()) {
    const Dataset images = measurement_images(args, data_spec, samples, seed);
    models::check_dataset_fits(images, loaded, "the dataset of --est");
    sample_count = images.size();
    estimate::ValidateResume resume;
    if (!args.out.empty()) {
      checkpoint.path = args.out + ".partial";
      checkpoint.key = {{"model", est.model},          {"model_hash", hash_text(hash_path(est.model))},
                        {"library", est.library},      {"library_hash", hash_text(hash_path(est.library))},
                        {"data", data_spec},           {"measured_on", args.measure_on},
                        {"images", sample_count},      {"seed", seed},
                        {"bias_correction", bias_correction}, {"corrected_on", "samples"},
                        {"temperature", args.temperature}};
      load_checkpoint(checkpoint);
      resume.known = checkpoint.known;
      const auto start = std::chrono::steady_clock::now();
      auto last = start;
      resume.on_measured = [&](const std::vector<estimate::PairResult>& so_far) {
        const auto now = std::chrono::steady_clock::now();
        if (std::chrono::duration<double>(now - last).count() < kCheckpointSeconds) return;
        last = now;
        save_checkpoint(checkpoint, so_far, checkpoint.seconds + std::chrono::duration<double>(now - start).count());
      };
    }
    result = estimate::validate_single_layer(*loaded.module, est, library, images, max_pairs, 1, correct_on, resume,
                                             temperature);
    result.measure_seconds += checkpoint.seconds;
    // Kept until the whole output is written: the configurations below may fail or take long.
    if (!checkpoint.path.empty()) save_checkpoint(checkpoint, result.pairs, result.measure_seconds);
    configs = estimate::validate_configs(*loaded.module, est, library, images, args.configs, correct_on,
                                         result.temperature);
  }
  estimate::score_controls(est, library, control_layers(*loaded.module, samples, seed), result);
  nlohmann::json out = {{"spearman", result.spearman},
                        {"kendall", result.kendall},
                        {"pairs", result.pairs.size()},
                        {"spearman_resolved", result.spearman_resolved},
                        {"spearman_ceiling", result.spearman_ceiling},
                        {"spearman_attainable", result.spearman_attainable},
                        {"kendall_resolved", result.kendall_resolved},
                        {"pairs_resolved", result.pairs_resolved},
                        {"samples", sample_count},
                        {"measured_on", args.measure_on},
                        {"hessian", est.hessian},
                        {"bias_correction", bias_correction},
                        {"corrected_on", bias_correction ? "samples" : ""},
                        {"base_loss", result.base_loss},
                        {"temperature", result.temperature},
                        {"temperature_fitted", temperature == 0},
                        {"estimate_seconds", estimate_seconds},
                        {"measure_seconds", result.measure_seconds},
                        {"measure_over_estimate", estimate_seconds > 0 ? result.measure_seconds / estimate_seconds : 0.0}};
  nlohmann::json per_layer = nlohmann::json::array(), cfg = nlohmann::json::array();
  for (const auto& l : result.per_layer)
    per_layer.push_back({{"layer", l.layer}, {"pairs", l.pairs}, {"spearman", l.spearman}, {"kendall", l.kendall}});
  for (const auto& c : configs) cfg.push_back({{"config", c.name}, {"predicted", c.predicted}, {"measured", c.measured}});
  nlohmann::json controls = nlohmann::json::array();
  for (const auto& c : result.controls)
    controls.push_back({{"name", c.name}, {"spearman", c.spearman}, {"kendall", c.kendall},
                        {"spearman_resolved", c.spearman_resolved}, {"kendall_resolved", c.kendall_resolved}});
  out["controls"] = controls;
  out["per_layer"] = per_layer;
  out["configs"] = cfg;
  if (!args.out.empty()) {
    nlohmann::json full = out;
    full["pair_results"] = pair_results_json(result.pairs);
    if (dist::is_root()) write_file_atomic(args.out, full.dump(1) + "\n");  // data-parallel: rank 0 writes
    std::error_code ignored;  // a checkpoint left behind is only a stale file: the next run ignores it
    if (!checkpoint.path.empty() && dist::is_root()) std::filesystem::remove(checkpoint.path, ignored);
  }
  if (args.json) {
    print_json(out);
    return;
  }
  fmt::print("{} pairs measured on {} {} (losses at temperature {:.4f}{}): Spearman {:.4f}  Kendall {:.4f}\n",
             result.pairs.size(), sample_count, args.measure_on == "val" ? "validation images" : "estimation samples",
             result.temperature, temperature == 0 ? ", fitted" : "", result.spearman, result.kendall);
  fmt::print("{} pairs resolved (|measured| >= 2 standard errors): Spearman {:.4f}  Kendall {:.4f}\n",
             result.pairs_resolved, result.spearman_resolved, result.kendall_resolved);
  fmt::print("what the measurement's noise leaves (an estimate that knew every measured change, judged on another "
             "draw of as many images): Spearman about {:.4f}; extrapolated to noise-free changes against this "
             "measurement: about {:.4f}\n",
             result.spearman_ceiling, result.spearman_attainable);
  fmt::print("estimate {:.1f} s, measure {:.1f} s (ratio {:.1f}x)\n", estimate_seconds, result.measure_seconds,
             estimate_seconds > 0 ? result.measure_seconds / estimate_seconds : 0.0);
  for (const auto& c : result.controls)
    fmt::print("control {:<12} Spearman {:.4f}  Kendall {:.4f}  resolved: {:.4f} {:.4f}\n", c.name, c.spearman,
               c.kendall, c.spearman_resolved, c.kendall_resolved);
  for (const auto& l : result.per_layer)
    fmt::print("  {:<24} {:3} pairs  Spearman {:7.4f}  Kendall {:7.4f}\n", l.layer, l.pairs, l.spearman, l.kendall);
  for (const auto& c : configs)
    fmt::print("  config {}: predicted {:.5f}  measured {:.5f}\n", c.name, c.predicted, c.measured);
}

void setup_validate(CLI::App& root) {
  auto args = std::make_shared<ValidateArgs>();
  auto* cmd = root.add_subcommand("validate", "Measure true loss changes by emulation and compare with an estimate");
  cmd->footer("Example: fames validate --est est.json --pairs all --configs a30.json a40.json --json\n"
              "Uses the model, library, data and samples recorded in est.json. Loss changes are measured on\n"
              "validation images (--split val: training images no model trained on) unless --measure-on samples.\n"
              "Controls: the same ranking by MSE x macs, MRED x macs and MSE x macs x Hessian trace (HAWQ-style).");
  cmd->add_option("--est", args->est, "est.json from 'fames estimate'")->required()->check(CLI::ExistingFile);
  cmd->add_option("--pairs", args->pairs, "'all' or the number of single-layer pairs to measure")->capture_default_str();
  cmd->add_option("--configs", args->configs, "Assignment files to test additivity on");
  cmd->add_option("--reuse", args->reuse,
                  "Take the measured values from an earlier 'validate --out' file (same model, samples, pairs) and "
                  "only score this estimate")
      ->check(CLI::ExistingFile);
  cmd->add_option("--measure-on", args->measure_on,
                  "val: measure on validation images (what the predictions must hold on); samples: on the "
                  "estimation samples themselves")
      ->capture_default_str()
      ->check(CLI::IsMember({"val", "samples"}));
  cmd->add_option("--images", args->images, "Validation images to measure on (default: as many as est.json's samples)")
      ->check(positive());
  cmd->add_option("--out", args->out,
                  "Also write every pair's predicted and measured value to this JSON file; while measuring, "
                  "OUT.partial keeps the pairs measured so far, and a rerun with the same inputs continues from it");
  cmd->add_flag("--bias-correction", args->bias_correction,
                "Measure with each substituted layer's per-channel mean error subtracted, taken on the estimation "
                "samples (training images) as 'fames run' takes it (on by default when est.json was made with "
                "'fames estimate --bias-correction')");
  cmd->add_option("--temperature", args->temperature,
                  "fit: losses of the logits divided by the temperature that gives the exact model its lowest loss "
                  "on the measurement images (an overconfident model gains from any AppMul noise that shrinks its "
                  "logits at 1, which hides the harm); or a number > 0, e.g. 1 for the raw cross-entropy")
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->callback([args] {
    try {
      run_validate(*args);
    } catch (const nlohmann::json::exception& e) {  // a field of --est or --reuse of the wrong type
      fail("{}{}{}: a field is missing or of the wrong type: {}", args->est,
           args->reuse.empty() ? "" : " or ", args->reuse, e.what());
    }
  });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("validate", fames::cli::setup_validate);
