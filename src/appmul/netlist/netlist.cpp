#include "appmul/netlist/netlist.h"

#include <algorithm>
#include <cassert>
#include <tuple>
#include <unordered_map>

#include "util/error.h"

namespace fames {

int fanin_count(GateType type) {
  switch (type) {
    case GateType::kConst0:
    case GateType::kConst1:
    case GateType::kInput:
      return 0;
    case GateType::kBuf:
    case GateType::kNot:
      return 1;
    default:
      return 2;
  }
}

const char* gate_name(GateType type) {
  switch (type) {
    case GateType::kConst0:
      return "CONST0";
    case GateType::kConst1:
      return "CONST1";
    case GateType::kInput:
      return "INPUT";
    case GateType::kBuf:
      return "BUF";
    case GateType::kNot:
      return "NOT";
    case GateType::kAnd:
      return "AND";
    case GateType::kOr:
      return "OR";
    case GateType::kXor:
      return "XOR";
    case GateType::kNand:
      return "NAND";
    case GateType::kNor:
      return "NOR";
    case GateType::kXnor:
      return "XNOR";
  }
  return "?";
}

Netlist::Netlist(Signature sig, std::string name) : sig_(sig), name_(std::move(name)) {
  for (int i = 0; i < sig.ba; ++i) inputs_a_.push_back(add_gate(GateType::kInput));
  for (int i = 0; i < sig.bw; ++i) inputs_b_.push_back(add_gate(GateType::kInput));
}

int32_t Netlist::add_gate(GateType type, int32_t in0, int32_t in1) {
  const int n = fanin_count(type);
  const auto size = static_cast<int32_t>(nodes_.size());
  if ((n >= 1 && (in0 < 0 || in0 >= size)) || (n == 2 && (in1 < 0 || in1 >= size)))
    fail("netlist '{}': gate {} refers to a missing fanin node ({}, {})", name_, gate_name(type),
         in0, in1);
  nodes_.push_back(Gate{type, n >= 1 ? in0 : -1, n == 2 ? in1 : -1});
  return size;
}

int32_t Netlist::const0() {
  if (const0_ < 0) const0_ = add_gate(GateType::kConst0);
  return const0_;
}

int32_t Netlist::const1() {
  if (const1_ < 0) const1_ = add_gate(GateType::kConst1);
  return const1_;
}

void Netlist::set_outputs(std::vector<int32_t> outputs) {
  if (static_cast<int>(outputs.size()) != sig_.ba + sig_.bw)
    fail("netlist '{}': {} outputs given, the signature {} needs {}", name_, outputs.size(),
         sig_.key(), sig_.ba + sig_.bw);
  for (int32_t id : outputs)
    if (id < 0 || id >= static_cast<int32_t>(nodes_.size()))
      fail("netlist '{}': output refers to missing node {}", name_, id);
  outputs_ = std::move(outputs);
}

void Netlist::set_fanin(int32_t gate, int pin, int32_t source) {
  const auto size = static_cast<int32_t>(nodes_.size());
  if (gate < 0 || gate >= size || source < 0 || source >= size)
    fail("netlist '{}': set_fanin refers to a missing node ({} reading {})", name_, gate, source);
  Gate& g = nodes_[gate];
  if (pin < 0 || pin >= fanin_count(g.type))
    fail("netlist '{}': gate {} ({}) has no fanin {}", name_, gate, gate_name(g.type), pin);
  (pin == 0 ? g.in0 : g.in1) = source;
}

void Netlist::replace_uses(int32_t from, int32_t to) {
  const auto size = static_cast<int32_t>(nodes_.size());
  if (from < 0 || from >= size || to < 0 || to >= size || from == to)
    fail("netlist '{}': cannot replace node {} by node {}", name_, from, to);
  // `to` must not read `from`, directly or through other gates: search its fanin cone.
  std::vector<uint8_t> seen(nodes_.size(), 0);
  std::vector<int32_t> stack{to};
  seen[to] = 1;
  while (!stack.empty()) {
    const Gate& g = nodes_[stack.back()];
    stack.pop_back();
    for (int32_t in : {g.in0, g.in1}) {
      if (in == from) fail("netlist '{}': replacing node {} by node {} would form a cycle", name_, from, to);
      if (in >= 0 && !seen[in]) seen[in] = 1, stack.push_back(in);
    }
  }
  for (Gate& g : nodes_) {
    if (g.in0 == from) g.in0 = to;
    if (g.in1 == from) g.in1 = to;
  }
  for (int32_t& out : outputs_)
    if (out == from) out = to;
}

int64_t Netlist::gate_count() const {
  int64_t count = 0;
  for (const Gate& g : nodes_) count += fanin_count(g.type) > 0 ? 1 : 0;
  return count;
}

std::vector<int32_t> Netlist::topological_order(bool reachable_only) const {
  // Iterative depth-first search; colour 1 = on the stack, 2 = emitted. Meeting a colour-1 node
  // again means a cycle.
  const auto size = static_cast<int32_t>(nodes_.size());
  std::vector<uint8_t> colour(nodes_.size(), 0);
  std::vector<int32_t> order;
  order.reserve(nodes_.size());
  std::vector<std::pair<int32_t, int>> stack;  // node, next fanin to visit
  auto visit = [&](int32_t root) {
    if (colour[root] != 0) return;
    stack.push_back({root, 0});
    colour[root] = 1;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      const Gate& g = nodes_[node];
      if (next < fanin_count(g.type)) {
        const int32_t fanin = next == 0 ? g.in0 : g.in1;
        ++next;
        if (fanin < 0 || fanin >= size)
          fail("netlist '{}': node {} has a missing fanin {}", name_, node, fanin);
        if (colour[fanin] == 1)
          fail("netlist '{}': combinational cycle through node {} ({})", name_, fanin,
               gate_name(nodes_[fanin].type));
        if (colour[fanin] == 0) {
          colour[fanin] = 1;
          stack.push_back({fanin, 0});
        }
      } else {
        colour[node] = 2;
        order.push_back(node);
        stack.pop_back();
      }
    }
  };
  if (reachable_only) {
    for (int32_t id : outputs_) visit(id);
  } else {
    for (int32_t id = 0; id < size; ++id) visit(id);
  }
  return order;
}

