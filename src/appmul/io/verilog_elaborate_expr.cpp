// Expressions and assignments of the Verilog elaborator (verilog_elaborator.h). Recursion follows
// the expression tree, whose depth the parser bounds (kMaxExprDepth); widths are checked against
// kMaxExprWidth before any bits are allocated.
#include <algorithm>

#include "appmul/io/verilog_elaborator.h"

namespace fames::verilog {
namespace {

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

}  // namespace

Signal& Elaborator::lookup(Scope& scope, const std::string& name, int line) {
  auto it = scope.find(name);
  if (it != scope.end()) return it->second;
  // Verilog's implicit nets: an undeclared name is a 1-bit wire. If nothing drives it, the walk
  // from the outputs reports it at the line that uses it.
  Signal s;
  s.name = name;
  s.line = line;
  s.bits.push_back(add_net(name, 0, false, 0, line));
  return scope.emplace(std::string_view(name), std::move(s)).first->second;
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
    if (e.second < 1 || e.second > static_cast<int64_t>(s.bits.size()))
      fail_at(file_, e.line, "indexed part select width {} is outside 1..{} (the width of '{}')",
              e.second, s.bits.size(), s.name);
    const int64_t base = e.op == "+:" ? e.first : e.first - e.second + 1;
    for (int64_t i = base; i < base + e.second; ++i) positions.push_back(position(i));
    std::sort(positions.begin(), positions.end());
  }
  return positions;
}

// The width an expression has on its own (Verilog's self-determined width), at most kMaxExprWidth.
int64_t Elaborator::self_width(const Expr& e, Scope& scope) {
  step(e.line);
  int64_t w = 1;
  switch (e.kind) {
    case Expr::Kind::kIdent:
      return static_cast<int64_t>(lookup(scope, e.name, e.line).bits.size());
    case Expr::Kind::kSelect:
      return static_cast<int64_t>(select_positions(lookup(scope, e.name, e.line), e).size());
    case Expr::Kind::kNumber:
      return static_cast<int64_t>(e.bits.size());
    case Expr::Kind::kConcat:
    case Expr::Kind::kRepeat:
      w = 0;
      for (const Expr& a : e.args) {
        w += self_width(a, scope);  // each term <= kMaxExprWidth: no overflow
        if (w > kMaxExprWidth) break;
      }
      if (e.kind == Expr::Kind::kRepeat) w *= e.count;  // <= 2^17 * kMaxReplication
      break;
    case Expr::Kind::kUnary:
      w = e.op == "~" ? self_width(e.args[0], scope) : 1;
      break;
    case Expr::Kind::kBinary:
      if (e.op == "&&" || e.op == "||") return 1;
      w = std::max(self_width(e.args[0], scope), self_width(e.args[1], scope));
      break;
    case Expr::Kind::kTernary:
      w = std::max(self_width(e.args[1], scope), self_width(e.args[2], scope));
      break;
  }
  if (w > kMaxExprWidth)
    fail_at(file_, e.line, "expression is wider than {} bits (the reader's limit)", kMaxExprWidth);
  return w;
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
  step(e.line);
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
    case Expr::Kind::kRepeat:
      bits = eval_concat(e, scope);
      break;
    case Expr::Kind::kUnary:
      bits = eval_unary(e, scope, width);
      break;
    case Expr::Kind::kBinary:
      bits = eval_binary(e, scope, width);
      break;
    case Expr::Kind::kTernary:
      bits = eval_ternary(e, scope, width);
      break;
  }
  if (bits.size() < width) bits.resize(width, const0_);
  return bits;
}

