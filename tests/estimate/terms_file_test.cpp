// estimate::to_terms_file on a tiny LeNet-5: every layer's torch-free terms predict what its torch
// terms predict, for small (dense H) and larger (factored H) tables; projected terms are refused.
#include "estimate/terms_file.h"

#include <gtest/gtest.h>

#include "estimate_fixtures.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::estimate {
namespace {

TEST(TermsFile, PredictsWhatTheTorchTermsPredict) {
  torch::manual_seed(3);
  auto model = testing::tiny_lenet();
  auto layers = quant::quant_layers(*model);
  for (auto& [name, layer] : layers) layer->set_bits(4, 4);
  layers.back().second->set_bits(7, 7);
  EstimateOptions options;
  parse_hessian("gn", options);
  const std::vector<LayerTerms> terms = compute_terms(*model, testing::random_images(24, 2), options);
  const TermsFile file = to_terms_file(terms, "tiny.pt", "gn");
  EXPECT_EQ(file.model, "tiny.pt");
  EXPECT_EQ(file.hessian, "gn");
  ASSERT_EQ(file.layers.size(), terms.size());
  for (size_t i = 0; i < terms.size(); ++i) {
    SCOPED_TRACE(terms[i].name);
    const TermsLayer& l = file.layers[i];
    EXPECT_EQ(l.name, terms[i].name);
    EXPECT_EQ(l.signature, terms[i].signature);
    EXPECT_EQ(l.samples, terms[i].samples);
    EXPECT_NE(l.form, TermsLayer::Form::kNone);
    l.validate("to_terms_file");
    const ProductTable table = testing::random_approximate(l.signature, 5 + i, 3, 1);
    const double expected = terms[i].predict(table);
    EXPECT_NEAR(l.predict(table), expected, 1e-6 * std::max(1.0, std::abs(expected)));
  }
}

TEST(TermsFile, RefusesProjectedTerms) {
  const ProductTable table = ProductTable::exact(Signature{4, 4, true, false});
  LayerTerms t;
  t.name = "conv9";
  t.signature = table.signature();
  t.g = torch::zeros({256}, torch::kDouble);
  t.h = torch::zeros({1, 1});
  t.projected = {&table};
  try {
    to_terms_file({t}, "m.pt", "gn");
    FAIL() << "projected terms must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv9"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fames::estimate
