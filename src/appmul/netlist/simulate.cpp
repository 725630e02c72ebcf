#include "appmul/netlist/simulate.h"

#include "util/error.h"

namespace fames {
namespace {

uint64_t eval_word(GateType type, uint64_t x, uint64_t y) {
  switch (type) {
    case GateType::kBuf:
      return x;
    case GateType::kNot:
      return ~x;
    case GateType::kAnd:
      return x & y;
    case GateType::kOr:
      return x | y;
    case GateType::kXor:
      return x ^ y;
    case GateType::kNand:
      return ~(x & y);
    case GateType::kNor:
      return ~(x | y);
    case GateType::kXnor:
      return ~(x ^ y);
    case GateType::kConst1:
      return ~uint64_t{0};
    default:
      return 0;
  }
}

// Fills every non-input node given the input nodes' words; clears bits past the last pattern.
void propagate(const Netlist& net, NodeValues& v) {
  const auto& nodes = net.nodes();
  const int64_t words = v.words;
  const int tail = static_cast<int>(v.patterns % 64);
  const uint64_t last_mask = tail == 0 ? ~uint64_t{0} : (uint64_t{1} << tail) - 1;
  for (int32_t id : net.topological_order(false)) {
    const Gate& g = nodes[id];
    if (g.type == GateType::kInput) continue;
    uint64_t* out = v.values.data() + id * words;
    const uint64_t* x = g.in0 >= 0 ? v.node(g.in0) : nullptr;
    const uint64_t* y = g.in1 >= 0 ? v.node(g.in1) : nullptr;
    // One loop per gate type, so the compiler vectorises each.
    switch (g.type) {
      case GateType::kBuf:
        for (int64_t k = 0; k < words; ++k) out[k] = x[k];
        break;
      case GateType::kNot:
        for (int64_t k = 0; k < words; ++k) out[k] = ~x[k];
        break;
      case GateType::kAnd:
        for (int64_t k = 0; k < words; ++k) out[k] = x[k] & y[k];
        break;
      case GateType::kOr:
        for (int64_t k = 0; k < words; ++k) out[k] = x[k] | y[k];
        break;
      case GateType::kXor:
        for (int64_t k = 0; k < words; ++k) out[k] = x[k] ^ y[k];
        break;
      case GateType::kNand:
        for (int64_t k = 0; k < words; ++k) out[k] = ~(x[k] & y[k]);
        break;
      case GateType::kNor:
        for (int64_t k = 0; k < words; ++k) out[k] = ~(x[k] | y[k]);
        break;
      case GateType::kXnor:
        for (int64_t k = 0; k < words; ++k) out[k] = ~(x[k] ^ y[k]);
        break;
      default:
        for (int64_t k = 0; k < words; ++k) out[k] = eval_word(g.type, 0, 0);
        break;
    }
    if (words > 0) out[words - 1] &= last_mask;
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

ProductTable simulate_table(const Netlist& net) {
  const Signature& sig = net.signature();
  const int n = sig.ba + sig.bw;
  if (static_cast<int>(net.outputs().size()) != n)
    fail("simulate '{}': the netlist has {} outputs, the signature {} needs {}", net.name(),
         net.outputs().size(), sig.key(), n);
  const NodeValues v = simulate_exhaustive(net);
  std::vector<uint32_t> raw(static_cast<size_t>(sig.table_size()), 0);
  for (int j = 0; j < n; ++j) {
    const uint64_t* words = v.node(net.outputs()[j]);
    for (int64_t p = 0; p < v.patterns; ++p)
      raw[p] |= uint32_t((words[p >> 6] >> (p & 63)) & 1) << j;
  }
  const bool is_signed = sig.signed_w || sig.signed_a;
  std::vector<int32_t> data(raw.size());
  for (size_t p = 0; p < raw.size(); ++p) {
    int32_t value = static_cast<int32_t>(raw[p]);
    if (is_signed && (raw[p] >> (n - 1)) & 1) value -= int32_t{1} << n;
    data[p] = value;
  }
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
    value[id] = eval_word(g.type, x, y) & 1;
  }
  const int n = sig.ba + sig.bw;
  int64_t result = 0;
  for (int j = 0; j < n; ++j) result |= int64_t{value[net.outputs()[j]]} << j;
  if ((sig.signed_w || sig.signed_a) && (result >> (n - 1)) & 1) result -= int64_t{1} << n;
  return static_cast<int32_t>(result);
}

}  // namespace fames