std::vector<int32_t> Elaborator::eval_concat(const Expr& e, Scope& scope) {
  std::vector<int32_t> once, bits;
  for (auto it = e.args.rbegin(); it != e.args.rend(); ++it) {  // written MSB part first
    std::vector<int32_t> part = eval(*it, scope, static_cast<size_t>(self_width(*it, scope)));
    once.insert(once.end(), part.begin(), part.end());
    if (static_cast<int64_t>(once.size()) > kMaxExprWidth) break;
  }
  const int64_t count = e.kind == Expr::Kind::kRepeat ? e.count : 1;
  if (static_cast<int64_t>(once.size()) * count > kMaxExprWidth)
    fail_at(file_, e.line, "expression is wider than {} bits (the reader's limit)", kMaxExprWidth);
  for (int64_t r = 0; r < count; ++r) bits.insert(bits.end(), once.begin(), once.end());
  return bits;
}

std::vector<int32_t> Elaborator::eval_unary(const Expr& e, Scope& scope, size_t width) {
  std::vector<int32_t> bits;
  if (e.op == "~") {
    // ~(x & y) is one NAND gate, not AND + NOT: a gate the operand has just created has no other
    // reader, so its type can absorb the inversion. Keeps gate counts (and so cost) of netlists
    // written as ~(a op b), our own writer's included.
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
    return bits;
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
  return bits;
}

std::vector<int32_t> Elaborator::eval_binary(const Expr& e, Scope& scope, size_t width) {
  std::vector<int32_t> bits;
  if (e.op == "&&" || e.op == "||") {
    const int32_t l = one_bit(e.args[0], scope, e.line);
    const int32_t r = one_bit(e.args[1], scope, e.line);
    bits.push_back(gate(e.op == "&&" ? GateType::kAnd : GateType::kOr, l, r));
    return bits;
  }
  const size_t w = std::max<size_t>(width, static_cast<size_t>(self_width(e, scope)));
  std::vector<int32_t> l = eval(e.args[0], scope, w), r = eval(e.args[1], scope, w);
  current_line_ = e.line;
  const GateType type = e.op == "&"   ? GateType::kAnd
                        : e.op == "|" ? GateType::kOr
                        : e.op == "^" ? GateType::kXor
                                      : GateType::kXnor;
  for (size_t i = 0; i < w; ++i) bits.push_back(gate(type, l[i], r[i]));
  return bits;
}

// Bitwise (s & t) | (~s & f).
std::vector<int32_t> Elaborator::eval_ternary(const Expr& e, Scope& scope, size_t width) {
  std::vector<int32_t> bits;
  const int32_t s = one_bit(e.args[0], scope, e.line);
  const size_t w = std::max<size_t>(width, static_cast<size_t>(self_width(e, scope)));
  std::vector<int32_t> t = eval(e.args[1], scope, w), f = eval(e.args[2], scope, w);
  current_line_ = e.line;
  const int32_t not_s = gate(GateType::kNot, s, -1);
  for (size_t i = 0; i < w; ++i)
    bits.push_back(
        gate(GateType::kOr, gate(GateType::kAnd, s, t[i]), gate(GateType::kAnd, not_s, f[i])));
  return bits;
}

// A condition or logical operand: non-zero means 1 (OR of all its bits).
int32_t Elaborator::one_bit(const Expr& e, Scope& scope, int line) {
  const std::vector<int32_t> x = eval(e, scope, static_cast<size_t>(self_width(e, scope)));
  current_line_ = line;
  return x.size() == 1 ? x[0] : reduce(GateType::kOr, x);
}

std::vector<int32_t> Elaborator::lvalue(const Expr& e, Scope& scope) {
  step(e.line);
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

// The 1-bit value a cell pin or primitive terminal is connected to.
int32_t Elaborator::one_bit_pin(const Connection& c, Scope& scope, const Instance& inst) {
  const int64_t width = self_width(c.expr, scope);
  if (width != 1 && !(c.expr.kind == Expr::Kind::kNumber && c.expr.unsized))
    fail_at(file_, c.line, "width mismatch: a pin of '{}' ({}) is 1 bit, connected to {} bits",
            inst.name, inst.cell, width);
  return eval(c.expr, scope, 1)[0];
}

}  // namespace fames::verilog
