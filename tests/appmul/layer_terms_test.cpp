// Layer terms: file round trip (dense, factor, first-order), dL as the one predictor (loss_change.h)
// defines it, its projected form, the ALS objective's incremental values, rejected files, and
// tailoring to a layer.
#include "appmul/synth/layer_terms.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include "appmul/synth/als_library.h"
#include "appmul/synth/generators.h"
#include "appmul/synth/tailor.h"
#include "terms_fixtures.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

std::string temp_file(const std::string& name) {
  return ::testing::TempDir() + "/" + name;
}

TermsLayer dense_layer(const Signature& sig, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0, 1);
  TermsLayer l;
  l.name = "conv.dense";
  l.signature = sig;
  l.macs = 123;
  l.samples = 7;
  const size_t t = sig.table_size();
  for (size_t i = 0; i < t; ++i) l.g.push_back(n(rng));
  // H = A'A (symmetric, PSD) from 3 random rows.
  std::vector<double> a(3 * t);
  for (double& v : a) v = n(rng);
  l.form = TermsLayer::Form::kDense;
  l.h.assign(t * t, 0);
  for (size_t i = 0; i < t; ++i)
    for (size_t j = 0; j < t; ++j)
      for (int r = 0; r < 3; ++r) l.h[i * t + j] += a[r * t + i] * a[r * t + j];
  return l;
}

TermsLayer factor_layer(const Signature& sig, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0, 1);
  TermsLayer l;
  l.name = "fc/factor";
  l.signature = sig;
  l.samples = 5;
  const int64_t t = sig.table_size();
  l.g.assign(t, 0);
  for (int64_t i = 0; i < t; i += 3) {
    l.support.push_back(i);
    l.g[i] = n(rng);
  }
  l.form = TermsLayer::Form::kFactor;
  l.rows = 4;
  for (size_t i = 0; i < l.rows * l.support.size(); ++i) l.factor.push_back(n(rng));
  return l;
}

// dL by the formula of estimator.h, written out naively.
double naive_dl(const TermsLayer& l, const ProductTable& table) {
  const std::vector<int32_t> e = table.errors();
  const size_t t = e.size();
  double lin = 0, quad = 0;
  for (size_t i = 0; i < t; ++i) lin += l.g[i] * e[i];
  if (l.form == TermsLayer::Form::kDense)
    for (size_t i = 0; i < t; ++i)
      for (size_t j = 0; j < t; ++j) quad += e[i] * l.h[i * t + j] * e[j];
  if (l.form == TermsLayer::Form::kFactor)
    for (int64_t r = 0; r < l.rows; ++r) {
      double f = 0;
      for (size_t c = 0; c < l.support.size(); ++c)
        f += double(l.factor[r * l.support.size() + c]) * e[l.support[c]];
      quad += f * f;
    }
  return (lin + 0.5 * quad) / l.samples;
}

ProductTable perturbed(const Signature& sig, uint64_t seed) {
  ProductTable t = ProductTable::exact(sig);
  std::mt19937_64 rng(seed);
  for (int32_t& v : t.data())
    if (rng() % 3 == 0) v += static_cast<int32_t>(rng() % 7) - 3;
  return t;
}

TEST(LayerTerms, RoundTripAndPredict) {
  const Signature sig{3, 3, true, false};
  TermsFile file;
  file.model = "m.pt";
  file.hessian = "fisher";
  file.layers = {dense_layer(sig, 1), factor_layer(Signature{4, 3, true, true}, 2)};
  TermsLayer first;
  first.name = "first";
  first.signature = Signature{2, 2, true, false};
  first.samples = 3;
  first.g = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  file.layers.push_back(first);
  const std::string path = temp_file("terms_roundtrip.terms");
  file.save(path);
  const TermsFile back = TermsFile::load(path);
  EXPECT_EQ(back.model, "m.pt");
  EXPECT_EQ(back.hessian, "fisher");
  ASSERT_EQ(back.layers.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const TermsLayer &a = file.layers[i], &b = back.layers[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.signature, b.signature);
    EXPECT_EQ(a.macs, b.macs);
    EXPECT_EQ(a.samples, b.samples);
    EXPECT_EQ(a.g, b.g);
    EXPECT_EQ(a.form, b.form);
    EXPECT_EQ(a.h, b.h);
    EXPECT_EQ(a.rows, b.rows);
    EXPECT_EQ(a.support, b.support);
    EXPECT_EQ(a.factor, b.factor);
    const ProductTable t = perturbed(a.signature, 10 + i);
    EXPECT_NEAR(b.predict(t), naive_dl(a, t), 1e-9 * (1 + std::abs(naive_dl(a, t))));
  }
  EXPECT_EQ(back.find("fc/factor")->rows, 4);
  EXPECT_EQ(back.find("nope"), nullptr);
  EXPECT_EQ(back.layers[0].predict(ProductTable::exact(sig)), 0);
}

