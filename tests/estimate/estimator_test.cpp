// The estimator against brute force on a tiny LeNet-5 with random data. On the classifier layer
// (logits = its output, so the Jacobian is the identity) g'e + 1/2 e'He equals the Taylor terms
// computed from the emulated logit change dz: mean_x (p - e_y)'dz + 1/2 mean_x q(dz), with q the
// variant's curvature (GN: sum_c p_c ((p - e_c)'dz)^2 = dz'(diag p - pp')dz). On a hidden conv layer
// the first-order term equals mean_x u(x)'dY(x) with u = dL/dY from autograd. Each check runs with
// and without bias correction (dz, dY then come from the corrected layer), and with a table small
// enough for the dense H and one large enough for the factored H over its support.
#include "estimate/estimator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "measure/bias_correction.h"
#include "estimate_fixtures.h"
#include "models/batches.h"
#include "util/error.h"
#include "quant/quant_layer.h"

namespace fames::estimate {
namespace {
using testing::random_approximate;

struct Rig {
  std::shared_ptr<torch::nn::Module> model;
  std::vector<std::pair<std::string, std::shared_ptr<quant::QuantLayer>>> layers;
  Dataset data;
  models::Batch batch;
};

Rig make_rig(int bw, int ba, int64_t n) {
  torch::manual_seed(7);
  Rig s;
  s.model = testing::tiny_lenet();
  s.layers = quant::quant_layers(*s.model);
  for (auto& [name, layer] : s.layers) layer->set_bits(4, 4);
  s.layers.back().second->set_bits(bw, ba);
  s.data = testing::random_images(n, 3);
  std::vector<int64_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  std::mt19937_64 unused;
  s.batch = models::make_batch(s.data, all, false, unused);
  return s;
}

// Substitutes `table` in `layer` (corrected when asked) and returns the model's logits.
torch::Tensor logits_with(Rig& s, quant::QuantLayer& layer, const ProductTable* table, bool bias_correction) {
  torch::NoGradGuard no_grad;
  s.model->eval();
  layer.set_multiplier(table ? std::make_shared<const ProductTable>(*table) : nullptr);
  if (table && bias_correction)
    for (auto& [name, c] : measure::bias_corrections(*s.model, s.data)) layer.set_output_correction(c);
  const torch::Tensor z = models::run_model(*s.model, s.batch.images).to(torch::kDouble);
  layer.set_multiplier(nullptr);
  layer.set_output_correction(torch::Tensor());
  return z;
}

// The loss is of the logits divided by `temperature`: the brute force divides z and dz by it.
void check_classifier(int bw, int ba, bool bias_correction, double temperature = 1) {
  const int64_t n = 24;
  Rig s = make_rig(bw, ba, n);
  auto& fc3 = *s.layers.back().second;
  const ProductTable approx = random_approximate(fc3.signature(), 21, 3, 1);
  for (const char* variant : {"gn", "gn3", "fisher", "first"}) {
    SCOPED_TRACE(::testing::Message() << variant << " w" << bw << "a" << ba << (bias_correction ? " corrected" : ""));
    EstimateOptions options;
    parse_hessian(variant, options);
    options.batch_size = 10;
    options.bias_correction = bias_correction;
    options.temperature = temperature;
    const auto terms = compute_terms(*s.model, s.data, options);
    EXPECT_EQ(terms.back().h_dense, (int64_t{1} << (bw + ba)) <= 1024);
    const double predicted = terms.back().predict(approx);

    const torch::Tensor z = logits_with(s, fc3, nullptr, false) / temperature;
    const torch::Tensor dz = logits_with(s, fc3, &approx, bias_correction) / temperature - z;
    const torch::Tensor p = torch::softmax(z, 1);
    const torch::Tensor r = p - torch::one_hot(s.batch.labels, 10).to(torch::kDouble);
    const double first = (r * dz).sum(1).mean().item<double>();
    torch::Tensor quad = torch::zeros({n}, torch::kDouble);
    const std::string v = variant;
    if (v == "gn") {
      quad = (p * dz * dz).sum(1) - (p * dz).sum(1).pow(2);
    } else if (v == "gn3") {
      const torch::Tensor top = std::get<1>(p.topk(3, 1));
      for (int64_t k = 0; k < 3; ++k) {
        const torch::Tensor c = top.select(1, k);
        const torch::Tensor vc = p - torch::one_hot(c, 10).to(torch::kDouble);
        quad += p.gather(1, c.unsqueeze(1)).squeeze(1) * (vc * dz).sum(1).pow(2);
      }
    } else if (v == "fisher") {
      quad = (r * dz).sum(1).pow(2);
    }
    const double expected = first + 0.5 * quad.mean().item<double>();
    EXPECT_GT(std::abs(expected), 1e-6);
    EXPECT_NEAR(predicted, expected, 1e-5 + 1e-3 * std::abs(expected));
  }
}

TEST(Estimator, ClassifierDenseMatchesBruteForce) { check_classifier(3, 3, false); }
TEST(Estimator, ClassifierAtATemperatureMatchesBruteForce) {
  check_classifier(3, 3, true, 1.7);
  check_classifier(6, 5, false, 0.6);
}
TEST(Estimator, ClassifierDenseBiasCorrectedMatchesBruteForce) { check_classifier(3, 3, true); }
TEST(Estimator, ClassifierFactoredMatchesBruteForce) { check_classifier(6, 5, false); }
TEST(Estimator, ClassifierFactoredBiasCorrectedMatchesBruteForce) { check_classifier(6, 5, true); }

// Hidden conv layer: first-order term against u'dY with u from autograd.
TEST(Estimator, HiddenConvFirstOrderMatchesAutograd) {
  for (const bool bias_correction : {false, true}) {
    for (const int bw : {3, 8}) {  // dense and factored H (the first-order term must not care)
      SCOPED_TRACE(::testing::Message() << "bw " << bw << (bias_correction ? " corrected" : ""));
      const int64_t n = 12;
      Rig s = make_rig(4, 4, n);
      auto& conv2 = *s.layers[1].second;
      conv2.set_bits(bw, 4);
      const ProductTable approx = random_approximate(conv2.signature(), 31, 2, 1);
      EstimateOptions options;
      options.hessian = Hessian::kFisher;
      options.batch_size = 5;
      options.bias_correction = bias_correction;
      const auto terms = compute_terms(*s.model, s.data, options);
      // first-order part only: predict() minus half the quadratic = g'e / S
      const std::vector<int32_t> errors = approx.errors();
      const torch::Tensor e = torch::tensor(std::vector<double>(errors.begin(), errors.end()), torch::kDouble);
      const double predicted = torch::dot(terms[1].g, e).item<double>() / n;

      // The same batches as compute_terms: with an optimised BLAS, other batch shapes round the
      // float sums differently, which flips a few downstream activation codes and moves u.
      s.model->eval();
      torch::Tensor correction;
      if (bias_correction) {
        conv2.set_multiplier(std::make_shared<const ProductTable>(approx));
        for (auto& [name, c] : measure::bias_corrections(*s.model, s.data)) correction = c;
        conv2.set_multiplier(nullptr);
      }
      double expected = 0;
      for (int64_t begin = 0; begin < n; begin += options.batch_size) {
        const int64_t end = std::min(n, begin + options.batch_size);
        conv2.set_capture(true);
        const torch::Tensor logits = models::run_model(*s.model, s.batch.images.slice(0, begin, end));
        const torch::Tensor loss =
            torch::cross_entropy_loss(logits, s.batch.labels.slice(0, begin, end), {}, at::Reduction::Sum);
        const torch::Tensor u = torch::autograd::grad({loss}, {conv2.captured_output})[0].to(torch::kDouble);
        const torch::Tensor input = conv2.captured_input;
        conv2.set_capture(false);
        torch::NoGradGuard no_grad;
        conv2.set_multiplier(std::make_shared<const ProductTable>(ProductTable::exact(conv2.signature())));
        const torch::Tensor y_exact = conv2.forward(input).to(torch::kDouble);
        conv2.set_multiplier(std::make_shared<const ProductTable>(approx));
        conv2.set_output_correction(correction);
        const torch::Tensor dy = conv2.forward(input).to(torch::kDouble) - y_exact;
        conv2.set_multiplier(nullptr);
        conv2.set_output_correction(torch::Tensor());
        expected += (u * dy).sum().item<double>() / n;
      }
      EXPECT_NEAR(predicted, expected, 1e-5 + 1e-3 * std::abs(expected));
    }
  }
}

// Without the first-order term a prediction is the full one minus the first-order-only one (same
// samples), and never negative: every curvature is a sum of squares.
TEST(Estimator, CurvatureTermAloneIsFullMinusFirstOrder) {
  for (const int bw : {3, 6}) {  // dense and factored H
    SCOPED_TRACE(::testing::Message() << "bw " << bw);
    Rig s = make_rig(bw, bw == 3 ? 3 : 5, 16);
    auto& fc3 = *s.layers.back().second;
    std::vector<ProductTable> tables;
    for (uint64_t seed = 1; seed <= 6; ++seed) tables.push_back(random_approximate(fc3.signature(), 5 + seed, 3, static_cast<int>(seed % 3)));
    auto predict = [&](const char* hessian, bool first_order) {
      EstimateOptions options;
      parse_hessian(hessian, options);
      options.batch_size = 8;
      options.bias_correction = true;
      options.first_order = first_order;
      const auto terms = compute_terms(*s.model, s.data, options);
      std::vector<double> out;
      for (const auto& t : tables) out.push_back(terms.back().predict(t));
      return out;
    };
    const std::vector<double> full = predict("fisher", true), first = predict("first", true),
                              curvature = predict("fisher", false);
    bool some_first_order = false;
    for (size_t i = 0; i < tables.size(); ++i) {
      EXPECT_NEAR(curvature[i], full[i] - first[i], 1e-9 + 1e-6 * std::abs(full[i]));
      EXPECT_GE(curvature[i], 0.0);
      some_first_order |= std::abs(first[i]) > 1e-6;
    }
    EXPECT_TRUE(some_first_order);  // the two predictions differ, so the check above means something
    EXPECT_THROW(predict("first", false), Error);
  }
}

// Projected onto a library's tables, the terms predict what the full factor predicts for those
// tables, on a hidden conv layer and the classifier, and refuse any other table.
TEST(Estimator, ProjectedTermsPredictLikeTheFactor) {
  Rig s = make_rig(6, 5, 20);
  s.layers[1].second->set_bits(6, 5);  // conv2 factored too (scatter counting)
  Library library;
  std::vector<Signature> signatures;
  for (auto& [name, layer] : s.layers)
    if (std::find(signatures.begin(), signatures.end(), layer->signature()) == signatures.end())
      signatures.push_back(layer->signature());
  for (size_t i = 0; i < signatures.size(); ++i) {
    library.add(testing::table_appmul(fmt::format("exact{}", i), ProductTable::exact(signatures[i]), true));
    for (uint64_t seed = 1; seed <= 4; ++seed)
      library.add(testing::table_appmul(fmt::format("m{}_{}", i, seed),
                                        random_approximate(signatures[i], 40 + seed, 3, static_cast<int>(seed % 3)), false));
  }
  const ProductTable stranger = random_approximate(s.layers.back().second->signature(), 99);
  for (const char* variant : {"fisher", "gn3", "mc"})
    for (const bool corrected : {false, true}) {
      SCOPED_TRACE(::testing::Message() << variant << (corrected ? " corrected" : ""));
      EstimateOptions options;
      parse_hessian(variant, options);
      options.batch_size = 8;
      options.bias_correction = corrected;
      const auto full = compute_terms(*s.model, s.data, options);
      const auto projected = compute_terms(*s.model, s.data, options, &library);
      int checked = 0;
      for (size_t k = 0; k < full.size(); ++k) {
        if (full[k].h_dense) continue;
        ASSERT_FALSE(projected[k].projected.empty()) << full[k].name;
        for (const AppMul* m : library.of_signature(full[k].signature)) {
          const double want = full[k].predict(m->table), got = projected[k].predict(m->table);
          EXPECT_NEAR(got, want, 1e-9 + 1e-4 * std::abs(want)) << full[k].name << " " << m->name;
          checked += m->exact ? 0 : std::abs(want) > 1e-7;
        }
        EXPECT_THROW(projected[k].predict(stranger), Error);
      }
      EXPECT_EQ(checked, 8);  // 4 approximate tables on each of conv2 and fc3
    }
}

TEST(Estimator, ParsesHessianNames) {
  EstimateOptions o;
  for (const char* name : {"gn", "gn3", "mc", "fisher", "first"}) {
    parse_hessian(name, o);
    EXPECT_EQ(hessian_name(o), name);
  }
  EXPECT_THROW(parse_hessian("gn0", o), Error);
  EXPECT_THROW(parse_hessian("gnx", o), Error);
  EXPECT_THROW(parse_hessian("newton", o), Error);
}

}  // namespace
}  // namespace fames::estimate
