// Every generated multiplier's table against an independent arithmetic model of its family
// (written here from the family definitions in generators.h, not from the circuits), and exact
// circuits against w * a on every pair.
#include "appmul/synth/generators.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

#include "appmul/netlist/simulate.h"
#include "util/error.h"

namespace fames {
namespace {

int bit(uint32_t x, int i) { return static_cast<int>((x >> i) & 1); }
int msb(int64_t x) { return 63 - __builtin_clzll(static_cast<uint64_t>(x)); }

int32_t wrap(int64_t v, const Signature& sig) {
  const int n = sig.bw + sig.ba;
  int64_t r = v & ((int64_t{1} << n) - 1);
  if ((sig.signed_w || sig.signed_a) && (r >> (n - 1)) & 1) r -= int64_t{1} << n;
  return static_cast<int32_t>(r);
}

int term_sign(const Signature& sig, int i, int j) {
  return ((sig.signed_w && i == sig.bw - 1) != (sig.signed_a && j == sig.ba - 1)) ? -1 : 1;
}

// Sum of the signed partial-product terms that `keep` accepts.
template <typename Keep>
int64_t kept_terms(const Signature& sig, uint32_t w, uint32_t a, Keep keep) {
  int64_t sum = 0;
  for (int i = 0; i < sig.bw; ++i)
    for (int j = 0; j < sig.ba; ++j)
      if (keep(i, j)) sum += term_sign(sig, i, j) * bit(w, i) * bit(a, j) * (int64_t{1} << (i + j));
  return sum;
}

// Array accumulation at the value level: rows of present/absent bits added by ripple adders whose
// low columns are OR-based (loa) or use sum = !carry full adders (afa).
int64_t array_model(const Signature& sig, uint32_t w, uint32_t a, int or_cols, int afa_cols) {
  const int n = sig.bw + sig.ba;
  using Row = std::array<int, 16>;  // -1 absent, else 0/1
  std::array<Row, 9> rows;
  int64_t constant = 0;
  for (int j = 0; j < sig.ba; ++j) {
    Row& row = rows[j];
    row.fill(-1);
    for (int i = 0; i < sig.bw; ++i) {
      const int and_bit = bit(w, i) & bit(a, j);
      if (term_sign(sig, i, j) < 0) {
        row[i + j] = 1 - and_bit;
        constant -= int64_t{1} << (i + j);
      } else {
        row[i + j] = and_bit;
      }
    }
  }
  Row& const_row = rows[sig.ba];
  const_row.fill(-1);
  for (int c = 0; c < n; ++c)
    if ((static_cast<uint64_t>(constant) >> c) & 1) const_row[c] = 1;
  Row acc;
  acc.fill(-1);
  for (int r = 0; r <= sig.ba; ++r) {
    const Row& row = rows[r];
    int carry = -1;
    for (int c = 0; c < n; ++c) {
      const int x = acc[c], y = row[c];
      if (c < or_cols) {
        if (x >= 0 && y >= 0) {
          acc[c] = x | y;
          if (c == or_cols - 1) carry = x & y;
        } else {
          acc[c] = x >= 0 ? x : y;
        }
        continue;
      }
      int count = 0, ones = 0;
      for (int b : {x, y, carry})
        if (b >= 0) ++count, ones += b;
      if (count == 0) {
        acc[c] = -1;
        carry = -1;
      } else if (count == 1) {
        acc[c] = ones;
        carry = -1;
      } else if (count == 3 && c < afa_cols) {
        acc[c] = (x ^ y) | carry;
        carry = x & y;
      } else {
        acc[c] = ones & 1;
        carry = ones >> 1;
      }
    }
  }
  int64_t value = 0;
  for (int c = 0; c < n; ++c) value |= int64_t{std::max(acc[c], 0)} << c;
  return value;
}

int64_t drum_model(int64_t x_mag, int k, int* shift) {
  *shift = 0;
  if (x_mag < (int64_t{1} << k)) return x_mag;
  *shift = msb(x_mag) - k + 1;
  return (x_mag >> *shift) | 1;
}

int64_t mitchell_model(int64_t x, int64_t y, int f, int F) {
  if (x == 0 || y == 0) return 0;
  const int px = msb(x), py = msb(y);
  const int64_t frac_mask = (int64_t{1} << F) - 1,
                keep_mask = frac_mask & ~((int64_t{1} << (F - f)) - 1);
  const int64_t fx = ((x << (F - px)) & keep_mask), fy = ((y << (F - py)) & keep_mask);
  const int64_t s = fx + fy;
  const int64_t carry = s >> F;
  const int64_t mant = (int64_t{1} << F) + (s & frac_mask);
  return (mant << (px + py + carry)) >> F;
}

int64_t model(const Signature& sig, const GeneratorSpec& spec, uint32_t w_raw, uint32_t a_raw) {
  const int p = spec.p, q = spec.q;
  switch (spec.family) {
    case Family::kExactArray:
    case Family::kExactDadda:
      return int64_t{sig.w_value(w_raw)} * sig.a_value(a_raw);
    case Family::kTrunc:
      return kept_terms(sig, w_raw, a_raw, [p](int i, int j) { return i + j >= p; });
    case Family::kTruncCorrected: {
      // Correction = expected value of the dropped terms (each AND is 1 with probability 1/4),
      // rounded.
      double expected = 0;
      for (int i = 0; i < sig.bw; ++i)
        for (int j = 0; j < sig.ba; ++j)
          if (i + j < p)
            expected += term_sign(sig, i, j) * 0.25 * static_cast<double>(int64_t{1} << (i + j));
      const auto correction = static_cast<int64_t>(std::floor(expected + 0.5));
      return kept_terms(sig, w_raw, a_raw, [p](int i, int j) { return i + j >= p; }) + correction;
    }
    case Family::kBrokenArray:
      return kept_terms(sig, w_raw, a_raw, [p, q](int i, int j) { return j >= p && i + j >= q; });
    case Family::kPerforation:
      return kept_terms(sig, w_raw, a_raw, [p, q](int, int j) { return j < p || j >= p + q; });
    case Family::kLowerOr:
      return array_model(sig, w_raw, a_raw, p, 0);
    case Family::kApproxFullAdder:
      return array_model(sig, w_raw, a_raw, 0, p);
    case Family::kDrum:
    case Family::kMitchell: {
      const int64_t w = sig.w_value(w_raw), a = sig.a_value(a_raw);
      const int64_t wm = std::abs(w), am = std::abs(a);
      int64_t mag;
      if (spec.family == Family::kDrum) {
        int sw, sa;
        const int64_t tw = drum_model(wm, p, &sw), ta = drum_model(am, p, &sa);
        mag = (tw * ta) << (sw + sa);
        if (sig.signed_w || sig.signed_a)
          mag = std::min(mag, (int64_t{1} << (sig.bw + sig.ba - 1)) - 1);
      } else {
        mag = mitchell_model(wm, am, p, std::max(sig.bw, sig.ba) - 1);
      }
      return (w < 0) != (a < 0) ? -mag : mag;
    }
  }
  return 0;
}

void expect_matches_model(const Signature& sig, const GeneratorSpec& spec) {
  const Netlist net = generate_multiplier(sig, spec);
  ASSERT_EQ(net.name(), generator_name(spec, sig));
  const ProductTable t = simulate_table(net);
  for (uint32_t w = 0; w < sig.weight_levels(); ++w)
    for (uint32_t a = 0; a < sig.act_levels(); ++a) {
      const int32_t expected = wrap(model(sig, spec, w, a), sig);
      if (t.raw(w, a) != expected)
        FAIL() << net.name() << " w=" << sig.w_value(w) << " a=" << sig.a_value(a) << ": circuit "
               << t.raw(w, a) << ", model " << expected;
    }
}

std::vector<Signature> all_signatures(bool signed_w, bool signed_a) {
  std::vector<Signature> sigs;
  for (int bw = 2; bw <= 8; ++bw)
    for (int ba = 2; ba <= 8; ++ba) sigs.push_back(Signature{bw, ba, signed_w, signed_a});
  return sigs;
}

TEST(Generators, ExactCircuitsComputeTheProductForAll49SignaturesAndSignedness) {
  for (bool sw : {false, true})
    for (bool sa : {false, true})
      for (const Signature& sig : all_signatures(sw, sa))
        for (Family f : {Family::kExactArray, Family::kExactDadda}) {
          const ProductTable t = simulate_table(generate_multiplier(sig, {f}));
          ASSERT_TRUE(t == ProductTable::exact(sig)) << generator_name({f}, sig);
        }
}

TEST(Generators, EveryFamilyMemberMatchesItsModelSignedWeightsUnsignedActivations) {
  for (const Signature& sig : all_signatures(true, false))
    for (const GeneratorSpec& spec : default_family_specs(sig)) expect_matches_model(sig, spec);
}

TEST(Generators, EveryFamilyMemberMatchesItsModelOtherSignedness) {
  for (bool sw : {false, true})
    for (bool sa : {false, true})
      for (int bw : {2, 3, 5, 8})
        for (int ba : {2, 5, 8}) {
          if (bw + ba > 13 && !(sw && sa)) continue;  // the big ones once: signed x signed
          const Signature sig{bw, ba, sw, sa};
          for (const GeneratorSpec& spec : default_family_specs(sig))
            expect_matches_model(sig, spec);
        }
}

TEST(Generators, NamesAreUniqueAndDescriptive) {
  const Signature sig{8, 8, true, false};
  std::set<std::string> names;
  for (const GeneratorSpec& spec : default_family_specs(sig))
    names.insert(generator_name(spec, sig));
  EXPECT_EQ(names.size(), default_family_specs(sig).size());
  EXPECT_EQ(generator_name({Family::kTrunc, 3}, sig), "trunc_k3_w8s_a8u");
  EXPECT_EQ(generator_source({Family::kTrunc, 3}), "family:trunc");
  EXPECT_EQ(generator_source({Family::kExactArray}), "exact:array");
}

TEST(Generators, ApproximationsShrinkTheCircuit) {
  const Signature sig{8, 8, true, false};
  const int64_t exact = generate_multiplier(sig, {Family::kExactDadda}).gate_count();
  EXPECT_LT(generate_multiplier(sig, {Family::kTrunc, 6}).gate_count(), exact);
  EXPECT_LT(generate_multiplier(sig, {Family::kPerforation, 0, 2}).gate_count(), exact);
  EXPECT_LT(generate_multiplier(sig, {Family::kApproxFullAdder, 8}).gate_count(),
            generate_multiplier(sig, {Family::kExactArray}).gate_count());
  EXPECT_LT(generate_multiplier(sig, {Family::kLowerOr, 6}).gate_count(),
            generate_multiplier(sig, {Family::kExactArray}).gate_count());
}

TEST(Generators, OutOfRangeParametersAreRejected) {
  EXPECT_THROW(generate_multiplier(Signature{4, 4, true, false}, {Family::kTrunc, 9}), Error);
  EXPECT_THROW(generate_multiplier(Signature{4, 4, true, false}, {Family::kPerforation, 3, 2}),
               Error);
}

}  // namespace
}  // namespace fames
