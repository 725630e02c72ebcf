#include "calibrate/calibrate.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

#include "dist/process_group.h"
#include "measure/bias_correction.h"
#include "models/batches.h"
#include "models/loop_state.h"
#include "models/trainer.h"
#include "models/zoo.h"
#include "quant/output_corrections.h"
#include "quant/quant_layer.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace fames::calibrate {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

using Layers = std::vector<std::pair<std::string, std::shared_ptr<quant::QuantLayer>>>;

std::vector<torch::nn::BatchNorm2dImpl*> batch_norms(torch::nn::Module& model) {
  std::vector<torch::nn::BatchNorm2dImpl*> out;
  for (const auto& m : model.modules(false))
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) out.push_back(bn);
  return out;
}

// Snapshot of the BN running statistics, to undo a re-estimation that does not help.
struct BnState {
  std::vector<torch::Tensor> tensors;
  static BnState take(const std::vector<torch::nn::BatchNorm2dImpl*>& bns) {
    BnState s;
    for (auto* bn : bns)
      for (const auto& t : {bn->running_mean, bn->running_var, bn->num_batches_tracked})
        s.tensors.push_back(t.clone());
    return s;
  }
  void restore(const std::vector<torch::nn::BatchNorm2dImpl*>& bns) const {
    torch::NoGradGuard no_grad;
    size_t i = 0;
    for (auto* bn : bns)
      for (auto* t : {&bn->running_mean, &bn->running_var, &bn->num_batches_tracked})
        t->copy_(tensors[i++]);
  }
};

// Data-parallel BN re-estimation: each rank averaged the statistics of its own batches; the
// average over all batches weighs each rank's average by its number of batches.
void average_batch_norm_over_ranks(const std::vector<torch::nn::BatchNorm2dImpl*>& bns) {
  if (!dist::active() || bns.empty()) return;
  std::vector<torch::Tensor> weighted;
  std::vector<int64_t> batches{bns.front()->num_batches_tracked.item<int64_t>()};
  for (auto* bn : bns)
    for (const torch::Tensor& t : {bn->running_mean, bn->running_var}) weighted.push_back(t.to(torch::kDouble) * batches[0]);
  dist::sum(weighted);
  dist::sum(batches);
  torch::NoGradGuard no_grad;
  size_t i = 0;
  for (auto* bn : bns) {
    for (torch::Tensor* t : {&bn->running_mean, &bn->running_var}) t->copy_(weighted[i++] / std::max<int64_t>(1, batches[0]));
    bn->num_batches_tracked.fill_(batches[0]);
  }
}

// Data-parallel clip tuning: every rank ran its rows of the batch (dist::sum_gradients). Returns
// the whole batch's loss.
double sum_gradients_over_ranks(torch::optim::Optimizer& optimizer, double loss) {
  std::vector<torch::Tensor> parameters;
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) parameters.push_back(p);
  std::vector<double> values{loss};
  dist::sum_gradients(parameters, values);
  return values[0];
}

// Images BN re-estimation averages over at most: per-channel means and variances over 4096 images
// and all their positions are settled, and a whole 45,000-image training split (fine-tuning) cost a
// 7-bit ResNet-20 probe 21 minutes of emulated forward passes on one AVX2 core.
constexpr int64_t kMaxBatchNormImages = 4096;

// Recomputes BN running statistics as plain averages over `all` (at most kMaxBatchNormImages of
// them, a seeded subset) with the AppMuls in the forward pass (only the BN layers are in training
// mode).
void reestimate_batch_norm(torch::nn::Module& model, const Dataset& all, int64_t batch_size) {
  const Dataset images = all.size() > kMaxBatchNormImages ? subset(all, kMaxBatchNormImages, 1) : all;
  torch::NoGradGuard no_grad;
  auto bns = batch_norms(model);
  std::vector<c10::optional<double>> momenta;
  model.eval();
  for (auto* bn : bns) {
    momenta.push_back(bn->options.momentum());
    bn->options.momentum(c10::nullopt);  // cumulative average over all batches
    bn->reset_running_stats();
    bn->train();
  }
  const dist::Range mine = dist::shard(images.size(), batch_size);  // data-parallel: whole batches
  Progress bar("BN re-estimation", mine.size(), "img");
  for (int64_t begin = mine.begin; begin < mine.end; begin += batch_size) {
    const int64_t count = std::min(batch_size, mine.end - begin);
    models::run_model(model, models::make_batch(images, begin, count).images);
    bar.advance(count);
  }
  bar.finish();
  average_batch_norm_over_ranks(bns);
  for (size_t i = 0; i < bns.size(); ++i) {
    bns[i]->options.momentum(momenta[i]);
    bns[i]->eval();
  }
}

