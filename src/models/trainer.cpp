#include "models/trainer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "dist/process_group.h"
#include "models/batches.h"
#include "models/loop_state.h"
#include "models/zoo.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace fames::models {
namespace {

double learning_rate(const TrainOptions& o, double progress_epochs) {
  if (progress_epochs < o.warmup_epochs) return o.lr * (progress_epochs + 1e-3) / o.warmup_epochs;
  const double t = (progress_epochs - o.warmup_epochs) / std::max(1, o.epochs - o.warmup_epochs);
  return 0.5 * o.lr * (1 + std::cos(M_PI * std::min(1.0, t)));
}

bool no_decay(const std::string& name, const torch::Tensor& p) {
  return p.dim() <= 1 || name.find("clip") != std::string::npos;
}

struct StepResult {
  double loss = 0;  // the whole batch's mean loss
  int64_t correct = 0;
};

// Forward and backward of one batch. Data-parallel: every rank made the whole batch (the same
// random stream) and runs its rows; the gradients, loss and correct count are then added over the
// ranks, as one process computes them on the whole batch (BatchNorm's batch statistics excepted:
// each rank normalizes its own rows, as torch's DistributedDataParallel does).
StepResult training_step(torch::nn::Module& model, const Batch& batch, const std::vector<torch::Tensor>& parameters) {
  StepResult result;
  if (!dist::active()) {
    torch::Tensor logits = run_model(model, batch.images);
    torch::Tensor loss = torch::cross_entropy_loss(logits, batch.labels);
    loss.backward();
    result.loss = loss.item<double>();
    result.correct = logits.argmax(1).eq(batch.labels).sum().item<int64_t>();
    return result;
  }
  const int64_t count = batch.labels.size(0);
  const dist::Range rows = dist::shard(count);
  std::vector<double> values{0.0, 0.0};  // loss, correct
  if (rows.size() > 0) {
    const torch::Tensor labels = batch.labels.slice(0, rows.begin, rows.end);
    torch::Tensor logits = run_model(model, batch.images.slice(0, rows.begin, rows.end));
    torch::Tensor loss = torch::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum) / static_cast<double>(count);
    loss.backward();
    values = {loss.item<double>(), static_cast<double>(logits.argmax(1).eq(labels).sum().item<int64_t>())};
  }
  dist::sum_gradients(parameters, values);
  result.loss = values[0];
  result.correct = static_cast<int64_t>(std::llround(values[1]));
  return result;
}

}  // namespace

void train(torch::nn::Module& model, const Dataset& train_set, const TrainOptions& options,
           const EpochCallback& on_epoch) {
  if (train_set.size() == 0) fail("training set is empty");
  use_channels_last(model);
  std::vector<torch::Tensor> decay, plain;
  for (const auto& p : model.named_parameters()) (no_decay(p.key(), p.value()) ? plain : decay).push_back(p.value());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::SGDOptions>(
                                 torch::optim::SGDOptions(options.lr).momentum(options.momentum).nesterov(true).weight_decay(options.weight_decay)));
  groups.emplace_back(plain, std::make_unique<torch::optim::SGDOptions>(
                                 torch::optim::SGDOptions(options.lr).momentum(options.momentum).nesterov(true)));
  torch::optim::SGD optimizer(groups, torch::optim::SGDOptions(options.lr));

  const std::vector<torch::Tensor> parameters = model.parameters();
  std::mt19937_64 rng(options.seed);
  int first_epoch = 0;
  if (!options.resume_path.empty() && file_exists(options.resume_path)) {
    first_epoch = load_loop_state(options.resume_path, model, optimizer, rng).epoch;
    fmt::print(stderr, "{}: resuming after epoch {} from {}\n", options.label, first_epoch, options.resume_path);
  }
  const int64_t n = train_set.size();
  const int64_t steps = (n + options.batch_size - 1) / options.batch_size;
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int epoch = first_epoch; epoch < options.epochs; ++epoch) {
    model.train();
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    Progress bar(fmt::format("{} epoch {}/{}", options.label, epoch + 1, options.epochs), n, "img");
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    for (int64_t step = 0; step < steps; ++step) {
      const double lr = learning_rate(options, epoch + static_cast<double>(step) / steps);
      for (auto& group : optimizer.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
      const int64_t begin = step * options.batch_size, end = std::min(n, begin + options.batch_size);
      const std::vector<int64_t> idx(order.begin() + begin, order.begin() + end);
      Batch batch = make_batch(train_set, idx, options.augment, rng);
      optimizer.zero_grad();
      const StepResult result = training_step(model, batch, parameters);
      optimizer.step();
      const int64_t count = end - begin;
      loss_sum += result.loss * count;
      correct += result.correct;
      seen += count;
      bar.advance(count, fmt::format("loss {:.3f} acc {:.3f} lr {:.4f}", loss_sum / seen,
                                     static_cast<double>(correct) / seen, lr));
    }
    bar.finish();
    std::vector<torch::Tensor> buffers;  // each rank's BN statistics come from its own rows
    for (const auto& b : model.named_buffers()) buffers.push_back(b.value());
    dist::average(buffers);
    if (!options.resume_path.empty() && dist::is_root()) save_loop_state(options.resume_path, model, optimizer, rng, {epoch + 1, {}, {}});
    if (on_epoch) on_epoch(epoch + 1, loss_sum / seen, static_cast<double>(correct) / seen);
  }
}

