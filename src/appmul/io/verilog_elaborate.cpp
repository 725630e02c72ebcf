// Flattens the top module of a parsed Verilog file into a Netlist (verilog_elaborator.h): the
// graph, modules and instances, and the final walk from the outputs. Logic no output depends on is
// never built.
#include <algorithm>
#include <set>

#include "appmul/io/verilog_elaborator.h"

namespace fames::verilog {

Elaborator::Elaborator(const std::vector<Module>& modules, const std::string& file,
                       const VerilogReadOptions& options)
    : modules_(modules), file_(file), options_(options) {
  for (const Module& m : modules) {
    if (by_name_.count(m.name)) fail_at(file_, m.line, "module '{}' is defined twice", m.name);
    by_name_[m.name] = &m;
  }
  prefixes_.push_back({});
  const0_ = add_node(GateType::kConst0, -1, -1, 0);
  const1_ = add_node(GateType::kConst1, -1, -1, 0);
}

int32_t Elaborator::add_node(GateType type, int32_t in0, int32_t in1, int line) {
  if (static_cast<int64_t>(nodes_.size()) >= kMaxNodes)
    fail_at(file_, line, "the design has more than {} gates and wire bits (the reader's limit)",
            kMaxNodes);
  nodes_.push_back({type, in0, in1, -1, line});
  return static_cast<int32_t>(nodes_.size() - 1);
}

int32_t Elaborator::add_net(std::string_view name, int32_t prefix, bool indexed, int64_t index,
                            int decl_line) {
  const int32_t id = add_node(GateType::kBuf, -1, -1, 0);
  nets_.push_back({name, prefix, index, indexed, decl_line});
  nodes_[id].net = static_cast<int32_t>(nets_.size() - 1);
  return id;
}

void Elaborator::step(int line) {
  if (++steps_ > kMaxSteps)
    fail_at(file_, line,
            "elaborating the design takes more than {} steps (statements and expression nodes "
            "over all module instances; the reader's limit)",
            kMaxSteps);
}

std::string Elaborator::net_name(int32_t net) const {
  const NetInfo& info = nets_[net];
  std::vector<std::string_view> path;
  for (int32_t p = info.prefix; p > 0; p = prefixes_[p].parent) path.push_back(prefixes_[p].instance);
  std::string name;
  for (auto it = path.rbegin(); it != path.rend(); ++it) name += fmt::format("{}.", *it);
  name += info.name;
  if (info.indexed) name += fmt::format("[{}]", info.index);
  return name;
}

void Elaborator::drive(int32_t net, int32_t source, int line) {
  IrNode& n = nodes_[net];
  if (n.net < 0) fail_at(file_, line, "this target cannot be assigned");
  if (n.in0 >= 0)
    fail_at(file_, line, "'{}' is driven twice (also at line {})", net_name(n.net), n.line);
  n.in0 = source;
  n.line = line;
}

const Module& Elaborator::top_module() const {
  if (!options_.top.empty()) {
    auto it = by_name_.find(options_.top);
    if (it == by_name_.end())
      fail("{}: no module named '{}' (the top module asked for)", file_, options_.top);
    return *it->second;
  }
  std::set<std::string> instantiated;
  for (const Module& m : modules_)
    for (const Instance& i : m.instances) instantiated.insert(i.cell);
  std::vector<const Module*> tops;
  for (const Module& m : modules_)
    if (!instantiated.count(m.name)) tops.push_back(&m);
  if (tops.size() == 1) return *tops[0];
  if (tops.empty())
    fail("{}: every module is instantiated by another; the hierarchy is recursive", file_);
  std::string names;
  for (const Module* m : tops) names += (names.empty() ? "" : ", ") + m->name;
  fail("{}: several top-level modules ({}); choose one with --top", file_, names);
}

// The module's nets (bits created per declaration, widths checked first) in a fresh scope.
Scope Elaborator::declare(const Module& m, int32_t prefix) {
  Scope scope;
  for (const NetDecl& d : m.decls) {
    step(d.line);
    auto [it, fresh] = scope.try_emplace(std::string_view(d.name));
    Signal& s = it->second;
    if (fresh) {
      s.name = d.name;
      s.line = d.line;
    } else if (d.has_range && s.has_range && (d.msb != s.msb || d.lsb != s.lsb)) {
      fail_at(file_, d.line, "'{}' is declared again with a different range (first at line {})",
              d.name, s.line);
    }
    if (d.direction != Direction::kNone) {
      if (s.direction != Direction::kNone && s.direction != d.direction)
        fail_at(file_, d.line, "'{}' is declared both input and output", d.name);
      s.direction = d.direction;
    }
    if (d.has_range) s.has_range = true, s.msb = d.msb, s.lsb = d.lsb;
    s.is_signed |= d.is_signed;
  }
  for (auto& [name, s] : scope) {
    const int64_t width = s.has_range ? std::abs(s.msb - s.lsb) + 1 : 1;  // |msb|, |lsb| <= 2^31
    if (width > kMaxNetWidth)
      fail_at(file_, s.line, "'{}' is {} bits wide; the reader's limit is {}", name, width,
              kMaxNetWidth);
    for (int64_t p = 0; p < width; ++p) {
      const int64_t index = !s.has_range ? 0 : s.msb >= s.lsb ? s.lsb + p : s.lsb - p;
      s.bits.push_back(add_net(name, prefix, s.has_range, index, s.line));
    }
  }
  for (const NetDecl& d : m.decls)
    if (d.supply >= 0)
      for (int32_t bit : scope.at(d.name).bits) drive(bit, d.supply ? const1_ : const0_, d.line);
  check_ports(m, scope);
  return scope;
}

// Every port has a direction, and every net with a direction is a port.
void Elaborator::check_ports(const Module& m, const Scope& scope) const {
  const std::set<std::string_view> ports(m.ports.begin(), m.ports.end());
  for (const std::string& port : m.ports) {
    auto it = scope.find(port);
    if (it == scope.end() || it->second.direction == Direction::kNone)
      fail_at(file_, m.line, "port '{}' of module '{}' has no input/output declaration", port,
              m.name);
  }
  for (const auto& [name, s] : scope)
    if (s.direction != Direction::kNone && !ports.count(name))
      fail_at(file_, s.line, "'{}' is declared as a port but is not in module '{}''s port list",
              name, m.name);
}

void Elaborator::elaborate(const Module& m, Scope& scope, int32_t prefix, int depth) {
  if (depth > kMaxModuleNesting)
    fail_at(file_, m.line, "module '{}' is nested more than {} levels deep (recursive instantiation?)",
            m.name, kMaxModuleNesting);
  for (const Assign& a : m.assigns) {
    const std::vector<int32_t> target = lvalue(a.lhs, scope);
    assign(target, a.rhs, scope, a.line, "the left-hand side");
  }
  for (const Instance& inst : m.instances) instantiate(inst, scope, prefix, depth);
}

void Elaborator::instantiate(const Instance& inst, Scope& scope, int32_t prefix, int depth) {
  step(inst.line);
  if (inst.primitive) return instantiate_primitive(inst, scope);
  if (auto it = by_name_.find(inst.cell); it != by_name_.end())
    return instantiate_module(*it->second, inst, scope, prefix, depth);
  CellFunction f;
  if (lookup_cell(inst.cell, &f)) return instantiate_cell(f, inst, scope);
  fail_at(file_, inst.line, "unknown cell or module '{}' (instance '{}')", inst.cell, inst.name);
}

void Elaborator::instantiate_module(const Module& child, const Instance& inst, Scope& scope,
                                    int32_t prefix, int depth) {
  if (depth + 1 > kMaxModuleNesting)
    fail_at(file_, inst.line,
            "module '{}' is nested more than {} levels deep (recursive instantiation?)",
            child.name, kMaxModuleNesting);
  prefixes_.push_back({prefix, inst.name});
  const int32_t child_prefix = static_cast<int32_t>(prefixes_.size() - 1);
  Scope child_scope = declare(child, child_prefix);
  const bool named = !inst.connections.empty() && !inst.connections[0].pin.empty();
  if (!named && inst.connections.size() > child.ports.size())
    fail_at(file_, inst.line, "instance '{}' connects {} ports, but '{}' has {}", inst.name,
            inst.connections.size(), child.name, child.ports.size());
  std::set<std::string> seen;
  for (size_t i = 0; i < inst.connections.size(); ++i) {
    const Connection& c = inst.connections[i];
    if (c.pin.empty() == named)
      fail_at(file_, c.line, "instance '{}' mixes named and positional connections", inst.name);
    const std::string port = named ? c.pin : child.ports[i];
    auto found = child_scope.find(port);
    if (named && (found == child_scope.end() || found->second.direction == Direction::kNone))
      fail_at(file_, c.line, "module '{}' has no port '{}'", child.name, port);
    if (!seen.insert(port).second) fail_at(file_, c.line, "port '{}' is connected twice", port);
    if (c.empty) continue;
    Signal& p = found->second;
    if (p.direction == Direction::kInput) {
      assign(p.bits, c.expr, scope, c.line,
             fmt::format("input port '{}' of '{}'", port, inst.name));
    } else {
      const std::vector<int32_t> target = lvalue(c.expr, scope);
      if (target.size() != p.bits.size())
        fail_at(file_, c.line,
                "width mismatch: output port '{}' of '{}' has {} bits, connected to {}", port,
                inst.name, p.bits.size(), target.size());
      for (size_t b = 0; b < target.size(); ++b) drive(target[b], p.bits[b], c.line);
    }
  }
  elaborate(child, child_scope, child_prefix, depth + 1);
}

void Elaborator::instantiate_cell(const CellFunction& f, const Instance& inst, Scope& scope) {
  const bool named = !inst.connections.empty() && !inst.connections[0].pin.empty();
  std::vector<int> in_idx, out_idx;
  if (named) {
    std::vector<std::string> pins;
    for (const Connection& c : inst.connections) {
      if (c.pin.empty())
        fail_at(file_, c.line, "instance '{}' mixes named and positional connections", inst.name);
      pins.push_back(c.pin);
    }
    const std::string why = order_named_pins(f, pins, &in_idx, &out_idx);
    if (!why.empty())
      fail_at(file_, inst.line, "cannot map the pins of '{}' ({}): {}", inst.name, inst.cell, why);
  } else {
    const int n = static_cast<int>(inst.connections.size());
    const int n_in = f.inputs < 0 ? 0 : f.inputs == 0 ? n - f.outputs() : f.inputs;
    if (n != n_in + f.outputs())
      fail_at(file_, inst.line, "cell '{}' ({}) takes {} connections, {} given", inst.name,
              inst.cell, n_in + f.outputs(), n);
    for (int i = 0; i < n; ++i)
      (i < n_in ? in_idx : out_idx).push_back(i);  // inputs first, as cell models list them
  }
  if (f.inputs == 0 && in_idx.empty())
    fail_at(file_, inst.line, "cell '{}' has no inputs connected", inst.name);
  std::vector<int32_t> inputs;
  for (int i : in_idx) {
    const Connection& c = inst.connections[i];
    if (c.empty) fail_at(file_, c.line, "input pin {} of '{}' is not connected", c.pin, inst.name);
    inputs.push_back(one_bit_pin(c, scope, inst));
  }
  current_line_ = inst.line;
  const std::vector<int32_t> outputs = build_cell(f, inputs, *this);
  for (size_t k = 0; k < out_idx.size(); ++k) {
    const Connection& c = inst.connections[out_idx[k]];
    if (c.empty) continue;  // an unused output (e.g. a half adder's carry)
    const std::vector<int32_t> target = lvalue(c.expr, scope);
    if (target.size() != 1)
      fail_at(file_, c.line, "width mismatch: output pin of '{}' is 1 bit, connected to {} bits",
              inst.name, target.size());
    drive(target[0], outputs[k], c.line);
  }
}

// Verilog gate primitives: outputs first. and/or/xor/nand/nor/xnor have one output and any number
// of inputs; not/buf have any number of outputs and one input, the last terminal.
void Elaborator::instantiate_primitive(const Instance& inst, Scope& scope) {
  const size_t n = inst.connections.size();
  for (const Connection& c : inst.connections) {
    if (!c.pin.empty())
      fail_at(file_, c.line, "gate primitive '{}' takes positional terminals only", inst.cell);
    if (c.empty) fail_at(file_, c.line, "gate primitive '{}' has an empty terminal", inst.cell);
  }
  const bool single_input = inst.cell == "not" || inst.cell == "buf";
  if (n < 2)
    fail_at(file_, inst.line, "gate primitive '{}' needs an output and an input", inst.cell);
  std::vector<int32_t> inputs;
  const size_t first_input = single_input ? n - 1 : 1;
  for (size_t i = first_input; i < n; ++i)
    inputs.push_back(one_bit_pin(inst.connections[i], scope, inst));
  current_line_ = inst.line;
  int32_t value;
  if (single_input) {
    value = gate(inst.cell == "not" ? GateType::kNot : GateType::kBuf, inputs[0], -1);
  } else {
    static const std::map<std::string, GateType> types = {
        {"and", GateType::kAnd},   {"or", GateType::kOr},   {"xor", GateType::kXor},
        {"nand", GateType::kNand}, {"nor", GateType::kNor}, {"xnor", GateType::kXnor}};
    value = build_primitive(types.at(inst.cell), inputs, *this);
  }
  for (size_t i = 0; i < first_input; ++i) {
    const Connection& c = inst.connections[i];
    const std::vector<int32_t> target = lvalue(c.expr, scope);
    if (target.size() != 1)
      fail_at(file_, c.line, "width mismatch: the output of '{}' is 1 bit, connected to {} bits",
              inst.cell, target.size());
    drive(target[0], value, c.line);
  }
}

Netlist Elaborator::run() {
  const Module& top = top_module();
  Scope scope = declare(top, 0);
  std::vector<std::string> inputs, outputs;
  for (const std::string& p : top.ports)
    (scope.at(p).direction == Direction::kInput ? inputs : outputs).push_back(p);
  const auto pick_input = [&](const std::string& wanted, const char* flag,
                              const std::string& other) {
    if (!wanted.empty()) {
      if (std::find(inputs.begin(), inputs.end(), wanted) == inputs.end())
        fail("{}: {} names '{}', but module '{}' has no such input port (inputs: {})", file_, flag,
             wanted, top.name, fmt::join(inputs, ", "));
      return wanted;
    }
    for (const std::string& p : inputs)
      if (p != other) return p;
    fail("{}: module '{}' needs two input ports (the operands), it has {}", file_, top.name,
         inputs.size());
  };
  std::string a_port = options_.a_port, b_port = options_.b_port;
  if (!a_port.empty() || b_port.empty()) {
    a_port = pick_input(a_port, "--a-port", options_.b_port);
    b_port = pick_input(b_port, "--b-port", a_port);
  } else {
    b_port = pick_input(b_port, "--b-port", "");
    a_port = pick_input(a_port, "--a-port", b_port);
  }
  if (a_port == b_port) fail("{}: --a-port and --b-port both name '{}'", file_, a_port);
  std::string out_port = options_.out_port;
  if (out_port.empty()) {
    if (outputs.size() != 1)
      fail(
          "{}: module '{}' has {} output ports; the product must be the only one (or pass "
          "--out-port)",
          file_, top.name, outputs.size());
    out_port = outputs[0];
  } else if (std::find(outputs.begin(), outputs.end(), out_port) == outputs.end()) {
    fail("{}: --out-port names '{}', but module '{}' has no such output port", file_, out_port,
         top.name);
  }
  const Signal& a = scope.at(a_port);
  const Signal& b = scope.at(b_port);
  const Signal& o = scope.at(out_port);
  for (const Signal* s : {&a, &b})
    if (s->bits.size() > 8)
      fail_at(file_, s->line, "operand port '{}' has {} bits; fames supports operands of 1..8 bits",
              s->name, s->bits.size());
  Signature sig;
  sig.ba = static_cast<int>(a.bits.size());
  sig.bw = static_cast<int>(b.bits.size());
  sig.signed_a = options_.signed_a || a.is_signed;
  sig.signed_w = options_.signed_w || b.is_signed;
  if (static_cast<int>(o.bits.size()) != sig.ba + sig.bw)
    fail_at(file_, o.line,
            "width mismatch: output '{}' has {} bits, but a {}x{}-bit product needs {}", o.name,
            o.bits.size(), sig.ba, sig.bw, sig.ba + sig.bw);
  for (const std::string& p : inputs) {
    const Signal& s = scope.at(p);
    const int32_t operand = p == a_port ? kOperandA : p == b_port ? kOperandB : kOtherInput;
    for (size_t i = 0; i < s.bits.size(); ++i) {
      const int32_t in = add_node(GateType::kInput, operand, static_cast<int32_t>(i), s.line);
      nodes_.back().net = nodes_[s.bits[i]].net;  // names the port bit in messages
      drive(s.bits[i], in, s.line);
    }
  }
  elaborate(top, scope, 0, 0);
  return build(o.bits, o, sig, top.name);
}

// Depth-first from the output bits, children before parents, with an explicit stack (netlists
// have tens of thousands of nodes). A fanin found "in progress" closes a combinational cycle.
Netlist Elaborator::build(const std::vector<int32_t>& out_bits, const Signal& out_port,
                          Signature sig, const std::string& name) {
  Netlist netlist(sig, name);
  enum : uint8_t { kNew, kOpen, kDone };
  std::vector<uint8_t> state(nodes_.size(), kNew);
  std::vector<int32_t> mapped(nodes_.size(), -1);
  const auto line_of = [&](int32_t n) { return nodes_[n].line; };
  const auto describe = [&](int32_t n) {
    return nodes_[n].net >= 0 ? fmt::format("'{}'", net_name(nodes_[n].net))
                              : std::string("this statement");
  };
  std::vector<int32_t> outputs;
  for (size_t k = 0; k < out_bits.size(); ++k) {
    std::vector<std::pair<int32_t, int32_t>> stack = {{out_bits[k], -1}};  // (node, parent)
    while (!stack.empty()) {
      const auto [n, parent] = stack.back();
      const IrNode& node = nodes_[n];
      if (state[n] == kDone) {
        stack.pop_back();
        continue;
      }
      if (state[n] == kNew) {
        state[n] = kOpen;
        if (node.net >= 0 && node.type == GateType::kBuf && node.in0 < 0) {
          if (parent < 0)
            fail_at(file_, out_port.line, "output bit {} has no driver", net_name(node.net));
          fail_at(file_, line_of(parent), "'{}' is used but never driven (declared at line {})",
                  net_name(node.net), nets_[node.net].decl_line);
        }
        if (node.type == GateType::kInput) {
          if (node.in0 == kOtherInput)
            fail_at(file_, node.line, "the output depends on input '{}', which is neither operand",
                    net_name(node.net));
          continue;
        }
        for (int32_t child : {node.in0, node.in1}) {
          if (child < 0) continue;
          if (state[child] == kOpen)
            fail_at(file_, line_of(child), "combinational cycle through {}", describe(child));
          if (state[child] == kNew) stack.push_back({child, n});
        }
        continue;
      }
      // All fanins are mapped: create the node.
      if (node.type == GateType::kInput) {
        mapped[n] = (node.in0 == kOperandA ? netlist.inputs_a() : netlist.inputs_b())[node.in1];
      } else if (node.net >= 0) {
        mapped[n] = mapped[node.in0];  // a wire is its driver
      } else if (node.type == GateType::kConst0) {
        mapped[n] = netlist.const0();
      } else if (node.type == GateType::kConst1) {
        mapped[n] = netlist.const1();
      } else {
        mapped[n] =
            netlist.add_gate(node.type, mapped[node.in0], node.in1 < 0 ? -1 : mapped[node.in1]);
      }
      state[n] = kDone;
      stack.pop_back();
    }
    outputs.push_back(mapped[out_bits[k]]);
  }
  netlist.set_outputs(std::move(outputs));
  return netlist;
}

Netlist elaborate_verilog(const std::vector<Module>& modules, const std::string& file,
                          const VerilogReadOptions& options) {
  return Elaborator(modules, file, options).run();
}

}  // namespace fames::verilog