// A factor projected onto tables by hand (P = F E) predicts what the factor predicts for those
// tables, refuses any other table, and a projected layer cannot be saved.
TEST(LayerTerms, ProjectedViewPredictsLikeTheFactor) {
  const Signature sig{4, 3, true, true};
  TermsLayer l = factor_layer(sig, 4);
  const std::vector<ProductTable> tables = {perturbed(sig, 1), perturbed(sig, 2), perturbed(sig, 3)};
  const std::vector<const ProductTable*> onto = {&tables[0], &tables[1], &tables[2]};
  const size_t n = l.support.size(), m = onto.size();
  std::vector<float> p(static_cast<size_t>(l.rows) * m, 0.0f);
  for (size_t j = 0; j < m; ++j) {
    const std::vector<int32_t> e = onto[j]->errors();
    for (int64_t r = 0; r < l.rows; ++r) {
      double fe = 0;
      for (size_t c = 0; c < n; ++c) fe += double(l.factor[r * n + c]) * e[l.support[c]];
      p[r * m + j] = static_cast<float>(fe);
    }
  }
  TermsView v = l.view();
  v.form = TermsForm::kProjected;
  v.columns = static_cast<int64_t>(m);
  v.factor = p.data();
  v.projected = &onto;
  const std::vector<const ProductTable*> reversed = {onto[2], onto[1], onto[0]};
  const std::vector<double> got = predict_loss_change(v, reversed);
  for (size_t j = 0; j < m; ++j) {
    const double want = l.predict(*reversed[j]);
    EXPECT_GT(std::abs(want), 1e-3);
    EXPECT_NEAR(got[j], want, 1e-5 * std::abs(want));
  }
  const ProductTable stranger = perturbed(sig, 9);
  EXPECT_THROW(predict_loss_change(v, {&stranger}), Error);
  EXPECT_THROW(predict_loss_change(v, stranger.errors()), Error);
  l.form = TermsForm::kProjected;
  TermsFile file;
  file.layers = {l};
  EXPECT_THROW(file.save(temp_file("terms_projected.terms")), Error);
}

TEST(LayerTerms, ObjectiveCandidatesMatchPredict) {
  for (const TermsLayer& l : {dense_layer(Signature{3, 3, true, false}, 3),
                              factor_layer(Signature{3, 4, true, false}, 4)}) {
    const ProductTable base = perturbed(l.signature, 5);
    const auto objective = make_dl_objective(l);
    auto eval = objective->start(base.errors());
    EXPECT_NEAR(eval->value(), naive_dl(l, base), 1e-9);
    // Change a few entries: the exact candidate equals predict of the changed table.
    ProductTable changed = base;
    std::vector<int64_t> pairs = {0, 3, 9, 10};
    std::vector<int32_t> new_errors;
    const ProductTable exact = ProductTable::exact(l.signature);
    for (int64_t p : pairs) {
      changed.data()[p] += 2 + static_cast<int32_t>(p % 3);
      new_errors.push_back(changed.data()[p] - exact.data()[p]);
    }
    EXPECT_NEAR(eval->candidate(pairs, new_errors, true), naive_dl(l, changed), 1e-9) << l.name;
    // One entry: the diagonal estimate is exact too.
    ProductTable one = base;
    one.data()[6] -= 4;
    const double single = eval->candidate({6}, {one.data()[6] - exact.data()[6]}, false);
    EXPECT_NEAR(single, naive_dl(l, one), 1e-9) << l.name;
    EXPECT_NEAR(eval->value(), naive_dl(l, base), 1e-9);  // candidates leave the state alone
  }
}

TEST(LayerTerms, RejectsBadFiles) {
  const std::string path = temp_file("terms_bad.terms");
  write_file_atomic(path, std::string("NOTTERMS0000000000000000"));
  EXPECT_THROW(TermsFile::load(path), Error);
  TermsFile file;
  file.layers = {dense_layer(Signature{2, 2, true, false}, 1)};
  file.save(path);
  std::string bytes = read_file(path);
  write_file_atomic(path, bytes.substr(0, bytes.size() - 8));  // truncated payload
  try {
    TermsFile::load(path);
    FAIL() << "truncated file accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  TermsLayer bad = dense_layer(Signature{2, 2, true, false}, 1);
  bad.h.pop_back();
  file.layers = {bad};
  EXPECT_THROW(file.save(path), Error);
}

// A layer that mostly sees small weights: tailoring puts the error elsewhere and
// beats the uniform-MRED ALS members on that layer's dL at no more energy.
TEST(Tailor, BeatsUniformAlsOnTheLayersObjective) {
  const Signature sig{4, 4, true, false};
  // Small weights are what the layer sees.
  const TermsLayer l = testing::small_weight_layer("layer1.0/conv", sig, 2.0);
  TailorOptions options;
  options.als.seed_steps = 0;
  options.als.als.max_error = 0.5;
  const std::vector<AppMul> tailored = tailor_appmuls(l, options);
  ASSERT_GE(tailored.size(), 3u);
  for (size_t i = 0; i < tailored.size(); ++i) {
    EXPECT_EQ(tailored[i].name.rfind("tailor_layer1.0_conv_", 0), 0u) << tailored[i].name;
    EXPECT_EQ(tailored[i].source, "als:dl:layer1.0/conv");
    EXPECT_LE(tailored[i].metrics.mred, 0.5 + 1e-12);
    if (i > 0) {
      EXPECT_GT(tailored[i].energy_fj, tailored[i - 1].energy_fj);
      EXPECT_LT(l.predict(tailored[i].table), l.predict(tailored[i - 1].table));
    }
  }
  AlsLibraryOptions uniform;
  uniform.als.max_error = 0.5;
  uniform.seed_steps = 0;
  const auto members = build_als_members({sig}, uniform).front();
  std::vector<const AppMul*> candidates;
  for (const AppMul& m : members) candidates.push_back(&m);
  const auto rows = compare_tailored(l, candidates, tailored);
  ASSERT_FALSE(rows.empty());
  int better = 0, comparable = 0;
  for (const TailorRow& r : rows)
    if (!r.tailored.empty()) {
      ++comparable;
      better += r.tailored_dl < r.dl;
    }
  EXPECT_GT(comparable, 0);
  EXPECT_GE(2 * better, comparable) << better << " of " << comparable;
}

}  // namespace
}  // namespace fames