int Netlist::depth() const {
  std::vector<int> level(nodes_.size(), 0);
  for (int32_t id : topological_order(true)) {
    const Gate& g = nodes_[id];
    const int n = fanin_count(g.type);
    if (n == 0) continue;
    int l = level[g.in0];
    if (n == 2) l = std::max(l, level[g.in1]);
    level[id] = l + 1;
  }
  int d = 0;
  for (int32_t id : outputs_) d = std::max(d, level[id]);
  return d;
}

namespace {

// Builds a hashed, constant-folded copy of a netlist gate by gate.
class StrashBuilder {
 public:
  explicit StrashBuilder(Netlist& out) : out_(out) {}

  int32_t make_not(int32_t x) {
    const Gate& g = out_.nodes()[x];
    if (g.type == GateType::kConst0) return out_.const1();
    if (g.type == GateType::kConst1) return out_.const0();
    if (g.type == GateType::kNot) return g.in0;
    return hashed(GateType::kNot, x, -1);
  }

  int32_t make_binary(GateType type, int32_t a, int32_t b) {
    if (a > b) std::swap(a, b);
    GateType base = type;
    bool invert = false;
    if (type == GateType::kNand) base = GateType::kAnd, invert = true;
    if (type == GateType::kNor) base = GateType::kOr, invert = true;
    if (type == GateType::kXnor) base = GateType::kXor, invert = true;
    const int32_t folded = fold(base, a, b);
    if (folded < 0) return hashed(type, a, b);
    return invert ? make_not(folded) : folded;
  }

 private:
  bool is_const(int32_t x, GateType c) const { return out_.nodes()[x].type == c; }
  bool complements(int32_t a, int32_t b) const {
    const Gate& ga = out_.nodes()[a];
    const Gate& gb = out_.nodes()[b];
    return (ga.type == GateType::kNot && ga.in0 == b) || (gb.type == GateType::kNot && gb.in0 == a);
  }

