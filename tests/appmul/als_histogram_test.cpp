// ALS under an operand histogram: uniform behaviour is unchanged (fingerprints recorded from the
// engine before pair weights existed; equal weights build the uniform library), weights change what ALS may spend, and histogram files
// round-trip or fail naming the file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "appmul/synth/als.h"
#include "appmul/synth/als_library.h"
#include "appmul/synth/generators.h"
#include "core/operand_histogram.h"
#include "util/error.h"

namespace fames {
namespace {

Netlist exact_dadda(const Signature& sig) {
  return generate_multiplier(sig, GeneratorSpec{Family::kExactDadda});
}

// FNV-1a over every step's table, energy and metrics (their bits), and the step names.
uint64_t fingerprint(const std::vector<AppMul>& steps) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* data, size_t n) {
    const auto* b = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  for (const AppMul& m : steps) {
    mix(m.name.data(), m.name.size());
    mix(m.table.data().data(), m.table.data().size() * sizeof(int32_t));
    mix(&m.energy_fj, sizeof(double));
    const ErrorMetrics& e = m.metrics;
    for (double v : {e.er, e.med, e.nmed, e.mred, e.wce, e.mse, e.bias}) mix(&v, sizeof(double));
  }
  return h;
}

struct GoldenRun {
  const char* metric;
  double bound;
  size_t steps;
  uint64_t fingerprint;
};

// Recorded with the engine of commit 8a97094 (before pair weights): any change to the uniform
// path's sums, ranking or bound check shows here.
TEST(AlsHistogram, UniformRunsMatchTheEngineBeforePairWeights) {
  const Signature sig{4, 4, true, false};
  const GoldenRun golden[] = {
      {"mred", 0.2, 16, 0xa3678037815b3fb6ull}, {"nmed", 0.02, 12, 0x6187a6294e126984ull},
      {"er", 0.4, 15, 0x07149c781ff59a2dull},   {"wce", 12, 10, 0x6b134377dcabae3aull},
      {"mse", 20, 19, 0x05f638e8a8ea0782ull}};
  for (const GoldenRun& g : golden) {
    AlsOptions opt;
    opt.metric = parse_als_metric(g.metric);
    opt.max_error = g.bound;
    const auto steps = run_als(exact_dadda(sig), opt);
    EXPECT_EQ(steps.size(), g.steps) << g.metric;
    EXPECT_EQ(fingerprint(steps), g.fingerprint) << g.metric;
  }
}

// The library path (seeds, their guarding and compensation, fronts, thinning) under a histogram of
// equal weights is the uniform one, member for member.
TEST(AlsHistogram, UniformLibraryEqualsTheLibraryUnderEqualWeights) {
  const Signature sig{4, 4, true, false};
  AlsLibraryOptions options;
  options.seed_steps = 6;
  options.max_per_signature = 5;
  const auto uniform = build_als_members({sig}, options).front();
  options.histograms.add_counts(sig, std::vector<double>(sig.table_size(), 3.0));
  const auto weighted = build_als_members({sig}, options).front();
  EXPECT_GE(uniform.size(), 5u);
  EXPECT_EQ(weighted.size(), uniform.size());
  EXPECT_EQ(fingerprint(weighted), fingerprint(uniform));
}

// Explicit weights of 1 (or any one power of two) are the uniform case, step for step.
TEST(AlsHistogram, ConstantWeightsEqualUniform) {
  const Signature sig{4, 4, true, false};
  for (const char* metric : {"mred", "nmed", "er", "wce", "mse"}) {
    AlsOptions uniform;
    uniform.metric = parse_als_metric(metric);
    uniform.max_error = uniform.metric == AlsMetric::kWce ? 12 : uniform.metric == AlsMetric::kMse ? 20 : 0.2;
    const uint64_t expected = fingerprint(run_als(exact_dadda(sig), uniform));
    for (double w : {1.0, 0.25}) {
      AlsOptions weighted = uniform;
      weighted.pair_weights.assign(sig.table_size(), w);
      EXPECT_EQ(fingerprint(run_als(exact_dadda(sig), weighted)), expected) << metric << " weight " << w;
    }
  }
}

// w4s_a4u with weight code -8 and activation codes 12..15 never used.
std::vector<double> unused_corner_weights(const Signature& sig) {
  std::vector<double> weights(sig.table_size(), 1.0);
  for (uint32_t w = 0; w < sig.weight_levels(); ++w)
    for (uint32_t a = 0; a < sig.act_levels(); ++a)
      if (sig.w_value(w) == -8 || sig.a_value(a) >= 12) weights[(w << sig.ba) | a] = 0;
  return weights;
}

double cheapest(const std::vector<AppMul>& members) {
  double e = 1e300;
  for (const AppMul& m : members) e = std::min(e, m.energy_fj);
  return e;
}

// Measured under the histogram, ALS that knows it reaches lower energy than ALS that does not.
// (Against uniform ALS at uniform MRED it need not: the unused pairs here are the largest
// products, whose relative errors are the smallest, so the same bound is tighter under the
// histogram; the test prints both.)
TEST(AlsHistogram, UnusedPairsLetAlsReachLowerEnergyAtTheSameHistogramBound) {
  const Signature sig{4, 4, true, false};
  AlsLibraryOptions uniform;
  const auto uniform_members = build_als_members({sig}, uniform).front();
  AlsLibraryOptions weighted = uniform;
  weighted.histograms.add_counts(sig, unused_corner_weights(sig));
  const AlsOptions weighted_als = als_options_for(sig, weighted);
  ASSERT_FALSE(weighted_als.pair_weights.empty());
  const auto weighted_members = build_als_members({sig}, weighted).front();
  ASSERT_FALSE(weighted_members.empty());
  bool spends_unused_pairs = false;
  const ProductTable exact = ProductTable::exact(sig);
  for (const AppMul& m : weighted_members) {
    EXPECT_LE(als_error(m, weighted_als), 0.2 + 1e-12) << m.name;
    EXPECT_EQ(m.source, "als:mred:histogram");
    for (size_t p = 0; p < exact.data().size(); ++p)
      if (weighted_als.pair_weights[p] == 0 && m.table.data()[p] != exact.data()[p]) spends_unused_pairs = true;
  }
  EXPECT_TRUE(spends_unused_pairs);
  // The same bound under the histogram: which uniform members meet it, and at what energy.
  double uniform_cheapest = 1e300;
  for (const AppMul& m : uniform_members)
    if (als_error(m, weighted_als) <= 0.2) uniform_cheapest = std::min(uniform_cheapest, m.energy_fj);
  std::printf("w4s_a4u, histogram MRED <= 0.2: uniform ALS %.2f fJ (%.2f fJ at uniform MRED <= 0.2), "
              "histogram ALS %.2f fJ\n",
              uniform_cheapest, cheapest(uniform_members), cheapest(weighted_members));
  EXPECT_LT(cheapest(weighted_members), 0.97 * uniform_cheapest);
}

// WCE under weights is the max over used pairs only: unused pairs may go beyond the bound.
TEST(AlsHistogram, WeightedWceIgnoresUnusedPairs) {
  const Signature sig{4, 4, true, false};
  AlsOptions opt;
  opt.metric = AlsMetric::kWce;
  opt.max_error = 4;
  opt.pair_weights = unused_corner_weights(sig);
  const auto steps = run_als(exact_dadda(sig), opt);
  ASSERT_GE(steps.size(), 3u);
  double uniform_wce = 0;
  for (const AppMul& m : steps) {
    EXPECT_LE(error_metrics(m.table, opt.pair_weights).wce, 4) << m.name;
    uniform_wce = std::max(uniform_wce, m.metrics.wce);
  }
  EXPECT_GT(uniform_wce, 4);
}

TEST(AlsHistogram, BadPairWeightsAreRejected) {
  const Signature sig{3, 3, true, false};
  AlsOptions opt;
  opt.pair_weights.assign(10, 1.0);
  EXPECT_THROW(run_als(exact_dadda(sig), opt), Error);
  opt.pair_weights.assign(sig.table_size(), 0.0);
  EXPECT_THROW(run_als(exact_dadda(sig), opt), Error);
}

std::string temp_file(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("fames_hist_test_" + name)).string();
}

