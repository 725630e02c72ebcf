#include "appmul/netlist/simulate.h"

#include "appmul/netlist/gate_eval.h"
#include "util/error.h"

namespace fames {
namespace {

// Fills every non-input node given the input nodes' words; clears bits past the last pattern.
void propagate(const Netlist& net, NodeValues& v) {
  const auto& nodes = net.nodes();
  const uint64_t last_mask = last_word_mask(v.patterns);
  for (int32_t id : net.topological_order(false)) {
    const Gate& g = nodes[id];
    if (g.type == GateType::kInput) continue;
    eval_gate_words(g.type, g.in0 >= 0 ? v.node(g.in0) : nullptr, g.in1 >= 0 ? v.node(g.in1) : nullptr,
                    v.values.data() + id * v.words, v.words, last_mask);
  }
}

NodeValues make_values(const Netlist& net, int64_t patterns) {
  NodeValues v;
  v.patterns = patterns;
  v.words = (patterns + 63) / 64;
  v.values.assign(net.nodes().size() * v.words, 0);
  return v;
}

}  // namespace

NodeValues simulate_pairs(const Netlist& net, const std::vector<uint32_t>& w_raw,
                          const std::vector<uint32_t>& a_raw) {
  if (w_raw.size() != a_raw.size())
    fail("simulate '{}': {} weights but {} activations", net.name(), w_raw.size(), a_raw.size());
  NodeValues v = make_values(net, static_cast<int64_t>(w_raw.size()));
  const Signature& sig = net.signature();
  for (size_t p = 0; p < w_raw.size(); ++p) {
    const uint64_t bit = uint64_t{1} << (p % 64);
    const size_t word = p / 64;
    for (int i = 0; i < sig.ba; ++i)
      if ((a_raw[p] >> i) & 1) v.values[net.inputs_a()[i] * v.words + word] |= bit;
    for (int i = 0; i < sig.bw; ++i)
      if ((w_raw[p] >> i) & 1) v.values[net.inputs_b()[i] * v.words + word] |= bit;
  }
  propagate(net, v);
  return v;
}

NodeValues simulate_exhaustive(const Netlist& net) {
  const Signature& sig = net.signature();
  NodeValues v = make_values(net, sig.table_size());
  // Input bit i of pattern p is bit i of p (A occupies the low ba bits, B the next bw).
  const int total_bits = sig.ba + sig.bw;
  for (int bit = 0; bit < total_bits; ++bit) {
    const int32_t id = bit < sig.ba ? net.inputs_a()[bit] : net.inputs_b()[bit - sig.ba];
    uint64_t* out = v.values.data() + id * v.words;
    for (int64_t k = 0; k < v.words; ++k) {
      uint64_t w = 0;
      if (bit < 6) {
        // Within one word the bit repeats with period 2^(bit+1).
        for (int b = 0; b < 64; ++b) w |= uint64_t(((b >> bit) & 1)) << b;
      } else {
        w = ((k >> (bit - 6)) & 1) ? ~uint64_t{0} : 0;
      }
      out[k] = w;
    }
    if (v.patterns < 64) out[0] &= (uint64_t{1} << v.patterns) - 1;
  }
  propagate(net, v);
  return v;
}

std::vector<uint32_t> output_patterns(const Netlist& net, const NodeValues& v) {
  std::vector<uint32_t> raw(static_cast<size_t>(v.patterns), 0);
  const auto& outs = net.outputs();
  for (size_t j = 0; j < outs.size(); ++j) {
    const uint64_t* words = v.node(outs[j]);
    for (int64_t p = 0; p < v.patterns; ++p) raw[p] |= uint32_t((words[p >> 6] >> (p & 63)) & 1) << j;
  }
  return raw;
}

ProductTable simulate_table(const Netlist& net) {
  const Signature& sig = net.signature();
  const int n = sig.ba + sig.bw;
  if (static_cast<int>(net.outputs().size()) != n)
    fail("simulate '{}': the netlist has {} outputs, the signature {} needs {}", net.name(),
         net.outputs().size(), sig.key(), n);
  const std::vector<uint32_t> raw = output_patterns(net, simulate_exhaustive(net));
  std::vector<int32_t> data(raw.size());
  for (size_t p = 0; p < raw.size(); ++p) data[p] = output_value(sig, raw[p]);
  return ProductTable(sig, std::move(data));
}

int32_t evaluate_ref(const Netlist& net, uint32_t w_raw, uint32_t a_raw) {
  const Signature& sig = net.signature();
  std::vector<uint8_t> value(net.nodes().size(), 0);
  for (int i = 0; i < sig.ba; ++i) value[net.inputs_a()[i]] = (a_raw >> i) & 1;
  for (int i = 0; i < sig.bw; ++i) value[net.inputs_b()[i]] = (w_raw >> i) & 1;
  for (int32_t id : net.topological_order(true)) {
    const Gate& g = net.nodes()[id];
    if (g.type == GateType::kInput) continue;
    const uint64_t x = g.in0 >= 0 ? value[g.in0] : 0, y = g.in1 >= 0 ? value[g.in1] : 0;
    uint64_t out = 0;
    eval_gate_words(g.type, &x, &y, &out, 1, /*last_mask=*/1);
    value[id] = static_cast<uint8_t>(out);
  }
  uint32_t raw = 0;
  for (size_t j = 0; j < net.outputs().size(); ++j) raw |= uint32_t{value[net.outputs()[j]]} << j;
  return output_value(sig, raw);
}

}  // namespace fames
