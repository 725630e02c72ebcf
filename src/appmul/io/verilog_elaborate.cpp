// Flattens the top module of a parsed Verilog file into a Netlist.
//
// Elaboration first builds an intermediate graph in which every wire bit is a "net" node whose
// driver is filled in when an assign/instance drives it, so statements may appear in any order.
// The Netlist is then built by a depth-first walk from the output bits: nets dissolve into their
// drivers, and that walk is where undriven wires and combinational cycles are found and reported
// with the line of the statement involved. Logic no output depends on is never built.
#include <algorithm>
#include <map>
#include <set>

#include "appmul/io/verilog.h"
#include "appmul/io/verilog_ast.h"
#include "appmul/io/verilog_cells.h"

namespace fames::verilog {
namespace {

constexpr int kMaxDepth = 64;  // module nesting; deeper means a module instantiates itself

struct IrNode {
  GateType type = GateType::kConst0;
  int32_t in0 = -1, in1 = -1;  // fanins; for nets in0 is the driver; for inputs (operand, bit)
  int32_t net = -1;            // index into Elaborator::nets_ for wire bits
  int line = 0;                // statement that created (gates) or drives (nets) the node
};

struct NetInfo {
  std::string name;  // hierarchical bit name for messages, e.g. "u3.N[12]"
  int decl_line = 0;
};

struct Signal {
  std::string name;
  std::vector<int32_t> bits;  // net node ids, LSB first
  bool has_range = false;
  int64_t msb = 0, lsb = 0;
  Direction direction = Direction::kNone;
  bool is_signed = false;
  int line = 0;
};
using Scope = std::map<std::string, Signal>;

enum Operand : int32_t { kOperandA = 0, kOperandB = 1, kOtherInput = 2 };

class Elaborator : public GateSink {
 public:
  Elaborator(const std::vector<Module>& modules, const std::string& file,
             const VerilogReadOptions& options)
      : modules_(modules), file_(file), options_(options) {
    for (const Module& m : modules) {
      if (by_name_.count(m.name)) fail_at(file_, m.line, "module '{}' is defined twice", m.name);
      by_name_[m.name] = &m;
    }
    const0_ = add_node(GateType::kConst0, -1, -1, 0);
    const1_ = add_node(GateType::kConst1, -1, -1, 0);
  }

  Netlist run();

  int32_t gate(GateType type, int32_t in0, int32_t in1) override {
    return add_node(type, in0, in1, current_line_);
  }
  int32_t constant(bool value) override { return value ? const1_ : const0_; }

 private:
  int32_t add_node(GateType type, int32_t in0, int32_t in1, int line) {
    nodes_.push_back({type, in0, in1, -1, line});
    return static_cast<int32_t>(nodes_.size() - 1);
  }
  int32_t add_net(const std::string& name, int decl_line) {
    nets_.push_back({name, decl_line});
    IrNode n;
    n.type = GateType::kBuf;
    n.net = static_cast<int32_t>(nets_.size() - 1);
    nodes_.push_back(n);
    return static_cast<int32_t>(nodes_.size() - 1);
  }
  void drive(int32_t net, int32_t source, int line) {
    IrNode& n = nodes_[net];
    if (n.net < 0) fail_at(file_, line, "this target cannot be assigned");
    if (n.in0 >= 0)
      fail_at(file_, line, "'{}' is driven twice (also at line {})", nets_[n.net].name, n.line);
    n.in0 = source;
    n.line = line;
  }

  const Module& top_module() const;
  Scope declare(const Module& m, const std::string& prefix);
  void elaborate(const Module& m, Scope& scope, const std::string& prefix, int depth);
  void instantiate(const Instance& inst, Scope& scope, const std::string& prefix, int depth);
  void instantiate_module(const Module& child, const Instance& inst, Scope& scope,
                          const std::string& prefix, int depth);
  void instantiate_cell(const CellFunction& f, const Instance& inst, Scope& scope);
  void instantiate_primitive(const Instance& inst, Scope& scope);
  void assign(const std::vector<int32_t>& target, const Expr& rhs, Scope& scope, int line,
              const std::string& what);

