// fames validate's measurements on a tiny LeNet-5: every pair is the loss with only that layer on
// the candidate's table minus the loss with every layer on its exact table, so an AppMul whose table
// equals the exact one measures exactly zero (the fake-quant float path would not: its rounding
// differs from the integer sums), and an approximate one measures what a direct substitution does.
#include "estimate/validate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "estimate/estimator.h"
#include "estimate_fixtures.h"
#include "measure/assigned_model.h"
#include "measure/loss_change.h"
#include "models/batches.h"
#include "models/zoo.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::estimate {
namespace {

// Per-image cross-entropy of the model as it stands on all of `data`.
torch::Tensor per_image_losses(torch::nn::Module& model, const Dataset& data) {
  torch::NoGradGuard no_grad;
  model.eval();
  const models::Batch batch = models::make_batch(data, 0, data.size());
  return torch::cross_entropy_loss(models::run_model(model, batch.images), batch.labels, {}, at::Reduction::None)
      .to(torch::kDouble);
}

TEST(Validate, MeasuresAgainstExactTables) {
  torch::manual_seed(11);
  auto model = testing::tiny_lenet();
  for (auto& [name, layer] : quant::quant_layers(*model)) layer->set_bits(4, 4);
  const Dataset data = testing::random_images(48, 5);

  Library library;
  for (auto& [name, layer] : quant::quant_layers(*model)) {
    const Signature sig = layer->signature();
    if (library.exact(sig)) continue;
    library.add(testing::table_appmul("exact_" + sig.key(), ProductTable::exact(sig), true));
    // The same table, not flagged exact: validate measures it like any candidate.
    library.add(testing::table_appmul("twin_" + sig.key(), ProductTable::exact(sig), false));
    library.add(testing::table_appmul("noisy_" + sig.key(), testing::random_approximate(sig, 3, 4, 1), false));
  }

  EstimateOptions options;
  parse_hessian("gn", options);
  options.bias_correction = true;
  options.first_order = false;
  const Estimate est = assemble_estimate(compute_terms(*model, data, options), library, options);
  ASSERT_GE(est.layers.size(), 3u);
  // The estimate records how its terms were computed, whoever assembles it.
  EXPECT_EQ(est.hessian, "gn");
  EXPECT_TRUE(est.bias_correction);
  EXPECT_FALSE(est.first_order);
  const ValidationResult result = validate_single_layer(*model, est, library, data, 0, 1);
  ASSERT_EQ(result.pairs.size(), 2 * est.layers.size());
  for (auto& [name, layer] : quant::quant_layers(*model)) EXPECT_EQ(layer->multiplier(), nullptr) << name;

  Assignment exact;
  for (const auto& layer : est.layers) exact.layers[layer.name] = layer.exact;
  measure::apply_assignment(*model, exact, library);
  EXPECT_DOUBLE_EQ(result.base_loss, measure::mean_loss(*model, data));
  const torch::Tensor exact_losses = per_image_losses(*model, data);
  for (const auto& pair : result.pairs) {
    if (pair.appmul.rfind("twin_", 0) == 0) {
      EXPECT_EQ(pair.measured, 0.0) << pair.layer;
      EXPECT_EQ(pair.measured_se, 0.0) << pair.layer;
      EXPECT_FALSE(pair.resolved()) << pair.layer;
      continue;
    }
    Assignment one = exact;
    one.layers[pair.layer] = pair.appmul;
    measure::apply_assignment(*model, one, library);
    EXPECT_NEAR(pair.measured, measure::mean_loss(*model, data) - result.base_loss, 1e-6) << pair.layer;
    EXPECT_NE(pair.measured, 0.0) << pair.layer;
    // The standard error is that of the mean of the paired per-image differences.
    const torch::Tensor difference = per_image_losses(*model, data) - exact_losses;
    const double se = difference.std().item<double>() / std::sqrt(static_cast<double>(data.size()));
    EXPECT_NEAR(pair.measured_se, se, 1e-6 * (1 + se)) << pair.layer;
    EXPECT_GT(pair.measured_se, 0.0) << pair.layer;
    EXPECT_EQ(pair.resolved(), std::abs(pair.measured) >= 2 * se) << pair.layer;
    measure::apply_assignment(*model, exact, library);
  }

  // Resumed: a known pair is taken as given (here a value no measurement gives), the others are
  // measured as before, and each new one is reported with everything measured so far.
  ValidateResume resume;
  resume.known.push_back({result.pairs[1].layer, result.pairs[1].appmul, 0.0, 123.0, 0.5});
  std::vector<size_t> reported;
  resume.on_measured = [&](const std::vector<PairResult>& so_far) { reported.push_back(so_far.size()); };
  measure::clear_multipliers(*model);  // as for the first call
  const ValidationResult resumed = validate_single_layer(*model, est, library, data, 0, 1, nullptr, resume);
  ASSERT_EQ(resumed.pairs.size(), result.pairs.size());
  for (size_t i = 0; i < result.pairs.size(); ++i) {
    EXPECT_EQ(resumed.pairs[i].appmul, result.pairs[i].appmul);
    EXPECT_DOUBLE_EQ(resumed.pairs[i].measured, i == 1 ? 123.0 : result.pairs[i].measured) << i;
    EXPECT_DOUBLE_EQ(resumed.pairs[i].measured_se, i == 1 ? 0.5 : result.pairs[i].measured_se) << i;
  }
  ASSERT_EQ(reported.size(), result.pairs.size() - 1);
  EXPECT_EQ(reported.front(), 2u) << "the known pair, then the first new one";
  EXPECT_EQ(reported.back(), result.pairs.size());

  // Temperature 0: the losses are at the exact model's fitted temperature, the one of lowest loss.
  measure::apply_assignment(*model, exact, library);
  const double fitted = measure::fitted_temperature(*model, data);
  const double at_fitted = measure::mean_loss(*model, data, measure::kDefaultLossBatch, fitted);
  for (const double other : {1.0, fitted * 1.01, fitted / 1.01, fitted * 2})
    EXPECT_LE(at_fitted, measure::mean_loss(*model, data, measure::kDefaultLossBatch, other)) << other;
  measure::clear_multipliers(*model);
  const ValidationResult scaled = validate_single_layer(*model, est, library, data, 0, 1, nullptr, {}, 0);
  EXPECT_DOUBLE_EQ(scaled.temperature, fitted);
  EXPECT_DOUBLE_EQ(scaled.base_loss, at_fitted);
  EXPECT_NE(scaled.pairs[1].measured, result.pairs[1].measured);
}

// The resolved scores rank only the pairs whose change is at least twice its standard error: noise
// in the others (here ranked backwards) lowers the overall score, not the resolved one.
TEST(Validate, ResolvedScoresUseOnlyPairsAboveTwoStandardErrors) {
  ValidationResult result;
  for (int k = 0; k < 4; ++k) result.pairs.push_back({"l", "big" + std::to_string(k), 0.1 * (k + 1), 0.1 * (k + 1), 0.01});
  for (int k = 0; k < 4; ++k)
    result.pairs.push_back({"l", "tiny" + std::to_string(k), 0.001 * (k + 1), 0.004 - 0.001 * k, 0.01});
  result.pairs.push_back({"l", "unknown", 0.5, 0.0001, 0.0});  // no standard error: never resolved
  score_pairs(Estimate(), result);
  EXPECT_EQ(result.pairs_resolved, 4);
  EXPECT_DOUBLE_EQ(result.spearman_resolved, 1.0);
  EXPECT_DOUBLE_EQ(result.kendall_resolved, 1.0);
  EXPECT_LT(result.spearman, 0.9);
}

// The ceiling says how far the measurement's own noise lets any ranking go: changes far apart
// against their standard errors leave almost all of it, changes inside the noise little.
TEST(Validate, CeilingFallsWhenChangesAreInsideTheirNoise) {
  ValidationResult apart, inside, exact;
  for (int k = 0; k < 20; ++k) {
    apart.pairs.push_back({"l", "a" + std::to_string(k), 0.0, 0.1 * k, 0.001});
    inside.pairs.push_back({"l", "i" + std::to_string(k), 0.0, 0.0001 * k, 0.01});
    exact.pairs.push_back({"l", "e" + std::to_string(k), 0.0, 0.0001 * k, 0.0});
  }
  for (ValidationResult* r : {&apart, &inside, &exact}) score_pairs(Estimate(), *r);
  EXPECT_GT(apart.spearman_ceiling, 0.99);
  EXPECT_LT(inside.spearman_ceiling, 0.5);
  EXPECT_EQ(exact.spearman_ceiling, 1.0) << "no standard error: nothing to redraw";
}

// spearman_attainable estimates what the noise-free changes score against a noisy measurement of
// them. With known changes (spread over two decades, like single-layer loss changes, and measured
// with a noise that leaves some resolved and most not) it is an upper estimate of that score, by
// less than the ceiling, which takes the measurement for the truth.
TEST(Validate, AttainableScoreIsNearWhatTheNoiseFreeChangesScore) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 4; ++trial) {
    ValidationResult result;
    for (int k = 0; k < 300; ++k) {
      const double change = 1e-3 * std::exp(1.5 * normal(rng)), se = 2e-3;
      // predicted = the noise-free change, so result.spearman is what a perfect estimate scores
      result.pairs.push_back({"l", "p" + std::to_string(k), change, change + se * normal(rng), se});
    }
    score_pairs(Estimate(), result);
    EXPECT_GT(result.spearman_attainable, result.spearman - 0.02) << "trial " << trial;
    EXPECT_LT(result.spearman_attainable, result.spearman + 0.15) << "trial " << trial;
    EXPECT_GT(result.spearman_ceiling, result.spearman) << "trial " << trial;
    EXPECT_LT(result.spearman_attainable, result.spearman_ceiling) << "trial " << trial;
  }
}