std::vector<torch::Tensor> clip_parameters(const Layers& layers) {
  std::vector<torch::Tensor> params;
  for (const auto& [name, layer] : layers) {
    params.push_back(layer->weight_clip);
    params.push_back(layer->act_clip);
  }
  return params;
}

// The tensors the clipping step trains: every layer's clips and, for fine-tuning, every other
// parameter (weights, biases, BN affine).
std::vector<torch::Tensor> tuned_parameters(torch::nn::Module& model, const Layers& layers,
                                            bool weights) {
  std::vector<torch::Tensor> params = clip_parameters(layers);
  if (!weights) return params;
  for (auto& p : model.parameters()) {
    const bool is_clip = std::any_of(params.begin(), params.end(),
                                     [&](const torch::Tensor& c) { return c.is_same(p); });
    if (!is_clip) params.push_back(p);
  }
  return params;
}

std::vector<torch::Tensor> clone_all(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> out;
  for (const auto& t : tensors) out.push_back(t.detach().clone());
  return out;
}

void copy_all(const std::vector<torch::Tensor>& from, std::vector<torch::Tensor>& to) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
}

// One epoch of clipping tuning; returns the mean training loss.
double tune_clips_epoch(torch::nn::Module& model, const Dataset& train,
                        torch::optim::Adam& optimizer, std::vector<torch::Tensor>& clips,
                        const CalibrateOptions& options, std::mt19937_64& rng,
                        const std::string& label) {
  model.eval();  // BN statistics stay fixed; only the tuned parameters learn
  std::vector<int64_t> order(static_cast<size_t>(train.size()));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  Progress bar(label, train.size(), "img");
  double loss_sum = 0;
  int64_t seen = 0;
  for (int64_t begin = 0; begin < train.size(); begin += options.batch_size) {
    const int64_t end = std::min(train.size(), begin + options.batch_size);
    const std::vector<int64_t> idx(order.begin() + begin, order.begin() + end);
    // Every rank draws the whole batch's augmentation (the same random stream) and runs its rows.
    models::Batch batch = models::make_batch(train, idx, /*augment=*/true, rng);
    const dist::Range rows = dist::shard(end - begin);
    optimizer.zero_grad();
    double step_loss = 0;
    if (!dist::active()) {
      torch::Tensor loss = torch::cross_entropy_loss(models::run_model(model, batch.images), batch.labels);
      loss.backward();
      step_loss = loss.item<double>();
    } else if (rows.size() > 0) {
      torch::Tensor loss = torch::cross_entropy_loss(models::run_model(model, batch.images.slice(0, rows.begin, rows.end)),
                                                     batch.labels.slice(0, rows.begin, rows.end), {},
                                                     at::Reduction::Sum) / static_cast<double>(end - begin);
      loss.backward();
      step_loss = loss.item<double>();
    }
    step_loss = sum_gradients_over_ranks(optimizer, step_loss);
    optimizer.step();
    {
      torch::NoGradGuard no_grad;
      for (auto& c : clips) c.clamp_min_(1e-6);  // a clip must stay positive
    }
    loss_sum += step_loss * (end - begin);
    seen += end - begin;
    bar.advance(end - begin, fmt::format("loss {:.4f}", loss_sum / seen));
  }
  bar.finish();
  return loss_sum / std::max<int64_t>(1, seen);
}

// The held-out side of one calibration: measures the model, keeps the best figure so far (in the
// report's "after" figures) and records every step in the report. A step is kept only if the
// held-out loss (or with keep_on_top1, the top-1) improves, so calibration never makes that figure
// worse.
class HeldOut {
 public:
  HeldOut(torch::nn::Module& model, const Dataset& holdout, bool keep_on_top1, CalibrateReport& report)
      : model_(model), holdout_(holdout), keep_on_top1_(keep_on_top1), report_(report) {}

  // The figure before any step, the first best.
  void measure_start() {
    const models::EvalResult before = measure("held-out (before)");
    report_.holdout_top1_before = report_.holdout_top1_after = before.top1;
    report_.holdout_loss_before = report_.holdout_loss_after = before.loss;
  }

  // Measures after `step` (epoch > 0: a training epoch with its loss) and records it; whether the
  // step improved the held-out figure (the caller undoes it otherwise).
  bool judge(const std::string& step, const std::string& label, int epoch = 0, double train_loss = 0) {
    const models::EvalResult r = measure(label);
    const double best_loss = report_.holdout_loss_after, best_top1 = report_.holdout_top1_after;
    const bool kept = keep_on_top1_ ? r.top1 > best_top1 || (r.top1 == best_top1 && r.loss < best_loss)
                                    : r.loss < best_loss;
    if (kept) report_.holdout_loss_after = r.loss, report_.holdout_top1_after = r.top1;
    nlohmann::json entry{{"step", step}, {"holdout_loss", r.loss}, {"holdout_top1", r.top1}, {"kept", kept}};
    if (epoch > 0) entry["epoch"] = epoch, entry["train_loss"] = train_loss;
    report_.history.push_back(std::move(entry));
    return kept;
  }

