#include "appmul/synth/seed_circuits.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "appmul/library/metrics.h"
#include "appmul/netlist/simulate.h"

namespace fames {
namespace {

constexpr double kBlocked = std::numeric_limits<double>::infinity();
constexpr size_t kExactRechecks = 4;

// als_error of the circuit whose raw output patterns (table order) are `raw`; +inf when a product
// of 0 breaks the zero-product guard.
double raw_error(const Signature& sig, const std::vector<uint32_t>& raw, const AlsOptions& options) {
  const ProductTable exact = ProductTable::exact(sig);
  std::vector<int32_t> products(raw.size());
  for (size_t p = 0; p < raw.size(); ++p) {
    products[p] = output_value(sig, raw[p]);
    if (exact.data()[p] == 0 && options.max_zero_product_error >= 0 &&
        std::abs(products[p]) > options.max_zero_product_error)
      return kBlocked;
  }
  const ProductTable table(sig, std::move(products));
  const ErrorMetrics m = options.pair_weights.empty() ? error_metrics(table)
                                                      : error_metrics(table, options.pair_weights);
  return metric_value(m, options.metric);
}

// OR of the first `count` nodes of `bits` (count >= 1).
int32_t or_prefix(Netlist& net, const std::vector<int32_t>& bits, int count) {
  int32_t acc = bits[0];
  for (int i = 1; i < count; ++i) acc = net.add_gate(GateType::kOr, acc, bits[i]);
  return acc;
}

// Whether operand prefix gating (m weight bits, l activation bits) lets pair p through.
bool prefix_nonzero(const Signature& sig, int64_t p, int m, int l) {
  const uint32_t w = static_cast<uint32_t>(p >> sig.ba), a = static_cast<uint32_t>(p & (sig.act_levels() - 1));
  return (w & ((uint32_t{1} << m) - 1)) != 0 && (a & ((uint32_t{1} << l) - 1)) != 0;
}

struct Tie {
  int bit = -1;
  int32_t signal = -1;
  double proxy = 0;
};

// The exhaustive outputs of a circuit and what the ties are measured against.
class OutputTable {
 public:
  OutputTable(const Netlist& net, const AlsOptions& options)
      : sig_(net.signature()), options_(options), exact_(ProductTable::exact(sig_)) {
    values_ = simulate_exhaustive(net);
    raw_ = output_patterns(net, values_);
    const size_t n = raw_.size();
    weight_ = options.pair_weights.empty() ? std::vector<double>(n, 1.0) : options.pair_weights;
  }

  const NodeValues& values() const { return values_; }
  int64_t pairs() const { return static_cast<int64_t>(raw_.size()); }

  // The metric's contribution of pair p at error e (+inf where the zero-product guard forbids e).
  double pair_cost(int64_t p, int64_t e) const {
    const int32_t x = exact_.data()[p];
    if (x == 0 && options_.max_zero_product_error >= 0 && std::abs(e) > options_.max_zero_product_error)
      return kBlocked;
    const double ae = std::abs(double(e));
    switch (options_.metric) {
      case AlsMetric::kMred: return x == 0 ? 0 : weight_[p] * ae / std::abs(double(x));
      case AlsMetric::kEr: return weight_[p] * (e != 0);
      case AlsMetric::kMse: return weight_[p] * ae * ae;
      case AlsMetric::kNmed:
      case AlsMetric::kWce: return weight_[p] * ae;
    }
    return 0;
  }

  // Per pair: the proxy change if output bit `bit` flipped there.
  std::vector<double> flip_gains(int bit) const {
    std::vector<double> gain(raw_.size());
    for (size_t p = 0; p < raw_.size(); ++p) {
      const int32_t x = exact_.data()[p];
      const int64_t before = output_value(sig_, raw_[p]) - x;
      const int64_t after = output_value(sig_, raw_[p] ^ (uint32_t{1} << bit)) - x;
      const double cost_after = pair_cost(static_cast<int64_t>(p), after);
      gain[p] = cost_after == kBlocked ? kBlocked : cost_after - pair_cost(static_cast<int64_t>(p), before);
    }
    return gain;
  }

  // Exact error (als_error's) with output `bit` driven by `signal` instead of its constant.
  double error_with(const Tie& tie) const { return error_of(tied(tie)); }
  double error() const { return error_of(raw_); }
  void apply(const Tie& tie) { raw_ = tied(tie); }

 private:
  std::vector<uint32_t> tied(const Tie& tie) const {
    std::vector<uint32_t> raw = raw_;
    const uint64_t* s = values_.node(tie.signal);
    const uint32_t mask = uint32_t{1} << tie.bit;
    for (size_t p = 0; p < raw.size(); ++p)
      raw[p] = ((s[p / 64] >> (p % 64)) & 1) ? raw[p] | mask : raw[p] & ~mask;
    return raw;
  }

  double error_of(const std::vector<uint32_t>& raw) const { return raw_error(sig_, raw, options_); }