// The controls rank pairs by proxies of the library's metrics: when the measured loss changes follow
// MSE x product unit^2 x macs, that control ranks them perfectly and MRED x macs need not; the HAWQ
// control follows the Hessian trace across layers.
TEST(Validate, ControlsRankByTheirProxies) {
  const Signature sig{4, 4, true, false};
  Library library;
  library.add(testing::table_appmul("exact", ProductTable::exact(sig), true));
  Estimate est;
  est.library = "lib";
  est.model = "model";
  ValidationResult result;
  std::vector<ControlLayer> controls;
  for (int l = 0; l < 2; ++l) {
    EstimateLayer layer{"layer" + std::to_string(l), sig, 100 * (l + 1), "exact", {{"exact", 0, 1}}};
    controls.push_back({layer.name, l == 0 ? 10.0 : 1.0, 0.5 * (l + 1)});
    est.layers.push_back(layer);
  }
  for (int k = 0; k < 4; ++k) {
    const std::string name = "noisy" + std::to_string(k);
    AppMul appmul = testing::table_appmul(name, testing::random_approximate(sig, 7 + k, 1 + 2 * k, k % 2), false);
    appmul.metrics = error_metrics(appmul.table);
    library.add(std::move(appmul));
    for (int l = 0; l < 2; ++l) {
      const double mse = library.find(name)->metrics.mse;
      const double squared_error = mse * controls[l].product_step_sq * static_cast<double>(est.layers[l].macs);
      result.pairs.push_back({est.layers[l].name, name, 0.0, squared_error});
    }
  }
  score_controls(est, library, controls, result);
  ASSERT_EQ(result.controls.size(), 3u);
  EXPECT_EQ(result.controls[0].name, "mse_x_macs");
  EXPECT_DOUBLE_EQ(result.controls[0].spearman, 1.0);
  EXPECT_DOUBLE_EQ(result.controls[0].kendall, 1.0);
  EXPECT_EQ(result.controls[1].name, "mred_x_macs");
  EXPECT_EQ(result.controls[2].name, "hawq");
  // Layer 0's trace is 10x layer 1's: the HAWQ proxy reorders pairs the measurement does not.
  EXPECT_LT(result.controls[2].spearman, 1.0);

  result.pairs.push_back({"layer9", "noisy0", 0.0, 1.0});
  EXPECT_THROW(score_controls(est, library, controls, result), fames::Error);
  result.pairs.back() = {"layer0", "missing", 0.0, 1.0};
  EXPECT_THROW(score_controls(est, library, controls, result), fames::Error);
}

}  // namespace
}  // namespace fames::estimate
