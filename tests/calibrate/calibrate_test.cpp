// Calibration: the bias correction cancels a known AppMul offset exactly, calibration touches only
// clipping values and BN statistics and never worsens the held-out loss (nor ends below corrections
// it is given), fine-tuning moves the weights and keeps the best epoch, and corrections survive a
// checkpoint round trip.
#include "calibrate/calibrate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>

#include "models/batches.h"
#include "models/checkpoint.h"
#include "models/trainer.h"
#include "models/zoo.h"
#include "quant/output_corrections.h"
#include "quant/quant_layer.h"
#include "error_message.h"

namespace fames::calibrate {
namespace {

Dataset synthetic_images(int64_t n, uint64_t seed) {
  Dataset d;
  d.name = "synthetic";
  d.channels = 1;
  d.height = d.width = 28;
  for (int c = 0; c < 10; ++c) d.classes.push_back(std::to_string(c));
  std::mt19937_64 rng(seed);
  d.pixels.resize(static_cast<size_t>(n * d.image_bytes()));
  for (auto& p : d.pixels) p = static_cast<uint8_t>(rng() % 256);
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(static_cast<int32_t>(rng() % 10));
  d.mean = {0.5f, 0, 0};
  d.stddev = {0.3f, 1, 1};
  return d;
}

struct Fixture {
  models::ModelSpec spec;
  std::shared_ptr<torch::nn::Module> model;
  Fixture() {
    torch::manual_seed(5);
    spec.arch = "lenet5";
    spec.in_channels = 1;
    spec.image_size = 28;
    model = models::build_model(spec);
    for (auto& [name, layer] : quant::quant_layers(*model)) layer->set_bits(4, 4);
    torch::NoGradGuard no_grad;  // initialises every clipping value
    model->eval();
    models::run_model(*model, models::make_batch(synthetic_images(32, 9), 0, 32).images);
  }
  std::shared_ptr<quant::QuantLayer> last_layer() {
    return quant::quant_layers(*model).back().second;
  }
  std::vector<torch::Tensor> weights() const {
    std::vector<torch::Tensor> out;
    for (auto& [name, l] : quant::quant_layers(*model)) out.push_back(l->weight.detach().clone());
    return out;
  }
  // The last layer gets a multiplier whose every other product is off by +5.
  void make_last_layer_rough() {
    auto layer = last_layer();
    ProductTable rough = ProductTable::exact(layer->signature());
    for (size_t i = 0; i < rough.data().size(); i += 2) rough.data()[i] += 5;
    layer->set_multiplier(std::make_shared<const ProductTable>(rough));
  }
};

// Every product of the last (linear) layer is off by +3, so each output is off by exactly
// s_w(o) * s_a * 3 * in_features: the correction must equal that and cancel it.
TEST(BiasCorrection, CancelsAConstantProductOffset) {
  Fixture f;
  auto layer = f.last_layer();
  ASSERT_TRUE(layer->is_linear());
  const Dataset images = synthetic_images(40, 11);
  const torch::Tensor batch = models::make_batch(images, 0, 40).images;
  torch::NoGradGuard no_grad;
  const torch::Tensor exact_logits = models::run_model(*f.model, batch);
  ProductTable offset = ProductTable::exact(layer->signature());
  for (auto& v : offset.data()) v += 3;
  layer->set_multiplier(std::make_shared<const ProductTable>(offset));
  const torch::Tensor offset_logits = models::run_model(*f.model, batch);
  ASSERT_GT((offset_logits - exact_logits).abs().max().item<float>(), 1e-3);

  const nlohmann::json corrections = apply_bias_correction(*f.model, images);
  ASSERT_EQ(corrections.size(), 1u);
  const torch::Tensor expected =
      layer->weight_step() * layer->act_step() * 3.0 * layer->in_channels();
  EXPECT_TRUE(torch::allclose(layer->output_correction(), expected, 1e-4, 1e-6));
  const torch::Tensor corrected_logits = models::run_model(*f.model, batch);
  EXPECT_TRUE(torch::allclose(corrected_logits, exact_logits, 1e-4, 1e-4));
}

TEST(Calibrate, TunesOnlyClipsAndNeverWorsensTheHeldOutLoss) {
  Fixture f;
  f.make_last_layer_rough();
  const std::vector<torch::Tensor> weights_before = f.weights();
  std::vector<torch::Tensor> clips_before;
  for (auto& [name, l] : quant::quant_layers(*f.model))
    clips_before.push_back(l->act_clip.detach().clone());
  CalibrateOptions options;
  options.epochs = 2;
  options.patience = 2;
  options.lr = 0.05;
  options.bias_correction = true;
  const auto report =
      calibrate(*f.model, synthetic_images(128, 1), synthetic_images(64, 2), options);
  EXPECT_LE(report.holdout_loss_after, report.holdout_loss_before);
  EXPECT_EQ(report.epochs_run, 2);
  EXPECT_GE(report.history.size(), 3u);  // bias correction, two epochs (no BN in LeNet-5)
  size_t i = 0;
  bool clips_moved = false;
  for (auto& [name, l] : quant::quant_layers(*f.model)) {
    EXPECT_TRUE(torch::equal(l->weight, weights_before[i])) << name;
    EXPECT_EQ(l->weight_bits(), 4);
    EXPECT_TRUE(l->weight.requires_grad()) << "frozen parameters must be restored";
    clips_moved = clips_moved || !torch::equal(l->act_clip, clips_before[i]);
    ++i;
  }
  // Held-out improvement is what keeps an epoch; if one was kept, the clips moved.
  if (report.best_epoch > 0) {
    EXPECT_TRUE(clips_moved);
  }
  // A second evaluation reproduces the reported held-out loss (the kept state is the model's
  // state).
  const auto again = models::evaluate(*f.model, synthetic_images(64, 2));
  EXPECT_NEAR(again.loss, report.holdout_loss_after, 1e-5);
}

// keep_on_top1: every kept step raised the held-out top-1 (or held it and lowered the loss), and the
// model ends at the reported top-1, never below where it started.
TEST(Calibrate, KeepOnTop1NeverLowersTheHeldOutTop1) {
  Fixture f;
  f.make_last_layer_rough();
  CalibrateOptions options;
  options.epochs = 3;
  options.patience = 3;
  options.lr = 0.05;
  options.bias_correction = true;
  options.keep_on_top1 = true;
  const auto report = calibrate(*f.model, synthetic_images(128, 1), synthetic_images(64, 2), options);
  EXPECT_GE(report.holdout_top1_after, report.holdout_top1_before);
  double best_top1 = report.holdout_top1_before, best_loss = report.holdout_loss_before;
  for (const auto& step : report.history) {
    const double top1 = step["holdout_top1"], loss = step["holdout_loss"];
    const bool better = top1 > best_top1 || (top1 == best_top1 && loss < best_loss);
    EXPECT_EQ(step["kept"].get<bool>(), better) << step.dump();
    if (better) best_top1 = top1, best_loss = loss;
  }
  const auto again = models::evaluate(*f.model, synthetic_images(64, 2));
  EXPECT_NEAR(again.top1, report.holdout_top1_after, 1e-9);
}

// Corrections measured elsewhere are a floor: calibration judges them beside its own and keeps the
// better. Here the given ones are fitted on the held-out images, whose labels are what the model
// predicts with them (100% held-out top-1), and calibration's own are fitted on unlike, all-white
// tuning images: only the given ones reach 100%.
TEST(Calibrate, GivenCorrectionsAreAFloor) {
  Fixture f;
  f.make_last_layer_rough();
  Dataset held = synthetic_images(64, 2);
  const nlohmann::json given = apply_bias_correction(*f.model, held);
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor predicted = models::run_model(*f.model, models::make_batch(held, 0, 64).images).argmax(1);
    for (int64_t i = 0; i < 64; ++i) held.labels[static_cast<size_t>(i)] = static_cast<int32_t>(predicted[i].item<int64_t>());
  }
  Dataset train = synthetic_images(128, 1);
  std::fill(train.pixels.begin(), train.pixels.end(), uint8_t{255});
  apply_bias_correction(*f.model, train);
  ASSERT_LT(models::evaluate(*f.model, held).top1, 1.0) << "calibration's own corrections must be the worse ones";
  quant::clear_output_corrections(*f.model);
  ASSERT_LT(models::evaluate(*f.model, held).top1, 1.0);
  CalibrateOptions options;
  options.epochs = 0;
  options.bias_correction = true;
  options.keep_on_top1 = true;
  options.given_corrections = given;
  const auto report = calibrate(*f.model, train, held, options);
  EXPECT_EQ(report.holdout_top1_after, 1.0);
  EXPECT_EQ(quant::output_corrections(*f.model), given);
  ASSERT_EQ(report.history.size(), 2u);  // its own corrections, then the given ones
  EXPECT_EQ(report.history[1]["step"], "given_corrections");
  EXPECT_TRUE(report.history[1]["kept"].get<bool>());
}

// Fine-tuning (weights = true) on the held-out images themselves must lower their loss by moving
// the weights, and the model keeps the best epoch's weights, not the last one's.
TEST(Calibrate, FineTuningMovesTheWeightsAndKeepsTheBestEpoch) {
  Fixture f;
  f.make_last_layer_rough();
  const std::vector<torch::Tensor> weights_before = f.weights();
  CalibrateOptions options;
  options.epochs = 3;
  options.patience = 3;
  options.lr = 0.05;
  options.weights = true;
  const Dataset images = synthetic_images(128, 1);
  const auto report = calibrate(*f.model, images, images, options);
  EXPECT_LT(report.holdout_loss_after, report.holdout_loss_before);
  ASSERT_GT(report.best_epoch, 0);
  size_t i = 0, moved = 0;
  for (auto& [name, l] : quant::quant_layers(*f.model)) {
    moved += !torch::equal(l->weight, weights_before[i++]);
    EXPECT_TRUE(l->weight.requires_grad()) << "frozen parameters must be restored";
  }
  EXPECT_EQ(moved, weights_before.size());
  const auto again = models::evaluate(*f.model, images);
  EXPECT_NEAR(again.loss, report.holdout_loss_after, 1e-5);
}

// A calibration stopped after its first epoch and run again with the same resume path ends with
// the same model, corrections and report as one that never stopped.
TEST(Calibrate, AnInterruptedCalibrationResumesAfterItsLastEpoch) {
  CalibrateOptions options;
  options.epochs = 3;
  options.patience = 3;
  options.lr = 0.05;
  options.weights = true;
  options.bias_correction = true;
  const Dataset images = synthetic_images(96, 1);
  Fixture whole, stopped, resumed;
  for (Fixture* f : {&whole, &stopped, &resumed}) f->make_last_layer_rough();
  const CalibrateReport expected = calibrate(*whole.model, images, images, options);

  CalibrateOptions first = options;
  first.resume_path = ::testing::TempDir() + "/calibration.resume";
  std::remove(first.resume_path.c_str());
  first.epochs = 1;
  calibrate(*stopped.model, images, images, first);
  CalibrateOptions rest = options;
  rest.resume_path = first.resume_path;
  const CalibrateReport got = calibrate(*resumed.model, images, images, rest);

  EXPECT_EQ(got.epochs_run, expected.epochs_run);
  EXPECT_EQ(got.best_epoch, expected.best_epoch);
  EXPECT_EQ(got.history.size(), expected.history.size());
  EXPECT_DOUBLE_EQ(got.holdout_loss_after, expected.holdout_loss_after);
  EXPECT_DOUBLE_EQ(got.holdout_top1_before, expected.holdout_top1_before);
  const auto want = whole.model->named_parameters(), have = resumed.model->named_parameters();
  ASSERT_EQ(want.size(), have.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_TRUE(torch::equal(want[i].value(), have[i].value())) << want[i].key();
  EXPECT_EQ(quant::output_corrections(*resumed.model), quant::output_corrections(*whole.model));
}

TEST(Calibrate, AResumeStateThatIsNotOneIsNamed) {
  Fixture f;
  CalibrateOptions options;
  options.epochs = 1;
  options.resume_path = ::testing::TempDir() + "/not-a-state.resume";
  { std::ofstream(options.resume_path) << "not an archive"; }
  const Dataset images = synthetic_images(32, 1);
  const std::string message = testing::error_message([&] { calibrate(*f.model, images, images, options); });
  EXPECT_NE(message.find(options.resume_path), std::string::npos) << message;
}

TEST(Calibrate, OutputCorrectionsSurviveACheckpoint) {
  Fixture f;
  auto layer = f.last_layer();
  layer->set_output_correction(torch::arange(layer->out_channels()).to(torch::kFloat) * 0.25);
  const std::string path = ::testing::TempDir() + "/calibrated.pt";
  models::save_model(path, *f.model, f.spec);
  auto loaded = models::load_model(path);
  const nlohmann::json saved = quant::output_corrections(*loaded.module);
  ASSERT_EQ(saved, quant::output_corrections(*f.model));
  EXPECT_DOUBLE_EQ(saved.begin()->at(3).get<double>(), 0.75);
  quant::clear_output_corrections(*loaded.module);
  EXPECT_TRUE(quant::output_corrections(*loaded.module).empty());
}

}  // namespace
}  // namespace fames::calibrate
