// Bit-parallel simulation of a Netlist: 64 operand pairs per uint64_t word, every node at once.
//
// Pattern order of the exhaustive simulation is the ProductTable order: pattern p has
// w_raw = p >> ba and a_raw = p & (2^ba - 1), so pattern p is table entry p. Node values are
// returned node-major ("signatures", reused by the ALS engine): value word k of node n is
// values[n * words + k]; bit b of that word is the node's value on pattern 64k+b. Bits past the
// last pattern are zero. Throws fames::Error if the netlist has a cycle or no outputs.
#pragma once
#include <cstdint>
#include <vector>

#include "appmul/netlist/netlist.h"
#include "core/product_table.h"

namespace fames {

struct NodeValues {
  int64_t patterns = 0;          // number of simulated operand pairs
  int64_t words = 0;             // ceil(patterns / 64)
  std::vector<uint64_t> values;  // nodes().size() * words, node-major
  const uint64_t* node(int32_t id) const { return values.data() + id * words; }
};

// The product that the raw output pattern `raw` (bit j = output P[j]) stands for: two's complement
// of width ba+bw when either operand is signed, unsigned otherwise.
inline int32_t output_value(const Signature& sig, uint32_t raw) {
  const int n = sig.ba + sig.bw;
  int32_t v = static_cast<int32_t>(raw);
  if ((sig.signed_w || sig.signed_a) && ((raw >> (n - 1)) & 1)) v -= int32_t{1} << n;
  return v;
}

// The raw output pattern of every simulated operand pair, in order (bit j = output P[j]).
// REQUIRES: `v` simulates `net`, whose outputs are set.
std::vector<uint32_t> output_patterns(const Netlist& net, const NodeValues& v);

// Simulates the operand pairs (w_raw[i], a_raw[i]) in order. REQUIRES equal sizes; raw values are
// masked to the operand widths.
NodeValues simulate_pairs(const Netlist& net, const std::vector<uint32_t>& w_raw,
                          const std::vector<uint32_t>& a_raw);

// Simulates all 2^(bw+ba) pairs in table order.
NodeValues simulate_exhaustive(const Netlist& net);

// The product table the netlist computes (outputs read as two's complement of width ba+bw if
// either operand is signed, unsigned otherwise). Milliseconds for an 8x8 circuit of ~500 gates.
ProductTable simulate_table(const Netlist& net);

// Reference: evaluates the netlist on one operand pair, one gate at a time (for tests).
int32_t evaluate_ref(const Netlist& net, uint32_t w_raw, uint32_t a_raw);

}  // namespace fames