TEST(OperandHistogramFile, RoundTripsFullTables) {
  OperandHistograms h;
  const Signature a{4, 4, true, false}, b{2, 3, true, true};
  std::vector<double> wa(a.table_size()), wb(b.table_size());
  for (size_t i = 0; i < wa.size(); ++i) wa[i] = (i * 7919) % 13 + 0.125 * (i % 3);
  for (size_t i = 0; i < wb.size(); ++i) wb[i] = 1e9 + i;
  h.add_counts(a, wa);
  h.add_counts(b, wb);
  h.add_counts(b, wb);  // counts add up
  h.source["model"] = "m.pt";
  const std::string path = temp_file("roundtrip.json");
  h.save(path);
  const OperandHistograms back = OperandHistograms::load(path);
  std::remove(path.c_str());
  ASSERT_EQ(back.signatures(), (std::vector<Signature>{b, a}));
  EXPECT_EQ(*back.find(a), wa);
  for (size_t i = 0; i < wb.size(); ++i) EXPECT_EQ((*back.find(b))[i], 2 * wb[i]);
  EXPECT_EQ(back.source["model"], "m.pt");
  EXPECT_EQ(back.find(Signature{3, 3, true, false}), nullptr);
}

TEST(OperandHistogramFile, MarginalsGiveTheirOuterProduct) {
  const nlohmann::json doc = {
      {"format", "fames-operand-histogram"},
      {"version", 1},
      {"signatures", {{"w2s_a2u", {{"weight_counts", {1, 2, 0, 4}}, {"activation_counts", {3, 0, 1, 2}}}}}}};
  const OperandHistograms h = OperandHistograms::from_json(doc, "test");
  const std::vector<double>& w = *h.find(Signature{2, 2, true, false});
  ASSERT_EQ(w.size(), 16u);
  EXPECT_EQ(w[(1 << 2) | 0], 6);  // w_raw 1 x a_raw 0: 2 * 3
  EXPECT_EQ(w[(3 << 2) | 3], 8);
  EXPECT_EQ(w[(2 << 2) | 1], 0);
}

