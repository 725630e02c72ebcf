// EmulatedEvaluator with bias correction on a tiny LeNet-5: a table that adds a constant to every
// product shifts every output of a channel by the same amount, which the per-channel correction
// removes (up to float rounding of the subtraction), so the corrected configuration computes almost
// what the exact one computes while the uncorrected one does not. And the evaluator is a view: when it
// ends, the model's layers have the multipliers and corrections they had before.
#include "measure/evaluator.h"

#include <gtest/gtest.h>

#include "../estimate/estimate_fixtures.h"
#include "models/batches.h"
#include "models/zoo.h"
#include "quant/quant_layer.h"

namespace fames {
namespace {

// Per signature of the tiny LeNet-5: its exact table and one that adds 40 to every product.
Library offset_library(torch::nn::Module& model) {
  Library library;
  for (auto& [name, layer] : quant::quant_layers(model)) {
    const Signature sig = layer->signature();
    if (library.exact(sig)) continue;
    ProductTable offset = ProductTable::exact(sig);
    for (auto& v : offset.data()) v += 40;
    library.add(estimate::testing::table_appmul("exact_" + sig.key(), ProductTable::exact(sig), true));
    library.add(estimate::testing::table_appmul("offset_" + sig.key(), std::move(offset), false));
  }
  return library;
}

TEST(EmulatedEvaluator, BiasCorrectionRemovesAConstantProductOffset) {
  torch::manual_seed(5);
  auto model = estimate::testing::tiny_lenet();
  for (auto& [name, layer] : quant::quant_layers(*model)) layer->set_bits(4, 4);
  const Dataset images = estimate::testing::random_images(64, 9);
  const Dataset holdout = estimate::testing::random_images(96, 10);

  const Library library = offset_library(*model);
  const Estimate candidates = measure::candidates_from_library(*model, library, holdout, "test-lib");
  measure::EmulatedEvaluator evaluator(*model, candidates, library, holdout);
  const std::vector<int> exact = evaluator.exact_choice();
  std::vector<int> offset_everywhere = exact;
  for (size_t k = 0; k < offset_everywhere.size(); ++k) offset_everywhere[k] = 1 - exact[k];

  auto logits = [&](const std::vector<int>& choice) {
    torch::NoGradGuard no_grad;
    evaluator.apply(choice);
    return models::run_model(*model, models::make_batch(holdout, 0, 32).images);
  };
  const torch::Tensor exact_logits = logits(exact);
  const double exact_top1 = evaluator.top1(exact);
  const double uncorrected_gap = (logits(offset_everywhere) - exact_logits).abs().max().item<double>();
  evaluator.enable_bias_correction(images);
  EXPECT_TRUE(evaluator.bias_correction());
  EXPECT_EQ(evaluator.top1(exact), exact_top1);
  const double corrected_gap = (logits(offset_everywhere) - exact_logits).abs().max().item<double>();
  const double scale = exact_logits.abs().max().item<double>();
  // Not zero: the subtraction's float rounding flips a few downstream activation codes.
  EXPECT_GT(uncorrected_gap, scale);
  EXPECT_LT(corrected_gap, 0.1 * uncorrected_gap);
  EXPECT_NEAR(evaluator.top1(offset_everywhere), exact_top1, 3.0 / 96);
  // Switching back to exact removes every correction.
  evaluator.apply(exact);
  for (auto& [name, layer] : quant::quant_layers(*model)) EXPECT_FALSE(layer->output_correction().defined()) << name;
}

TEST(EmulatedEvaluator, GivesTheModelBackAsItWas) {
  torch::manual_seed(6);
  auto model = estimate::testing::tiny_lenet();
  for (auto& [name, layer] : quant::quant_layers(*model)) layer->set_bits(4, 4);
  const Dataset holdout = estimate::testing::random_images(16, 11);
  const Library library = offset_library(*model);
  const auto layers = quant::quant_layers(*model);
  const torch::Tensor correction = torch::ones({layers.back().second->out_channels()});
  layers.back().second->set_output_correction(correction);
  {
    measure::EmulatedEvaluator evaluator(*model, measure::candidates_from_library(*model, library, holdout, "lib"),
                                         library, holdout);
    evaluator.enable_bias_correction(holdout);
    std::vector<int> offset_everywhere = evaluator.exact_choice();
    for (int& c : offset_everywhere) c = 1 - c;
    evaluator.top1(offset_everywhere);
    EXPECT_NE(layers.front().second->multiplier(), nullptr);
  }
  for (const auto& [name, layer] : layers) EXPECT_EQ(layer->multiplier(), nullptr) << name;
  EXPECT_TRUE(layers.back().second->output_correction().is_same(correction));
  EXPECT_FALSE(layers.front().second->output_correction().defined());
}

}  // namespace
}  // namespace fames