  Signature sig_;
  const AlsOptions& options_;
  ProductTable exact_;
  NodeValues values_;
  std::vector<uint32_t> raw_;
  std::vector<double> weight_;
};

// Proxy change of tying a constant-`level` output to `signal`: the gains of the pairs where the
// signal differs from the constant.
double tie_proxy(const NodeValues& values, int32_t signal, bool level, const std::vector<double>& gain) {
  const uint64_t* s = values.node(signal);
  double sum = 0;
  for (int64_t k = 0; k < values.words; ++k) {
    uint64_t differ = level ? ~s[k] : s[k];
    if (k == values.words - 1 && values.patterns % 64) differ &= (uint64_t{1} << (values.patterns % 64)) - 1;
    while (differ) {
      sum += gain[k * 64 + __builtin_ctzll(differ)];
      if (sum == kBlocked) return kBlocked;
      differ &= differ - 1;
    }
  }
  return sum;
}

// The best-scoring ties of this round (proxy < 0), best first, at most kExactRechecks.
std::vector<Tie> best_ties(const Netlist& net, const OutputTable& table) {
  std::vector<Tie> ties;
  const auto& nodes = net.nodes();
  for (int bit = 0; bit < static_cast<int>(net.outputs().size()); ++bit) {
    const GateType out_type = nodes[net.outputs()[bit]].type;
    if (out_type != GateType::kConst0 && out_type != GateType::kConst1) continue;
    const std::vector<double> gain = table.flip_gains(bit);
    for (size_t id = 0; id < nodes.size(); ++id) {
      if (nodes[id].type == GateType::kConst0 || nodes[id].type == GateType::kConst1) continue;
      const double proxy = tie_proxy(table.values(), static_cast<int32_t>(id),
                                     out_type == GateType::kConst1, gain);
      if (proxy < 0) ties.push_back({bit, static_cast<int32_t>(id), proxy});
    }
  }
  const size_t keep = std::min(ties.size(), kExactRechecks);
  std::partial_sort(ties.begin(), ties.begin() + keep, ties.end(), [](const Tie& a, const Tie& b) {
    return a.proxy != b.proxy ? a.proxy < b.proxy : std::make_pair(a.bit, a.signal) < std::make_pair(b.bit, b.signal);
  });
  ties.resize(keep);
  return ties;
}

}  // namespace

std::optional<Netlist> guard_zero_products(const Netlist& input, const AlsOptions& options) {
  const Netlist net = input.strash();
  const Signature& sig = net.signature();
  const std::vector<uint32_t> raw = output_patterns(net, simulate_exhaustive(net));
  if (options.max_zero_product_error < 0 || raw_error(sig, raw, options) != kBlocked) return std::nullopt;
  const ProductTable exact = ProductTable::exact(sig);
  uint32_t stray = 0;  // output bits that are 1 on some product of 0
  for (size_t p = 0; p < raw.size(); ++p)
    if (exact.data()[p] == 0) stray |= raw[p];
  int best_m = sig.bw, best_l = sig.ba;
  double best_error = kBlocked;
  std::vector<uint32_t> gated(raw.size());
  for (int total = 2; total <= sig.bw + sig.ba; ++total)  // fewest bits first: they win ties
    for (int m = std::max(1, total - sig.ba); m <= std::min(sig.bw, total - 1); ++m) {
      const int l = total - m;
      for (size_t p = 0; p < raw.size(); ++p)
        gated[p] = prefix_nonzero(sig, static_cast<int64_t>(p), m, l) ? raw[p] : raw[p] & ~stray;
      const double e = raw_error(sig, gated, options);
      if (e < best_error) best_error = e, best_m = m, best_l = l;
    }
  Netlist guarded = net;
  const int32_t gate = guarded.add_gate(GateType::kAnd, or_prefix(guarded, net.inputs_b(), best_m),
                                        or_prefix(guarded, net.inputs_a(), best_l));
  std::vector<int32_t> outputs = net.outputs();
  for (size_t b = 0; b < outputs.size(); ++b)
    if ((stray >> b) & 1) outputs[b] = guarded.add_gate(GateType::kAnd, outputs[b], gate);
  guarded.set_outputs(outputs);
  Netlist result = guarded.strash();
  result.set_name(input.name());
  return result;
}

std::optional<Netlist> compensate_constant_outputs(const Netlist& seed, const AlsOptions& options) {
  Netlist net = seed.strash();  // constant outputs are constant nodes; ids stay fixed below
  OutputTable table(net, options);
  double error = table.error();
  bool changed = false;
  for (;;) {
    Tie best;
    double best_error = error;
    for (const Tie& tie : best_ties(net, table)) {
      const double e = table.error_with(tie);
      if (e < best_error) best = tie, best_error = e;
    }
    if (best.bit < 0) break;
    table.apply(best);
    std::vector<int32_t> outputs = net.outputs();
    outputs[best.bit] = best.signal;
    net.set_outputs(outputs);  // the node values stay valid: no gate changed
    error = best_error;
    changed = true;
  }
  if (!changed) return std::nullopt;
  Netlist result = net.strash();
  result.set_name(seed.name());
  return result;
}

}  // namespace fames