// Each bad file fails with fames::Error whose message names the file.
TEST(OperandHistogramFile, CorruptFilesNameTheFile) {
  const std::string path = temp_file("corrupt.json");
  const std::string good_rows = "[[1,2],[3,4]]";
  const std::string bad[] = {
      R"({"format": "fames-operand-histogram", "version": 1, "signatures": {"w1s_a1u": {"counts": [[1,2],[3)",
      R"({"format": "something-else", "version": 1, "signatures": {}})",
      R"({"format": "fames-operand-histogram", "version": 2, "signatures": {"w1s_a1u": {"counts": )" + good_rows + "}}}",
      R"({"format": "fames-operand-histogram", "version": 1, "signatures": {"w9x": {"counts": )" + good_rows + "}}}",
      R"({"format": "fames-operand-histogram", "version": 1, "signatures": {"w2s_a1u": {"counts": )" + good_rows + "}}}",
      R"({"format": "fames-operand-histogram", "version": 1, "signatures": {"w1s_a1u": {"counts": [[1,-2],[3,4]]}}})",
      R"({"format": "fames-operand-histogram", "version": 1, "signatures": {"w1s_a1u": {"counts": [[0,0],[0,0]]}}})",
      R"({"format": "fames-operand-histogram", "version": 1, "signatures": {"w1s_a1u": {"weight_counts": [1,1]}}})",
  };
  for (const std::string& text : bad) {
    {
      std::ofstream out(path);
      out << text;
    }
    try {
      OperandHistograms::load(path);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  std::remove(path.c_str());
  EXPECT_THROW(OperandHistograms::load(path), Error);  // missing
}

}  // namespace
}  // namespace fames
