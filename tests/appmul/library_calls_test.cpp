// The library calls behind `fames lib build`, `lib compare` and `lib tailor` on 2- and 3-bit
// signatures (fast): the signatures a recipe builds and in which order, the library it writes, the
// comparison's report, the tailored library and its comparison, and their errors naming the flag.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "appmul/synth/family_comparison.h"
#include "appmul/synth/layer_tailoring.h"
#include "appmul/synth/library_recipe.h"
#include "terms_fixtures.h"
#include "util/error.h"

namespace fames {
namespace {

std::string temp_dir(const std::string& name) { return ::testing::TempDir() + "/library_calls_" + name; }

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(LibraryRecipe, ModelSignaturesComeFirstAndAreAdded) {
  LibraryRecipe recipe;
  recipe.widths = {2, 3};
  const Signature signed_act{3, 2, true, true}, plain{3, 3, true, false};
  recipe.model_signatures = {signed_act, plain, signed_act};
  size_t from_models = 0;
  const std::vector<Signature> sigs = recipe_signatures(recipe, &from_models);
  ASSERT_EQ(sigs.size(), 5u);  // 2x2 2x3 3x2 3x3, and the models' 3x2 with signed activations
  EXPECT_EQ(from_models, 2u);
  EXPECT_EQ(sigs[0], signed_act);
  EXPECT_EQ(sigs[1], plain);
  EXPECT_EQ(std::set<Signature>(sigs.begin(), sigs.end()).size(), sigs.size());
  recipe.signed_a = true;
  recipe.model_signatures.clear();
  EXPECT_EQ(recipe_signatures(recipe).size(), 8u);
}

TEST(LibraryRecipe, ParsesBitWidths) {
  EXPECT_EQ(parse_bit_widths("2..4"), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(parse_bit_widths("8,2,2"), (std::vector<int>{2, 8}));
  EXPECT_NE(error_of([] { parse_bit_widths("9"); }).find("--bits"), std::string::npos);
  EXPECT_NE(error_of([] { parse_bit_widths("2..x"); }).find("--bits"), std::string::npos);
}

TEST(LibraryRecipe, BuildsTheFolderItReports) {
  LibraryRecipe recipe;
  recipe.widths = {2};
  recipe.als = false;
  recipe.use_cache = false;
  const std::string out = temp_dir("families");
  const LibraryBuildReport report = build_library(recipe, out);
  EXPECT_EQ(report.how, "built");
  EXPECT_EQ(report.signatures, 1u);
  const Library lib = Library::load(out);
  EXPECT_EQ(report.appmuls, lib.size());
  EXPECT_NE(lib.exact(Signature{2, 2, true, false}), nullptr);
}

TEST(FamilyComparison, ReportsTheFrontAgainstTheFamilies) {
  EXPECT_EQ(parse_family_names("all").size(), 8u);
  EXPECT_EQ(parse_family_names("trunc,bam"), (std::set<std::string>{"trunc", "bam"}));
  EXPECT_NE(error_of([] { parse_family_names("trunc,nope"); }).find("--families"), std::string::npos);

  FamilyComparisonOptions options;
  options.signature = Signature{3, 3, true, false};
  options.families = {"trunc", "bam", "perf"};
  options.als.max_per_signature = 4;
  options.als.seed_steps = 2;
  const FamilyComparison c = compare_with_families(options);
  EXPECT_FALSE(c.als.empty());
  EXPECT_LE(c.front.size(), c.als.size());
  const nlohmann::json j = c.to_json();
  for (const char* key : {"signature", "metric", "histogram", "exact_energy_fj", "als_members", "als_seconds", "rows",
                          "front", "dominated", "all_dominated"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["signature"], "w3s_a3u");
  EXPECT_EQ(j["als_members"], c.als.size());
  EXPECT_EQ(j["rows"].size(), c.report.rows.size());
  EXPECT_EQ(j["dominated"], c.report.dominated_count());

  // A library without ALS members cannot be compared.
  LibraryRecipe recipe;
  recipe.widths = {3};
  recipe.als = false;
  recipe.use_cache = false;
  build_library(recipe, temp_dir("no_als"));
  options.library = temp_dir("no_als");
  EXPECT_NE(error_of([&] { compare_with_families(options); }).find("--lib"), std::string::npos);
}

// A 2x2 layer whose loss change grows with the error on small weights.
TermsFile two_bit_terms() {
  TermsFile file;
  file.model = "m.pt";
  file.hessian = "gn";
  file.layers.push_back(testing::small_weight_layer("conv1", Signature{2, 2, true, false}, 1.0));
  return file;
}

TEST(LayerTailoring, WritesTheTailoredLibraryAndComparesIt) {
  const std::string terms = temp_dir("terms");
  two_bit_terms().save(terms);
  LibraryRecipe recipe;
  recipe.widths = {2};
  recipe.use_cache = false;
  recipe.als_per_signature = 4;
  recipe.seed_steps = 2;
  const std::string library = temp_dir("lib2");
  build_library(recipe, library);

  LayerTailoringRequest request;
  request.terms = terms;
  request.layer = "conv9";
  request.library = library;
  request.out = temp_dir("tailored");
  request.options.als.max_per_signature = 3;
  request.options.als.seed_steps = 2;
  request.options.als.als.max_error = 0.5;
  const std::string missing = error_of([&] { tailor_layer(request); });
  EXPECT_NE(missing.find("--layer 'conv9'"), std::string::npos) << missing;
  EXPECT_NE(missing.find("conv1"), std::string::npos) << missing;

  request.layer = "conv1";
  const LayerTailoring t = tailor_layer(request);
  ASSERT_FALSE(t.tailored.empty());
  EXPECT_EQ(Library::load(request.out).size(), t.tailored.size());
  ASSERT_EQ(t.tailored_dl.size(), t.tailored.size());
  for (size_t i = 0; i < t.tailored.size(); ++i) EXPECT_EQ(t.tailored_dl[i], t.layer.predict(t.tailored[i].table));
  EXPECT_FALSE(t.rows.empty());
  int better = 0;
  for (const TailorRow& r : t.rows) better += !r.tailored.empty() && r.tailored_dl < r.dl;
  EXPECT_EQ(t.better, better);
  const nlohmann::json j = t.to_json(request.out);
  EXPECT_EQ(j["layer"], "conv1");
  EXPECT_EQ(j["library"], library);
  EXPECT_EQ(j["tailored"].size(), t.tailored.size());
  EXPECT_EQ(j["tailored_better"], better);
}

}  // namespace
}  // namespace fames