  Signal& lookup(Scope& scope, const std::string& name, int line);
  std::vector<int32_t> select_positions(const Signal& s, const Expr& e) const;
  int64_t self_width(const Expr& e, Scope& scope);
  std::vector<int32_t> eval(const Expr& e, Scope& scope, size_t width);
  std::vector<int32_t> lvalue(const Expr& e, Scope& scope);
  int32_t reduce(GateType type, const std::vector<int32_t>& bits);
  int32_t one_bit(const Expr& e, Scope& scope, int line);
  int32_t one_bit_pin(const Connection& c, Scope& scope, const Instance& inst);

  Netlist build(const std::vector<int32_t>& out_bits, const Signal& out_port, Signature sig,
                const std::string& name);

  const std::vector<Module>& modules_;
  const std::string& file_;
  const VerilogReadOptions& options_;
  std::map<std::string, const Module*> by_name_;
  std::vector<IrNode> nodes_;
  std::vector<NetInfo> nets_;
  int32_t const0_ = -1, const1_ = -1;
  int current_line_ = 0;
};

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

Scope Elaborator::declare(const Module& m, const std::string& prefix) {
  Scope scope;
  for (const NetDecl& d : m.decls) {
    auto [it, fresh] = scope.try_emplace(d.name);
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
    const int64_t width = s.has_range ? std::abs(s.msb - s.lsb) + 1 : 1;
    if (width > (1 << 20)) fail_at(file_, s.line, "'{}' is too wide ({} bits)", name, width);
    for (int64_t p = 0; p < width; ++p) {
      const int64_t index = !s.has_range ? 0 : s.msb >= s.lsb ? s.lsb + p : s.lsb - p;
      s.bits.push_back(
          add_net(prefix + (s.has_range ? fmt::format("{}[{}]", name, index) : name), s.line));
    }
  }
  for (const NetDecl& d : m.decls)
    if (d.supply >= 0)
      for (int32_t bit : scope[d.name].bits) drive(bit, d.supply ? const1_ : const0_, d.line);
  for (const std::string& port : m.ports) {
    auto it = scope.find(port);
    if (it == scope.end() || it->second.direction == Direction::kNone)
      fail_at(file_, m.line, "port '{}' of module '{}' has no input/output declaration", port,
              m.name);
  }
  for (const auto& [name, s] : scope)
    if (s.direction != Direction::kNone &&
        std::find(m.ports.begin(), m.ports.end(), name) == m.ports.end())
      fail_at(file_, s.line, "'{}' is declared as a port but is not in module '{}''s port list",
              name, m.name);
  return scope;
}

Signal& Elaborator::lookup(Scope& scope, const std::string& name, int line) {
  auto it = scope.find(name);
  if (it != scope.end()) return it->second;
  // Verilog's implicit nets: an undeclared name is a 1-bit wire. If nothing drives it, the walk
  // from the outputs reports it at the line that uses it.
  Signal s;
  s.name = name;
  s.line = line;
  s.bits.push_back(add_net(name, line));
  return scope.emplace(name, std::move(s)).first->second;
}

// Positions (LSB-first indexes into Signal::bits) a select picks, lowest first.
std::vector<int32_t> Elaborator::select_positions(const Signal& s, const Expr& e) const {
  if (!s.has_range) fail_at(file_, e.line, "'{}' is a scalar and cannot be indexed", s.name);
  const auto position = [&](int64_t index) -> int32_t {
    const int64_t lo = std::min(s.msb, s.lsb), hi = std::max(s.msb, s.lsb);
    if (index < lo || index > hi)
      fail_at(file_, e.line, "index {} is outside '{}' [{}:{}]", index, s.name, s.msb, s.lsb);
    return static_cast<int32_t>(s.msb >= s.lsb ? index - s.lsb : s.lsb - index);
  };
  std::vector<int32_t> positions;
  if (e.op.empty()) {
    positions.push_back(position(e.first));
  } else if (e.op == ":") {
    const int32_t a = position(e.first), b = position(e.second);
    if (a < b)
      fail_at(file_, e.line, "part select [{}:{}] runs against the direction of '{}'", e.first,
              e.second, s.name);
    for (int32_t p = b; p <= a; ++p) positions.push_back(p);
  } else {
    if (e.second < 1) fail_at(file_, e.line, "indexed part select width must be positive");
    const int64_t base = e.op == "+:" ? e.first : e.first - e.second + 1;
    for (int64_t i = base; i < base + e.second; ++i) positions.push_back(position(i));
    std::sort(positions.begin(), positions.end());
  }
  return positions;
}

// The width an expression has on its own (Verilog's self-determined width).
int64_t Elaborator::self_width(const Expr& e, Scope& scope) {
  switch (e.kind) {
    case Expr::Kind::kIdent:
      return static_cast<int64_t>(lookup(scope, e.name, e.line).bits.size());
    case Expr::Kind::kSelect:
      return static_cast<int64_t>(select_positions(lookup(scope, e.name, e.line), e).size());
    case Expr::Kind::kNumber:
      return static_cast<int64_t>(e.bits.size());
    case Expr::Kind::kConcat:
    case Expr::Kind::kRepeat: {
      int64_t w = 0;
      for (const Expr& a : e.args) w += self_width(a, scope);
      return e.kind == Expr::Kind::kRepeat ? w * e.count : w;
    }
    case Expr::Kind::kUnary:
      return e.op == "~" ? self_width(e.args[0], scope) : 1;
    case Expr::Kind::kBinary:
      if (e.op == "&&" || e.op == "||") return 1;
      return std::max(self_width(e.args[0], scope), self_width(e.args[1], scope));
    case Expr::Kind::kTernary:
      return std::max(self_width(e.args[1], scope), self_width(e.args[2], scope));
  }
  return 1;
}

GateType inverted(GateType t) {
  switch (t) {
    case GateType::kAnd:
      return GateType::kNand;
    case GateType::kNand:
      return GateType::kAnd;
    case GateType::kOr:
      return GateType::kNor;
    case GateType::kNor:
      return GateType::kOr;
    case GateType::kXor:
      return GateType::kXnor;
    case GateType::kXnor:
      return GateType::kXor;
    default:
      return t;
  }
}

int32_t Elaborator::reduce(GateType type, const std::vector<int32_t>& bits) {
  int32_t acc = bits[0];
  for (size_t i = 1; i < bits.size(); ++i) acc = gate(type, acc, bits[i]);
  return acc;
}

// Evaluates `e` in a context of `width` bits: operands of bitwise operators are zero-extended to
// the context width before the operator applies (so ~ of a narrow operand sets the upper bits, as
// in Verilog). Returns at least `width` bits, LSB first.
std::vector<int32_t> Elaborator::eval(const Expr& e, Scope& scope, size_t width) {
  current_line_ = e.line;
  std::vector<int32_t> bits;
  switch (e.kind) {
    case Expr::Kind::kIdent:
      bits = lookup(scope, e.name, e.line).bits;
      break;
    case Expr::Kind::kSelect: {
      const Signal& s = lookup(scope, e.name, e.line);
      for (int32_t p : select_positions(s, e)) bits.push_back(s.bits[p]);
      break;
    }
    case Expr::Kind::kNumber:
      for (bool b : e.bits) bits.push_back(b ? const1_ : const0_);
      break;
    case Expr::Kind::kConcat:
    case Expr::Kind::kRepeat: {
      std::vector<int32_t> once;
      for (auto it = e.args.rbegin(); it != e.args.rend(); ++it) {  // written MSB part first
        std::vector<int32_t> part = eval(*it, scope, static_cast<size_t>(self_width(*it, scope)));
        once.insert(once.end(), part.begin(), part.end());
      }
      for (int64_t r = 0; r < (e.kind == Expr::Kind::kRepeat ? e.count : 1); ++r)
        bits.insert(bits.end(), once.begin(), once.end());
      break;
    }
    case Expr::Kind::kUnary: {
      if (e.op == "~") {
        // ~(x & y) is one NAND gate, not AND + NOT: a gate the operand has just created has no
        // other reader, so its type can absorb the inversion. Keeps gate counts (and so cost) of
        // netlists written as ~(a op b), our own writer's included.
        const int32_t fresh = static_cast<int32_t>(nodes_.size());
        const bool fusable =
            e.args[0].kind == Expr::Kind::kBinary && e.args[0].op != "&&" && e.args[0].op != "||";
        for (int32_t b : eval(e.args[0], scope, width)) {
          IrNode& n = nodes_[b];
          if (fusable && b >= fresh && n.net < 0 && fanin_count(n.type) == 2) {
            n.type = inverted(n.type);
            bits.push_back(b);
          } else {
            bits.push_back(gate(GateType::kNot, b, -1));
          }
        }
        break;
      }
      const std::vector<int32_t> x =
          eval(e.args[0], scope, static_cast<size_t>(self_width(e.args[0], scope)));
      current_line_ = e.line;
      GateType type = GateType::kOr;  // "!" and "|" reduce with OR
      if (e.op == "&" || e.op == "~&") type = GateType::kAnd;
      if (e.op == "^" || e.op == "~^") type = GateType::kXor;
      int32_t r = reduce(type, x);
      if (e.op == "!" || e.op[0] == '~') r = gate(GateType::kNot, r, -1);
      bits.push_back(r);
      break;
    }
    case Expr::Kind::kBinary: {
      if (e.op == "&&" || e.op == "||") {
        const int32_t l = one_bit(e.args[0], scope, e.line);
        const int32_t r = one_bit(e.args[1], scope, e.line);
        bits.push_back(gate(e.op == "&&" ? GateType::kAnd : GateType::kOr, l, r));
        break;
      }
      const size_t w = std::max<size_t>(width, static_cast<size_t>(self_width(e, scope)));
      std::vector<int32_t> l = eval(e.args[0], scope, w), r = eval(e.args[1], scope, w);
      current_line_ = e.line;
      const GateType type = e.op == "&"   ? GateType::kAnd
                            : e.op == "|" ? GateType::kOr
                            : e.op == "^" ? GateType::kXor
                                          : GateType::kXnor;
      for (size_t i = 0; i < w; ++i) bits.push_back(gate(type, l[i], r[i]));
      break;
    }
    case Expr::Kind::kTernary: {  // bitwise (s & t) | (~s & f)
      const int32_t s = one_bit(e.args[0], scope, e.line);
      const size_t w = std::max<size_t>(width, static_cast<size_t>(self_width(e, scope)));
      std::vector<int32_t> t = eval(e.args[1], scope, w), f = eval(e.args[2], scope, w);
      current_line_ = e.line;
      const int32_t not_s = gate(GateType::kNot, s, -1);
      for (size_t i = 0; i < w; ++i)
        bits.push_back(
            gate(GateType::kOr, gate(GateType::kAnd, s, t[i]), gate(GateType::kAnd, not_s, f[i])));
      break;
    }
  }
  if (bits.size() < width) bits.resize(width, const0_);
  return bits;
}

// A condition or logical operand: non-zero means 1 (OR of all its bits).
int32_t Elaborator::one_bit(const Expr& e, Scope& scope, int line) {
  const std::vector<int32_t> x = eval(e, scope, static_cast<size_t>(self_width(e, scope)));
  current_line_ = line;
  return x.size() == 1 ? x[0] : reduce(GateType::kOr, x);
}

std::vector<int32_t> Elaborator::lvalue(const Expr& e, Scope& scope) {
  switch (e.kind) {
    case Expr::Kind::kIdent:
      return lookup(scope, e.name, e.line).bits;
    case Expr::Kind::kSelect: {
      const Signal& s = lookup(scope, e.name, e.line);
      std::vector<int32_t> bits;
      for (int32_t p : select_positions(s, e)) bits.push_back(s.bits[p]);
      return bits;
    }
    case Expr::Kind::kConcat: {
      std::vector<int32_t> bits;
      for (auto it = e.args.rbegin(); it != e.args.rend(); ++it) {
        std::vector<int32_t> part = lvalue(*it, scope);
        bits.insert(bits.end(), part.begin(), part.end());
      }
      return bits;
    }
    default:
      fail_at(file_, e.line, "only wires, selects and concatenations of them can be assigned");
  }
}

// Drives `target` (net bits, LSB first) with `rhs`. A wider right-hand side is an error unless it
// is a plain number whose extra bits are zero; a narrower one is zero-extended.
void Elaborator::assign(const std::vector<int32_t>& target, const Expr& rhs, Scope& scope, int line,
                        const std::string& what) {
  const int64_t rhs_width = self_width(rhs, scope);
  const size_t width = target.size();
  std::vector<int32_t> bits = eval(rhs, scope, width);
  if (rhs_width > static_cast<int64_t>(width)) {
    const bool zero_tail =
        rhs.kind == Expr::Kind::kNumber &&
        std::all_of(bits.begin() + width, bits.end(), [&](int32_t b) { return b == const0_; });
    if (!zero_tail)
      fail_at(file_, line, "width mismatch: {} bits assigned to {} of {} bits", rhs_width, what,
              width);
  }
  for (size_t i = 0; i < width; ++i) drive(target[i], bits[i], line);
}

void Elaborator::elaborate(const Module& m, Scope& scope, const std::string& prefix, int depth) {
  if (depth > kMaxDepth)
    fail_at(file_, m.line, "module '{}' is nested too deeply (recursive instantiation?)", m.name);
  for (const Assign& a : m.assigns) {
    const std::vector<int32_t> target = lvalue(a.lhs, scope);
    assign(target, a.rhs, scope, a.line, "the left-hand side");
  }
  for (const Instance& inst : m.instances) instantiate(inst, scope, prefix, depth);
}

void Elaborator::instantiate(const Instance& inst, Scope& scope, const std::string& prefix,
                             int depth) {
  if (inst.primitive) return instantiate_primitive(inst, scope);
  if (auto it = by_name_.find(inst.cell); it != by_name_.end())
    return instantiate_module(*it->second, inst, scope, prefix, depth);
  CellFunction f;
  if (lookup_cell(inst.cell, &f)) return instantiate_cell(f, inst, scope);
  fail_at(file_, inst.line, "unknown cell or module '{}' (instance '{}')", inst.cell, inst.name);
}

void Elaborator::instantiate_module(const Module& child, const Instance& inst, Scope& scope,
                                    const std::string& prefix, int depth) {
  const std::string child_prefix = prefix + inst.name + ".";
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
    if (named && std::find(child.ports.begin(), child.ports.end(), port) == child.ports.end())
      fail_at(file_, c.line, "module '{}' has no port '{}'", child.name, port);
    if (!seen.insert(port).second) fail_at(file_, c.line, "port '{}' is connected twice", port);
    if (c.empty) continue;
    Signal& p = child_scope.at(port);
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

// The 1-bit value a cell pin or primitive terminal is connected to.
int32_t Elaborator::one_bit_pin(const Connection& c, Scope& scope, const Instance& inst) {
  const int64_t width = self_width(c.expr, scope);
  if (width != 1 && !(c.expr.kind == Expr::Kind::kNumber && c.expr.unsized))
    fail_at(file_, c.line, "width mismatch: a pin of '{}' ({}) is 1 bit, connected to {} bits",
            inst.name, inst.cell, width);
  return eval(c.expr, scope, 1)[0];
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
  Scope scope = declare(top, "");
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
  elaborate(top, scope, "", 0);
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
    return nodes_[n].net >= 0 ? fmt::format("'{}'", nets_[nodes_[n].net].name)
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
            fail_at(file_, out_port.line, "output bit {} has no driver", nets_[node.net].name);
          fail_at(file_, line_of(parent), "'{}' is used but never driven (declared at line {})",
                  nets_[node.net].name, nets_[node.net].decl_line);
        }
        if (node.type == GateType::kInput) {
          if (node.in0 == kOtherInput)
            fail_at(file_, node.line, "the output depends on input '{}', which is neither operand",
                    nets_[node.net].name);
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

}  // namespace

Netlist elaborate_verilog(const std::vector<Module>& modules, const std::string& file,
                          const VerilogReadOptions& options) {
  return Elaborator(modules, file, options).run();
}

}  // namespace fames::verilog
