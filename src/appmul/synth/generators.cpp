#include "appmul/synth/generators.h"

#include <algorithm>
#include <functional>

#include "appmul/netlist/gate_builder.h"
#include "util/error.h"

namespace fames {
namespace {

int64_t floor_div(int64_t x, int64_t d) { return x >= 0 ? x / d : -((-x + d - 1) / d); }

bool negative_term(const Signature& sig, int i, int j) {
  return (sig.signed_w && i == sig.bw - 1) != (sig.signed_a && j == sig.ba - 1);
}

// Baugh-Wooley partial products of the kept terms. rows[j][c] is the bit of term (c - j, j), or -1;
// the last row holds the constant bits: the sum of -2^(i+j) over kept negative terms plus `extra`,
// modulo 2^n.
std::vector<Bits> partial_product_rows(GateBuilder& g, const Signature& sig,
                                       const std::function<bool(int, int)>& keep, int64_t extra) {
  Netlist& net = g.net();
  const int n = sig.bw + sig.ba;
  std::vector<Bits> rows;
  int64_t constant = extra;
  for (int j = 0; j < sig.ba; ++j) {
    Bits row(static_cast<size_t>(n), -1);
    for (int i = 0; i < sig.bw; ++i) {
      if (!keep(i, j)) continue;
      const int32_t w = net.inputs_b()[i], a = net.inputs_a()[j];
      if (negative_term(sig, i, j)) {
        row[i + j] = g.nand_(w, a);
        constant -= int64_t{1} << (i + j);
      } else {
        row[i + j] = g.and_(w, a);
      }
    }
    rows.push_back(std::move(row));
  }
  Bits const_row(static_cast<size_t>(n), -1);
  const uint64_t bits = static_cast<uint64_t>(constant) & ((uint64_t{1} << n) - 1);
  for (int c = 0; c < n; ++c)
    if ((bits >> c) & 1) const_row[c] = g.one();
  rows.push_back(std::move(const_row));
  return rows;
}

Bits dadda_of_rows(GateBuilder& g, const std::vector<Bits>& rows, int n) {
  BitColumns cols(n);
  for (const Bits& row : rows)
    for (int c = 0; c < n; ++c)
      if (row[c] >= 0) cols.add(c, row[c]);
  return g.dadda_sum(std::move(cols));
}

// Magnitude of an operand (m bits, unsigned) and its sign bit (-1 when unsigned).
std::pair<Bits, int32_t> magnitude(GateBuilder& g, const Bits& x, bool is_signed) {
  if (!is_signed) return {x, -1};
  const int32_t sign = x.back();
  return {g.conditional_negate(x, sign), sign};
}

// Applies the product sign to a magnitude product of n bits.
Bits apply_sign(GateBuilder& g, const Bits& mag, int32_t sign_w, int32_t sign_a) {
  if (sign_w < 0 && sign_a < 0) return mag;
  const int32_t negate = sign_w < 0 ? sign_a : sign_a < 0 ? sign_w : g.xor_(sign_w, sign_a);
  return g.conditional_negate(mag, negate);
}

// DRUM operand scaling: t = k bits below the leading one with LSB forced to 1, sel = one-hot
// shift amount (sel[s]: the operand was shifted right by s).
std::pair<Bits, Bits> drum_scale(GateBuilder& g, const Bits& mag, int k) {
  const int m = static_cast<int>(mag.size());
  if (m <= k) return {mag, Bits{g.one()}};
  const Bits lead = g.leading_one(mag);
  Bits sel{g.not_(g.or_all(Bits(mag.begin() + k, mag.end())))};
  for (int s = 1; s <= m - k; ++s) sel.push_back(lead[s + k - 1]);
  Bits t{g.or_(mag[0], g.not_(sel[0]))};
  for (int i = 1; i < k; ++i) {
    Bits terms;
    for (int s = 0; s <= m - k; ++s) terms.push_back(g.and_(sel[s], mag[i + s]));
    t.push_back(g.or_all(terms));
  }
  return {t, sel};
}

Bits drum_product(GateBuilder& g, const Bits& mw, const Bits& ma, int k, int n) {
  auto [tw, sw] = drum_scale(g, mw, k);
  auto [ta, sa] = drum_scale(g, ma, k);
  const Bits prod = g.multiply_unsigned(tw, ta, static_cast<int>(tw.size() + ta.size()));
  return g.onehot_shift_left(g.onehot_shift_left(prod, sw, n), sa, n);
}

Bits mitchell_product(GateBuilder& g, const Bits& mw, const Bits& ma, int f, int n) {
  const int mx = static_cast<int>(mw.size()), my = static_cast<int>(ma.size());
  const int F = std::max(mx, my) - 1;
  const Bits lead_w = g.leading_one(mw), lead_a = g.leading_one(ma);
  // Fraction of x = x << (F - p), low F bits; only the top f of them are used.
  auto fraction = [&](const Bits& mag, const Bits& lead) {
    Bits sel(static_cast<size_t>(F + 1), g.zero());
    for (int p = 0; p < static_cast<int>(lead.size()); ++p) sel[F - p] = lead[p];
    Bits frac = g.onehot_shift_left(mag, sel, F);
    for (int i = 0; i < F - f; ++i) frac[i] = g.zero();
    return frac;
  };
  const Bits sum = g.array_sum({fraction(mw, lead_w), fraction(ma, lead_a)}, F + 1);
  Bits mant(sum.begin(), sum.begin() + F);
  mant.push_back(g.one());  // implicit leading one; zero operands give an all-zero shift select
  const int width = F + 1 + mx + my;
  Bits shifted = g.onehot_shift_left(mant, lead_w, width);
  shifted = g.onehot_shift_left(shifted, lead_a, width);
  shifted = g.onehot_shift_left(shifted, {g.not_(sum[F]), sum[F]}, width);
  Bits out;
  for (int c = 0; c < n; ++c) out.push_back(F + c < width ? shifted[F + c] : g.zero());
  return out;
}

void check_range(bool ok, const GeneratorSpec& spec, const Signature& sig) {
  if (!ok)
    fail("generator {} has parameters ({}, {}) out of range for {}", family_name(spec.family),
         spec.p, spec.q, sig.key());
}

}  // namespace

const char* family_name(Family family) {
  switch (family) {
    case Family::kExactArray:
      return "exact_array";
    case Family::kExactDadda:
      return "exact_dadda";
    case Family::kTrunc:
      return "trunc";
    case Family::kTruncCorrected:
      return "truncc";
    case Family::kBrokenArray:
      return "bam";
    case Family::kPerforation:
      return "perf";
    case Family::kLowerOr:
      return "loa";
    case Family::kApproxFullAdder:
      return "afa";
    case Family::kDrum:
      return "drum";
    case Family::kMitchell:
      return "mitchell";
  }
  return "?";
}

std::string generator_name(const GeneratorSpec& spec, const Signature& sig) {
  std::string params;
  switch (spec.family) {
    case Family::kExactArray:
    case Family::kExactDadda:
      break;
    case Family::kTrunc:
    case Family::kTruncCorrected:
    case Family::kDrum:
      params = fmt::format("_k{}", spec.p);
      break;
    case Family::kBrokenArray:
      params = fmt::format("_h{}v{}", spec.p, spec.q);
      break;
    case Family::kPerforation:
      params = fmt::format("_s{}m{}", spec.p, spec.q);
      break;
    case Family::kLowerOr:
    case Family::kApproxFullAdder:
      params = fmt::format("_l{}", spec.p);
      break;
    case Family::kMitchell:
      params = fmt::format("_f{}", spec.p);
      break;
  }
  return fmt::format("{}{}_{}", family_name(spec.family), params, sig.key());
}

std::string generator_source(const GeneratorSpec& spec) {
  if (spec.family == Family::kExactArray) return "exact:array";
  if (spec.family == Family::kExactDadda) return "exact:dadda";
  return std::string("family:") + family_name(spec.family);
}

Netlist generate_multiplier(const Signature& sig, const GeneratorSpec& spec) {
  if (!sig.valid()) fail("cannot generate a multiplier for the invalid signature {}", sig.key());
  const int n = sig.bw + sig.ba;
  Netlist net(sig, generator_name(spec, sig));
  GateBuilder g(net);
  auto all = [](int, int) { return true; };
  const int p = spec.p, q = spec.q;
  Bits out;
  switch (spec.family) {
    case Family::kExactArray:
      out = g.array_sum(partial_product_rows(g, sig, all, 0), n);
      break;
    case Family::kExactDadda:
      out = dadda_of_rows(g, partial_product_rows(g, sig, all, 0), n);
      break;
    case Family::kTrunc:
    case Family::kTruncCorrected: {
      check_range(p >= 0 && p <= n, spec, sig);
      int64_t dropped4 = 0;  // sum of sign*2^(i+j) over dropped terms = 4x their expected value
      for (int i = 0; i < sig.bw; ++i)
        for (int j = 0; j < sig.ba; ++j)
          if (i + j < p) dropped4 += (negative_term(sig, i, j) ? -1 : 1) * (int64_t{1} << (i + j));
      const int64_t correction =
          spec.family == Family::kTruncCorrected ? floor_div(dropped4 + 2, 4) : 0;
      out = dadda_of_rows(g,
                          partial_product_rows(
                              g, sig, [p](int i, int j) { return i + j >= p; }, correction),
                          n);
      break;
    }
    case Family::kBrokenArray:
      check_range(p >= 0 && p <= sig.ba && q >= 0 && q <= n, spec, sig);
      out = dadda_of_rows(g,
                          partial_product_rows(
                              g, sig, [p, q](int i, int j) { return j >= p && i + j >= q; }, 0),
                          n);
      break;
    case Family::kPerforation:
      check_range(p >= 0 && q >= 0 && p + q <= sig.ba, spec, sig);
      out = dadda_of_rows(g,
                          partial_product_rows(
                              g, sig, [p, q](int, int j) { return j < p || j >= p + q; }, 0),
                          n);
      break;
    case Family::kLowerOr:
      check_range(p >= 0 && p <= n, spec, sig);
      out = g.array_sum(partial_product_rows(g, sig, all, 0), n, RowAddApprox{p, 0});
      break;
    case Family::kApproxFullAdder:
      check_range(p >= 0 && p <= n, spec, sig);
      out = g.array_sum(partial_product_rows(g, sig, all, 0), n, RowAddApprox{0, p});
      break;
    case Family::kDrum:
    case Family::kMitchell: {
      const Bits w(net.inputs_b().begin(), net.inputs_b().end());
      const Bits a(net.inputs_a().begin(), net.inputs_a().end());
      auto [mw, sw] = magnitude(g, w, sig.signed_w);
      auto [ma, sa] = magnitude(g, a, sig.signed_a);
      Bits mag;
      if (spec.family == Family::kDrum) {
        check_range(p >= 1 && p <= 8, spec, sig);
        mag = drum_product(g, mw, ma, p, n);
        if (sw >= 0 || sa >= 0) {
          // DRUM may round a magnitude up past the signed product range: saturate at 2^(n-1) - 1.
          const int32_t over = mag[n - 1];
          for (int c = 0; c < n - 1; ++c) mag[c] = g.or_(mag[c], over);
          mag[n - 1] = g.zero();
        }
      } else {
        check_range(p >= 1 && p <= std::max(sig.bw, sig.ba) - 1, spec, sig);
        mag = mitchell_product(g, mw, ma, p, n);
      }
      out = apply_sign(g, mag, sw, sa);
      break;
    }
  }
  net.set_outputs(out);
  return net.strash();
}

std::vector<GeneratorSpec> default_family_specs(const Signature& sig) {
  const int n = sig.bw + sig.ba, wide = std::max(sig.bw, sig.ba);
  std::vector<GeneratorSpec> specs{{Family::kExactArray}, {Family::kExactDadda}};
  for (int k = 1; k <= n - 2; ++k) specs.push_back({Family::kTrunc, k});
  for (int k = 2; k <= n - 1; ++k) specs.push_back({Family::kTruncCorrected, k});
  for (int h = 1; h <= std::min(3, sig.ba - 1); ++h)
    for (int v : {h + 2, h + 4})
      if (v <= n - 2) specs.push_back({Family::kBrokenArray, h, v});
  for (int s = 0; s <= 2; ++s)
    for (int m = 1; m <= 2; ++m)
      if (s + m <= sig.ba - 1) specs.push_back({Family::kPerforation, s, m});
  for (int l = 2; l <= n - 2; ++l) specs.push_back({Family::kLowerOr, l});
  for (int l = 2; l <= n - 2; l += 2) specs.push_back({Family::kApproxFullAdder, l});
  for (int k = 2; k < wide; ++k) specs.push_back({Family::kDrum, k});
  for (int f = wide - 1; f >= std::max(1, wide - 5); f -= 2)
    specs.push_back({Family::kMitchell, f});
  return specs;
}

}  // namespace fames