  // Result of base(a, b) when it simplifies to an existing node or constant, else -1.
  int32_t fold(GateType base, int32_t a, int32_t b) {
    const bool a0 = is_const(a, GateType::kConst0), a1 = is_const(a, GateType::kConst1);
    const bool b0 = is_const(b, GateType::kConst0), b1 = is_const(b, GateType::kConst1);
    const bool same = a == b, comp = complements(a, b);
    switch (base) {
      case GateType::kAnd:
        if (a0 || b0 || comp) return out_.const0();
        if (a1) return b;
        if (b1 || same) return a;
        return -1;
      case GateType::kOr:
        if (a1 || b1 || comp) return out_.const1();
        if (a0) return b;
        if (b0 || same) return a;
        return -1;
      case GateType::kXor:
        if (same) return out_.const0();
        if (comp) return out_.const1();
        if (a0) return b;
        if (b0) return a;
        if (a1) return make_not(b);
        if (b1) return make_not(a);
        return -1;
      default:
        assert(false);
        return -1;
    }
  }

  int32_t hashed(GateType type, int32_t a, int32_t b) {
    const uint64_t key =
        (uint64_t(uint8_t(type)) << 56) ^ (uint64_t(uint32_t(a)) << 28) ^ uint64_t(uint32_t(b) + 1);
    auto it = table_.find(key);
    if (it != table_.end()) return it->second;
    const int32_t id = out_.add_gate(type, a, b);
    table_.emplace(key, id);
    return id;
  }

  Netlist& out_;
  std::unordered_map<uint64_t, int32_t> table_;
};

}  // namespace

Netlist Netlist::strash() const {
  Netlist out(sig_, name_);
  StrashBuilder builder(out);
  std::vector<int32_t> map(nodes_.size(), -1);
  for (int i = 0; i < sig_.ba; ++i) map[inputs_a_[i]] = out.inputs_a_[i];
  for (int i = 0; i < sig_.bw; ++i) map[inputs_b_[i]] = out.inputs_b_[i];
  for (int32_t id : topological_order(!outputs_.empty())) {
    const Gate& g = nodes_[id];
    switch (g.type) {
      case GateType::kInput:
        if (map[id] < 0)
          fail("netlist '{}': node {} is an input that is not one of A or B", name_, id);
        break;
      case GateType::kConst0:
        map[id] = out.const0();
        break;
      case GateType::kConst1:
        map[id] = out.const1();
        break;
      case GateType::kBuf:
        map[id] = map[g.in0];
        break;
      case GateType::kNot:
        map[id] = builder.make_not(map[g.in0]);
        break;
      default:
        map[id] = builder.make_binary(g.type, map[g.in0], map[g.in1]);
        break;
    }
  }
  if (!outputs_.empty()) {
    std::vector<int32_t> outs;
    for (int32_t id : outputs_) outs.push_back(map[id]);
    out.set_outputs(std::move(outs));
    return out.sweep();  // folding can orphan gates it created on the way (e.g. NOT(NOT x))
  }
  return out;
}

Netlist Netlist::sweep() const {
  Netlist out(sig_, name_);
  std::vector<int32_t> map(nodes_.size(), -1);
  for (int i = 0; i < sig_.ba; ++i) map[inputs_a_[i]] = out.inputs_a_[i];
  for (int i = 0; i < sig_.bw; ++i) map[inputs_b_[i]] = out.inputs_b_[i];
  for (int32_t id : topological_order(true)) {
    const Gate& g = nodes_[id];
    if (g.type == GateType::kInput) continue;
    if (g.type == GateType::kConst0)
      map[id] = out.const0();
    else if (g.type == GateType::kConst1)
      map[id] = out.const1();
    else
      map[id] = out.add_gate(g.type, map[g.in0], fanin_count(g.type) == 2 ? map[g.in1] : -1);
  }
  std::vector<int32_t> outs;
  for (int32_t id : outputs_) outs.push_back(map[id]);
  if (!outs.empty()) out.set_outputs(std::move(outs));
  return out;
}

}  // namespace fames