EvalResult evaluate(torch::nn::Module& model, const Dataset& data, int64_t batch_size, const std::string& label) {
  torch::NoGradGuard no_grad;
  use_channels_last(model);
  model.eval();
  EvalResult result;
  // Data-parallel: each rank takes whole batches; the per-batch loss sums are added in batch order
  // afterwards, so every rank count gives the same bits.
  const dist::Range mine = dist::shard(data.size(), batch_size);
  std::vector<double> batch_loss(static_cast<size_t>((data.size() + batch_size - 1) / batch_size), 0.0);
  std::vector<int64_t> per_sample(static_cast<size_t>(data.size()), 0);  // this rank's shard; summed below
  int64_t mine_right = 0;  // for the bar only: the total comes from per_sample
  Progress bar(label, mine.size(), "img");
  // The bar shows the top-1 of the images this process has seen, so a log says what each
  // measurement found (data-parallel: this rank's shard).
  const auto seen_top1 = [&](int64_t seen) { return fmt::format("top-1 {:.2f}%", 100.0 * mine_right / seen); };
  for (int64_t begin = mine.begin; begin < mine.end; begin += batch_size) {
    const int64_t count = std::min(batch_size, mine.end - begin);
    Batch batch = make_batch(data, begin, count);
    torch::Tensor logits = run_model(model, batch.images);
    batch_loss[begin / batch_size] =
        torch::cross_entropy_loss(logits, batch.labels, {}, at::Reduction::Sum).item<double>();
    const torch::Tensor right = logits.argmax(1).eq(batch.labels).to(torch::kInt64).contiguous();
    std::copy_n(right.data_ptr<int64_t>(), count, per_sample.begin() + begin);
    mine_right += right.sum().item<int64_t>();
    bar.advance(count, seen_top1(begin + count - mine.begin));
  }
  bar.finish(mine.size() > 0 ? seen_top1(mine.size()) : "");
  const double loss_sum = dist::ordered_sum(std::move(batch_loss));
  dist::sum(per_sample);
  result.correct.assign(per_sample.begin(), per_sample.end());
  const int64_t right = std::accumulate(per_sample.begin(), per_sample.end(), int64_t{0});
  result.samples = data.size();
  result.top1 = data.size() ? static_cast<double>(right) / data.size() : 0.0;
  result.loss = data.size() ? loss_sum / data.size() : 0.0;
  return result;
}

PairedTop1Difference paired_top1_difference(const EvalResult& base, const EvalResult& other) {
  const size_t n = base.correct.size();
  if (n == 0 || other.correct.size() != n)
    fail("paired top-1: the evaluations cover {} and {} samples; they must be the same samples", n,
         other.correct.size());
  PairedTop1Difference d;
  for (size_t i = 0; i < n; ++i) {
    d.only_base += base.correct[i] && !other.correct[i];
    d.only_other += other.correct[i] && !base.correct[i];
  }
  const double count = static_cast<double>(n);
  d.difference = static_cast<double>(d.only_other - d.only_base) / count;
  // Per-sample differences are -1, 0 or 1: their sample variance over n, then the mean's error.
  if (n > 1) {
    const double variance =
        (static_cast<double>(d.only_base + d.only_other) - count * d.difference * d.difference) / (count - 1);
    d.standard_error = std::sqrt(std::max(variance, 0.0) / count);
  }
  return d;
}

}  // namespace fames::models
