// measure::AssignedModel on a tiny LeNet-5: a view puts an assignment's tables into the named layers
// and nothing into the others, treats existing output corrections as asked, and gives every layer
// back exactly the multiplier and correction it had when the view ends, also when the assignment
// is rejected; keep() leaves the view's state in the model.
#include "measure/assigned_model.h"

#include <gtest/gtest.h>

#include "../estimate/estimate_fixtures.h"
#include "util/error.h"

namespace fames::measure {
namespace {

struct Fixture {
  std::shared_ptr<torch::nn::Module> model = estimate::testing::tiny_lenet();
  Library library;
  std::vector<std::string> names;
  Fixture() {
    for (auto& [name, layer] : quant::quant_layers(*model)) {
      layer->set_bits(4, 4);
      names.push_back(name);
      const Signature sig = layer->signature();
      if (library.exact(sig)) continue;
      library.add(estimate::testing::table_appmul("exact_" + sig.key(), ProductTable::exact(sig), true));
      library.add(estimate::testing::table_appmul("noisy_" + sig.key(),
                                                  estimate::testing::random_approximate(sig, 3), false));
    }
  }
  quant::QuantLayer& layer(size_t i) { return *quant::quant_layers(*model).at(i).second; }
  Assignment noisy_first() {
    Assignment a;
    a.library = "test-lib";
    a.layers[names[0]] = "noisy_" + layer(0).signature().key();
    return a;
  }
};

TEST(AssignedModel, PutsTheTablesInAndRestoresTheLayersExactly) {
  Fixture f;
  // Before the view: layer 1 on a table of its own, layer 0 with a correction.
  auto own = std::make_shared<const ProductTable>(ProductTable::exact(f.layer(1).signature()));
  f.layer(1).set_multiplier(own);
  const torch::Tensor correction = torch::ones({f.layer(0).out_channels()});
  f.layer(0).set_output_correction(correction);
  {
    AssignedModel view(*f.model, f.noisy_first(), f.library);
    ASSERT_NE(f.layer(0).multiplier(), nullptr);
    EXPECT_EQ(f.layer(0).multiplier()->data(), f.library.find(f.noisy_first().layers.begin()->second)->table.data());
    EXPECT_EQ(f.layer(1).multiplier(), nullptr);  // not named: the exact fake-quant path
    EXPECT_TRUE(f.layer(0).output_correction().is_same(correction));  // kKeep
  }
  EXPECT_EQ(f.layer(1).multiplier(), own);
  EXPECT_EQ(f.layer(0).multiplier(), nullptr);
  EXPECT_TRUE(f.layer(0).output_correction().is_same(correction));
  {
    AssignedModel view(*f.model, f.noisy_first(), f.library, Corrections::kClear);
    EXPECT_FALSE(f.layer(0).output_correction().defined());
  }
  EXPECT_TRUE(f.layer(0).output_correction().is_same(correction));
}

TEST(AssignedModel, ARejectedAssignmentLeavesTheModelAsItWas) {
  Fixture f;
  auto own = std::make_shared<const ProductTable>(ProductTable::exact(f.layer(2).signature()));
  f.layer(2).set_multiplier(own);
  Assignment bad = f.noisy_first();
  bad.layers[f.names[1]] = "no_such_appmul";
  try {
    AssignedModel view(*f.model, bad, f.library);
    FAIL() << "an unknown AppMul must be rejected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_appmul"), std::string::npos) << e.what();
  }
  EXPECT_EQ(f.layer(0).multiplier(), nullptr);
  EXPECT_EQ(f.layer(2).multiplier(), own);
  Assignment unknown_layer;
  unknown_layer.layers["no.such.layer"] = "noisy_" + f.layer(0).signature().key();
  EXPECT_THROW(AssignedModel(*f.model, unknown_layer, f.library), Error);
  EXPECT_EQ(f.layer(2).multiplier(), own);
}

TEST(AssignedModel, KeepLeavesTheAssignmentAndCorrectBiasCorrectsOnlyTabledLayers) {
  Fixture f;
  {
    AssignedModel view(*f.model, f.noisy_first(), f.library);
    view.correct_bias(estimate::testing::random_images(16, 3));
    EXPECT_EQ(f.layer(0).output_correction().numel(), f.layer(0).out_channels());
    EXPECT_NE(f.layer(0).output_correction().abs().sum().item<double>(), 0.0);
    EXPECT_FALSE(f.layer(1).output_correction().defined());
    view.keep();
  }
  EXPECT_NE(f.layer(0).multiplier(), nullptr);
  EXPECT_TRUE(f.layer(0).output_correction().defined());
  clear_multipliers(*f.model);
  EXPECT_EQ(f.layer(0).multiplier(), nullptr);
  EXPECT_FALSE(f.layer(0).output_correction().defined());
}

TEST(AssignedModel, WithExactLayersPutsEveryEstimateLayerOnItsExactAppMulUnlessNamed) {
  Estimate est;
  est.layers.resize(2);
  est.layers[0].name = "a";
  est.layers[0].exact = "exact_a";
  est.layers[1].name = "b";
  est.layers[1].exact = "exact_b";
  Assignment a;
  a.layers["b"] = "cheap_b";
  const Assignment full = with_exact_layers(est, a);
  EXPECT_EQ(full.layers.at("a"), "exact_a");
  EXPECT_EQ(full.layers.at("b"), "cheap_b");
  EXPECT_EQ(full.layers.size(), 2u);
}

}  // namespace
}  // namespace fames::measure