 private:
  models::EvalResult measure(const std::string& label) { return models::evaluate(model_, holdout_, 256, label); }

  torch::nn::Module& model_;
  const Dataset& holdout_;
  const bool keep_on_top1_;
  CalibrateReport& report_;
};

CalibrateReport report_from_json(const nlohmann::json& j) {
  CalibrateReport r;
  r.holdout_top1_before = j.at("holdout_top1_before").get<double>();
  r.holdout_loss_before = j.at("holdout_loss_before").get<double>();
  r.holdout_top1_after = j.at("holdout_top1_after").get<double>();
  r.holdout_loss_after = j.at("holdout_loss_after").get<double>();
  r.epochs_run = j.at("epochs_run").get<int>();
  r.best_epoch = j.at("best_epoch").get<int>();
  r.seconds = j.at("seconds").get<double>();
  r.history = j.at("history").get<std::vector<nlohmann::json>>();
  return r;
}

// Adam over `tuned`, each tensor with lr times its own mean magnitude. Adam moves every parameter
// by about lr per step whatever its gradient's scale, so weight clips (~0.1) and activation clips
// (~3) then move by the same fraction. One absolute lr moved ResNet-20's weight clips by tens of
// percent in an epoch and cost 1.6 points of held-out top-1.
// `lrs[i]`: tuned[i]'s relative lr.
torch::optim::Adam scaled_adam(std::vector<torch::Tensor>& tuned, const std::vector<double>& lrs) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (size_t i = 0; i < tuned.size(); ++i) {
    const double scale = std::max(1e-6, tuned[i].detach().abs().mean().item<double>());
    groups.emplace_back(std::vector<torch::Tensor>{tuned[i]}, std::make_unique<torch::optim::AdamOptions>(lrs[i] * scale));
  }
  return torch::optim::Adam(std::move(groups));
}

// What tune_clips keeps beside the model, optimizer and random stream between epochs.
struct TuningState {
  std::vector<torch::Tensor> best_tuned;
  int since_best = 0;
  bool stopped = false;  // patience ran out
};

void save_tuning_state(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                       const std::mt19937_64& rng, int epoch, const TuningState& t, const CalibrateReport& report,
                       Clock::time_point start) {
  nlohmann::json saved_report = report.to_json();
  saved_report["seconds"] = report.seconds + seconds_since(start);
  models::save_loop_state(path, model, optimizer, rng,
                          {epoch,
                           t.best_tuned,
                           {{"report", saved_report},
                            {"since_best", t.since_best},
                            {"stopped", t.stopped},
                            {"corrections", quant::output_corrections(model)}}});
}

// Restores the state save_tuning_state wrote (the model's tuned values, BN statistics and
// corrections included); returns the last finished epoch.
int load_tuning_state(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                      std::mt19937_64& rng, TuningState& t, CalibrateReport& report) {
  models::LoopState s = models::load_loop_state(path, model, optimizer, rng);
  if (s.tensors.size() != t.best_tuned.size())
    fail("resume state '{}' keeps {} tuned tensors, this calibration tunes {} (delete it to start over)", path,
         s.tensors.size(), t.best_tuned.size());
  try {
    report = report_from_json(s.record.at("report"));
    t.since_best = s.record.at("since_best").get<int>();
    t.stopped = s.record.at("stopped").get<bool>();
    quant::clear_output_corrections(model);
    quant::set_output_corrections(model, s.record.at("corrections"));
  } catch (const nlohmann::json::exception& e) {
    fail("resume state '{}' has no calibration record (delete it to start over): {}", path, e.what());
  }
  t.best_tuned = std::move(s.tensors);
  fmt::print(stderr, "calibration: resuming after epoch {} from {}\n", s.epoch, path);
  return s.epoch;
}

