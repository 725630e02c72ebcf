// Netlist: a gate-level multiplier circuit, a DAG of single-output gates.
//
// Node ids index nodes(). Inputs: A[0..ba-1] (activation operand, LSB first) and B[0..bw-1] (weight
// operand, LSB first). Outputs: P[0..ba+bw-1], LSB first; P is read as two's complement of width
// ba+bw when either operand is signed, as unsigned otherwise. Fanins may refer to any node id;
// topological_order() rejects cycles. A Netlist owns its nodes; copying it copies the circuit.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/signature.h"

namespace fames {

enum class GateType : uint8_t { kConst0, kConst1, kInput, kBuf, kNot, kAnd, kOr, kXor, kNand, kNor, kXnor };

// Number of fanins of a gate type (0, 1 or 2) and its name as used in BLIF/Verilog writers ("AND", ...).
int fanin_count(GateType type);
const char* gate_name(GateType type);

struct Gate {
  GateType type = GateType::kConst0;
  int32_t in0 = -1;  // first fanin node id, -1 if unused
  int32_t in1 = -1;  // second fanin node id, -1 if unused
};

class Netlist {
 public:
  Netlist() = default;
  // Creates the input nodes A[ba] then B[bw]; outputs are unset until set_outputs().
  explicit Netlist(Signature sig, std::string name = "");

  const Signature& signature() const { return sig_; }
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // Node construction. Returns the new node's id. REQUIRES: fanin ids exist.
  int32_t add_gate(GateType type, int32_t in0 = -1, int32_t in1 = -1);
  int32_t const0();  // shared constant nodes, created on first use
  int32_t const1();

  const std::vector<Gate>& nodes() const { return nodes_; }
  const std::vector<int32_t>& inputs_a() const { return inputs_a_; }  // ba ids, LSB first
  const std::vector<int32_t>& inputs_b() const { return inputs_b_; }  // bw ids, LSB first
  const std::vector<int32_t>& outputs() const { return outputs_; }    // ba+bw ids, LSB first
  void set_outputs(std::vector<int32_t> outputs);                     // REQUIRES: size ba+bw

  // Editing, checked: each throws fames::Error naming the netlist on a missing node id.
  // Fanin `pin` (0 or 1, below fanin_count of the gate's type) of `gate` reads `source` instead.
  // May form a cycle (topological_order() reports it).
  void set_fanin(int32_t gate, int pin, int32_t source);
  // Every fanin and output that reads `from` reads `to` instead. Throws if `to` depends on `from`
  // (the edit would form a cycle) or from == to.
  void replace_uses(int32_t from, int32_t to);

  // Number of logic gates (excluding inputs, constants).
  int64_t gate_count() const;

  // Node ids in an order where every fanin precedes its gate; only nodes reachable from outputs
  // when `reachable_only`. Throws fames::Error("combinational cycle ...") on a cycle.
  std::vector<int32_t> topological_order(bool reachable_only = false) const;
  // Longest input-to-output path, counting logic gates (BUF and NOT count as one level).
  int depth() const;

  // Structural hashing: merges gates with the same type and fanins (commutative inputs sorted),
  // folds constants and double inversions. Returns a new, equivalent netlist without dead logic
  // (when outputs are set).
  Netlist strash() const;
  // Removes nodes that no output depends on (inputs are kept). Renumbers nodes.
  Netlist sweep() const;

 private:
  Signature sig_;
  std::string name_;
  std::vector<Gate> nodes_;
  std::vector<int32_t> inputs_a_, inputs_b_, outputs_;
  int32_t const0_ = -1, const1_ = -1;
};

}  // namespace fames
