#include "appmul/netlist/cost.h"

#include <algorithm>
#include <random>

#include "appmul/netlist/simulate.h"
#include "util/error.h"

namespace fames {
namespace {

double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

// Number of value changes between consecutive patterns in a node's words.
int64_t count_toggles(const uint64_t* v, int64_t words, int64_t patterns) {
  int64_t toggles = 0;
  for (int64_t k = 0; k < words; ++k) {
    const uint64_t prev = (v[k] << 1) | (k > 0 ? v[k - 1] >> 63 : 0);
    uint64_t valid = ~uint64_t{0};
    if (k == 0) valid &= ~uint64_t{1};       // pattern 0 has no predecessor
    const int64_t last = patterns - 64 * k;  // patterns in this word
    if (last < 64) valid &= (uint64_t{1} << last) - 1;
    toggles += __builtin_popcountll((v[k] ^ prev) & valid);
  }
  return toggles;
}

}  // namespace

void operand_stream(const Signature& sig, const CostOptions& options, std::vector<uint32_t>& w_raw,
                    std::vector<uint32_t>& a_raw) {
  if (options.pairs < 2)
    fail("energy estimation needs at least 2 operand pairs, got {}", options.pairs);
  std::mt19937_64 rng(options.seed);
  w_raw.resize(options.pairs);
  a_raw.resize(options.pairs);
  if (!options.histogram) {
    for (int i = 0; i < options.pairs; ++i) {
      w_raw[i] = static_cast<uint32_t>(rng() & (sig.weight_levels() - 1));
      a_raw[i] = static_cast<uint32_t>(rng() & (sig.act_levels() - 1));
    }
    return;
  }
  const std::vector<double>& h = *options.histogram;
  if (static_cast<int64_t>(h.size()) != sig.table_size())
    fail("operand histogram for {} has {} entries, expected {}", sig.key(), h.size(),
         sig.table_size());
  std::vector<double> cdf(h.size());
  double sum = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    if (!(h[i] >= 0)) fail("operand histogram for {} has a negative weight", sig.key());
    cdf[i] = sum += h[i];
  }
  if (sum <= 0) fail("operand histogram for {} is all zero", sig.key());
  for (int i = 0; i < options.pairs; ++i) {
    const double u = uniform01(rng) * sum;
    const size_t p =
        std::min<size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin(), h.size() - 1);
    w_raw[i] = static_cast<uint32_t>(p >> sig.ba);
    a_raw[i] = static_cast<uint32_t>(p & (sig.act_levels() - 1));
  }
}

CircuitCost circuit_cost(const Netlist& net, const CellLibrary& lib, const CostOptions& options) {
  const auto& nodes = net.nodes();
  std::vector<double> load_ff(nodes.size(), 0.0);
  CircuitCost cost;
  double leakage_nw = 0;
  for (size_t id = 0; id < nodes.size(); ++id) {
    const Gate& g = nodes[id];
    const int fanins = fanin_count(g.type);
    if (fanins == 0) continue;
    const CellFigures& cell = lib.cell(g.type);
    if (static_cast<int>(cell.input_cap_ff.size()) != fanins)
      fail("cell library {} has no {}-input cell for gate type {}", lib.source, fanins,
           gate_name(g.type));
    cost.area_um2 += cell.area_um2;
    leakage_nw += cell.leakage_nw;
    load_ff[g.in0] += cell.input_cap_ff[0];
    if (fanins == 2) load_ff[g.in1] += cell.input_cap_ff[1];
    ++cost.gates;
  }
  for (int32_t id : net.outputs()) load_ff[id] += options.output_load_ff;

  std::vector<uint32_t> w_raw, a_raw;
  operand_stream(net.signature(), options, w_raw, a_raw);
  const NodeValues v = simulate_pairs(net, w_raw, a_raw);
  const double half_v2 = 0.5 * lib.voltage * lib.voltage;
  double dynamic = 0;
  for (size_t id = 0; id < nodes.size(); ++id) {
    const GateType t = nodes[id].type;
    if (t == GateType::kConst0 || t == GateType::kConst1) continue;
    const int64_t toggles = count_toggles(v.node(static_cast<int32_t>(id)), v.words, v.patterns);
    const double internal = fanin_count(t) > 0 ? lib.cell(t).internal_fj : 0.0;
    dynamic += static_cast<double>(toggles) * (internal + half_v2 * load_ff[id]);
  }
  cost.dynamic_fj = dynamic / static_cast<double>(options.pairs - 1);
  cost.leakage_fj = leakage_nw * options.cycle_ns * 1e-3;
  cost.energy_fj = cost.dynamic_fj + cost.leakage_fj;
  cost.depth = net.depth();
  return cost;
}

}  // namespace fames