// Tunes the clips (and with options.weights every other parameter) epoch by epoch, keeps the best
// epoch on the held-out set, stops after options.patience epochs without improvement. `resume`:
// continue from options.resume_path's state.
void tune_clips(torch::nn::Module& model, const Layers& layers, const Dataset& train,
                const CalibrateOptions& options, HeldOut& held_out, CalibrateReport& report, bool resume,
                Clock::time_point start) {
  std::vector<torch::Tensor> clips = clip_parameters(layers);
  std::vector<torch::Tensor> tuned = tuned_parameters(model, layers, options.weights);
  // Only the tuned tensors need gradients; the rest is frozen for the duration (and restored after).
  std::vector<std::pair<torch::Tensor, bool>> frozen;
  for (auto& p : model.parameters()) {
    frozen.emplace_back(p, p.requires_grad());
    p.set_requires_grad(false);
  }
  for (auto& t : tuned) t.set_requires_grad(true);
  std::vector<double> lrs(tuned.size(), options.weights_lr);  // tuned_parameters puts the clips first
  std::fill_n(lrs.begin(), clips.size(), options.lr);
  torch::optim::Adam optimizer = scaled_adam(tuned, lrs);
  TuningState state{clone_all(tuned)};
  std::mt19937_64 rng(options.seed);
  const int first_epoch =
      1 + (resume ? load_tuning_state(options.resume_path, model, optimizer, rng, state, report) : 0);
  for (int epoch = first_epoch; epoch <= options.epochs && !state.stopped; ++epoch) {
    const double train_loss = tune_clips_epoch(model, train, optimizer, clips, options, rng,
                                               fmt::format("clip tuning {}/{}", epoch, options.epochs));
    report.epochs_run = epoch;
    if (held_out.judge(options.weights ? "clip+weights" : "clip", fmt::format("held-out (epoch {})", epoch),
                       epoch, train_loss)) {
      state.best_tuned = clone_all(tuned);
      report.best_epoch = epoch;
      state.since_best = 0;
    } else {
      state.stopped = ++state.since_best >= options.patience;
    }
    if (!options.resume_path.empty() && dist::is_root())
      save_tuning_state(options.resume_path, model, optimizer, rng, epoch, state, report, start);
  }
  copy_all(state.best_tuned, tuned);
  for (auto& [p, requires_grad] : frozen) p.set_requires_grad(requires_grad);
}

}  // namespace

nlohmann::json CalibrateReport::to_json() const {
  return {{"holdout_top1_before", holdout_top1_before},
          {"holdout_loss_before", holdout_loss_before},
          {"holdout_top1_after", holdout_top1_after},
          {"holdout_loss_after", holdout_loss_after},
          {"epochs_run", epochs_run},
          {"best_epoch", best_epoch},
          {"seconds", seconds},
          {"history", history}};
}

nlohmann::json apply_bias_correction(torch::nn::Module& model, const Dataset& images,
                                     int64_t max_images, int64_t batch_size) {
  const Dataset used = images.size() > max_images ? subset(images, max_images, 1) : images;
  measure::set_bias_corrections(model, used, batch_size);
  return quant::output_corrections(model);
}

CalibrateReport calibrate(torch::nn::Module& model, const Dataset& train, const Dataset& holdout,
                          const CalibrateOptions& options) {
  if (train.size() == 0) fail("calibration set is empty");
  if (holdout.size() == 0) fail("held-out calibration set is empty");
  const auto start = Clock::now();
  models::use_channels_last(model);
  auto layers = quant::quant_layers(model);
  CalibrateReport report;
  HeldOut held_out(model, holdout, options.keep_on_top1, report);
  // A resume state exists only once a tuning epoch has finished: every step before is in it.
  const bool resume = !options.resume_path.empty() && dist::root_decides(file_exists(options.resume_path));
  if (!resume) {
    held_out.measure_start();
    if (options.bias_correction) {
      apply_bias_correction(model, train);
      nlohmann::json kept;  // the corrections in force after this step; null: none
      if (held_out.judge("bias_correction", "held-out (bias correction)")) kept = quant::output_corrections(model);
      if (!options.given_corrections.is_null()) {
        quant::clear_output_corrections(model);
        quant::set_output_corrections(model, options.given_corrections);
        if (held_out.judge("given_corrections", "held-out (given corrections)")) kept = options.given_corrections;
      }
      quant::clear_output_corrections(model);
      if (!kept.is_null()) quant::set_output_corrections(model, kept);
    }
    if (options.bn && !batch_norms(model).empty()) {
      const auto bns = batch_norms(model);
      const BnState saved = BnState::take(bns);
      reestimate_batch_norm(model, train, 128);
      if (!held_out.judge("bn", "held-out (BN)")) saved.restore(bns);
    }
  }
  if (resume || (options.clip && options.epochs > 0)) {
    tune_clips(model, layers, train, options, held_out, report, resume, start);
    // Clips moved: the AppMuls' mean errors moved with them.
    if (options.bias_correction && report.best_epoch > 0) {
      const nlohmann::json previous = quant::output_corrections(model);
      apply_bias_correction(model, train);
      if (!held_out.judge("bias_correction", "held-out (bias correction again)")) {
        quant::clear_output_corrections(model);
        quant::set_output_corrections(model, previous);
      }
    }
  }
  report.seconds += seconds_since(start);
  return report;
}

}  // namespace fames::calibrate
