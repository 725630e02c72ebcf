// Recursive-descent parser for the structural Verilog subset of verilog.h (tokens from
// verilog_lexer.h). Anything outside the subset (always blocks, parameters, arithmetic) is a syntax
// error that names the line, rather than being skipped: a silently ignored statement would change
// the product table. Recursion is bounded by kMaxNesting and expression trees by kMaxExprDepth
// (verilog_ast.h), so no input can overflow the stack here or in the elaborator.
#include <algorithm>
#include <set>

#include "appmul/io/verilog.h"
#include "appmul/io/verilog_ast.h"
#include "appmul/io/verilog_lexer.h"

namespace fames::verilog {
namespace {

const std::set<std::string>& primitive_names() {
  static const std::set<std::string> names = {"and", "or",   "xor", "nand",
                                              "nor", "xnor", "not", "buf"};
  return names;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::string& file) : t_(std::move(tokens)), file_(file) {}

  std::vector<Module> run() {
    std::vector<Module> modules;
    while (!at_end()) {
      if (is_keyword("module") || is_keyword("macromodule")) {
        modules.push_back(module());
      } else {
        fail_here("expected 'module', found '{}'", cur().text);
      }
    }
    if (modules.empty()) fail_at(file_, cur().line, "no module found");
    return modules;
  }

 private:
  const Token& cur() const { return t_[i_]; }
  bool at_end() const { return cur().kind == Token::Kind::kEnd; }
  bool is_symbol(const char* s) const {
    return cur().kind == Token::Kind::kSymbol && cur().text == s;
  }
  bool is_keyword(const char* s) const {
    return cur().kind == Token::Kind::kIdent && !cur().escaped && cur().text == s;
  }
  bool accept(const char* symbol) {
    if (!is_symbol(symbol)) return false;
    ++i_;
    return true;
  }
  bool accept_keyword(const char* word) {
    if (!is_keyword(word)) return false;
    ++i_;
    return true;
  }
  template <typename... Args>
  [[noreturn]] void fail_here(fmt::format_string<Args...> format, Args&&... args) const {
    fail_at(file_, cur().line, format, std::forward<Args>(args)...);
  }
  void expect(const char* symbol) {
    if (!accept(symbol)) fail_here("expected '{}', found '{}'", symbol, cur().text);
  }
  std::string identifier(const char* what) {
    if (cur().kind != Token::Kind::kIdent) fail_here("expected {}, found '{}'", what, cur().text);
    return t_[i_++].text;
  }

  Module module() {
    Module m;
    m.line = cur().line;
    ++i_;
    m.name = identifier("a module name");
    if (accept("#")) fail_here("module parameters are not supported");
    if (accept("(")) {
      if (!accept(")")) {
        port_list(m);
        expect(")");
      }
    }
    expect(";");
    while (!accept_keyword("endmodule")) {
      if (at_end()) fail_at(file_, m.line, "module '{}' has no 'endmodule'", m.name);
      item(m);
    }
    return m;
  }

  // Either plain names (non-ANSI) or declarations (ANSI: "input [7:0] A, B, output [15:0] O").
  void port_list(Module& m) {
    NetDecl ansi;
    bool in_ansi_group = false;
    do {
      if (is_keyword("input") || is_keyword("output") || is_keyword("inout")) {
        ansi = declaration_head();
        in_ansi_group = true;
      }
      const int line = cur().line;
      std::string name = identifier("a port name");
      m.ports.push_back(name);
      if (in_ansi_group) {
        NetDecl d = ansi;
        d.name = name;
        d.line = line;
        m.decls.push_back(d);
      }
    } while (accept(","));
  }

  // "input wire signed [7:0]" etc. Returns a template declaration without a name.
  NetDecl declaration_head() {
    NetDecl d;
    d.line = cur().line;
    const std::string word = t_[i_++].text;
    if (word == "input") d.direction = Direction::kInput;
    if (word == "output") d.direction = Direction::kOutput;
    if (word == "inout") fail_at(file_, d.line, "inout ports are not supported");
    if (word == "supply0") d.supply = 0;
    if (word == "supply1") d.supply = 1;
    if (word == "reg")
      fail_at(file_, d.line, "'reg' is not structural; use wires and assign statements");
    while (accept_keyword("wire") || accept_keyword("tri") || accept_keyword("logic")) {
    }
    if (is_keyword("reg")) fail_here("'reg' is not structural; use wires and assign statements");
    if (accept_keyword("signed")) d.is_signed = true;
    if (accept("[")) {
      d.has_range = true;
      d.msb = constant();
      expect(":");
      d.lsb = constant();
      expect("]");
    }
    return d;
  }

  void item(Module& m) {
    if (is_keyword("input") || is_keyword("output") || is_keyword("inout") || is_keyword("wire") ||
        is_keyword("tri") || is_keyword("supply0") || is_keyword("supply1") || is_keyword("reg") ||
        is_keyword("logic")) {
      declaration(m);
    } else if (accept_keyword("assign")) {
      do {
        Assign a;
        a.line = cur().line;
        a.lhs = expression();
        expect("=");
        a.rhs = expression();
        m.assigns.push_back(std::move(a));
      } while (accept(","));
      expect(";");
    } else if (cur().kind == Token::Kind::kIdent && !cur().escaped &&
               is_unsupported_keyword(cur().text)) {
      fail_here("'{}' is not supported in a gate-level netlist", cur().text);
    } else if (cur().kind == Token::Kind::kIdent) {
      instances(m);
    } else if (accept(";")) {
      // empty item
    } else {
      fail_here("unexpected '{}' in module '{}'", cur().text, m.name);
    }
  }

  static bool is_unsupported_keyword(const std::string& w) {
    static const std::set<std::string> words = {
        "always",      "initial",   "parameter", "localparam", "function", "task",
        "generate",    "genvar",    "integer",   "real",       "specify",  "defparam",
        "always_comb", "always_ff", "module",    "begin",      "end"};
    return words.count(w) != 0;
  }

  void declaration(Module& m) {
    NetDecl head = declaration_head();
    do {
      NetDecl d = head;
      d.line = cur().line;
      d.name = identifier("a net name");
      if (is_symbol("[")) fail_here("arrays of nets are not supported");
      m.decls.push_back(d);
      if (accept("=")) {  // net declaration assignment: wire x = a & b;
        Assign a;
        a.line = d.line;
        a.lhs.kind = Expr::Kind::kIdent;
        a.lhs.name = d.name;
        a.lhs.line = d.line;
        a.rhs = expression();
        m.assigns.push_back(std::move(a));
      }
    } while (accept(","));
    expect(";");
  }

  // CELL [#(...)] name (conns) [, name (conns)]* ;   or a primitive with an optional name.
  void instances(Module& m) {
    const int line = cur().line;
    const bool primitive = !cur().escaped && primitive_names().count(cur().text) != 0;
    const std::string cell = t_[i_++].text;
    if (accept("#")) skip_parameter_or_delay();
    do {
      Instance inst;
      inst.cell = cell;
      inst.primitive = primitive;
      inst.line = line;
      if (cur().kind == Token::Kind::kIdent) {
        inst.line = cur().line;
        inst.name = t_[i_++].text;
        if (is_symbol("[")) fail_here("arrays of instances are not supported");
      } else if (!primitive) {
        if (is_symbol("=") || is_symbol("[") || is_symbol("("))
          fail_here("expected an instance name after '{}' (is a keyword such as 'assign' missing?)",
                    cell);
        fail_here("expected an instance name after '{}', found '{}'", cell, cur().text);
      }
      expect("(");
      connections(inst);
      m.instances.push_back(std::move(inst));
    } while (accept(","));
    expect(";");
  }

  void skip_parameter_or_delay() {
    if (cur().kind == Token::Kind::kNumber) {  // #1
      ++i_;
      return;
    }
    expect("(");
    for (int depth = 1; depth > 0; ++i_) {
      if (at_end()) fail_here("unterminated parameter list");
      if (is_symbol("(")) ++depth;
      if (is_symbol(")")) --depth;
    }
  }

  void connections(Instance& inst) {
    if (accept(")")) return;
    do {
      Connection c;
      c.line = cur().line;
      if (accept(".")) {
        c.pin = identifier("a pin name");
        expect("(");
        if (is_symbol(")")) {
          c.empty = true;
        } else {
          c.expr = expression();
        }
        expect(")");
      } else if (is_symbol(",") || is_symbol(")")) {
        c.empty = true;
      } else {
        c.expr = expression();
      }
      inst.connections.push_back(std::move(c));
    } while (accept(","));
    expect(")");
  }

  // Constant integer expressions in ranges and replications: numbers with + - * and parentheses.
  int64_t constant() {
    int64_t v = constant_term();
    while (is_symbol("+") || is_symbol("-")) {
      const char op = t_[i_++].text[0];
      v = checked(v, op, constant_term());
    }
    return v;
  }
  int64_t constant_term() {
    int64_t v = constant_factor();
    while (accept("*")) v = checked(v, '*', constant_factor());
    return v;
  }
  int64_t constant_factor() {
    const Nesting nesting(*this);
    if (accept("(")) {
      const int64_t v = constant();
      expect(")");
      return v;
    }
    if (accept("-")) return -constant_factor();
    if (cur().kind != Token::Kind::kNumber) {
      if (cur().kind == Token::Kind::kIdent)
        fail_here("'{}' in a constant expression: parameters are not supported", cur().text);
      fail_here("expected a constant, found '{}'", cur().text);
    }
    const Expr e = number_expr(t_[i_++], file_);
    return constant_value(e);
  }

  // The value of a number literal used as a constant, within +-kMaxConstant.
  int64_t constant_value(const Expr& e) const {
    int64_t v = 0;
    for (size_t b = 0; b < e.bits.size(); ++b) {
      if (!e.bits[b]) continue;
      if (b >= 32 || (v | int64_t{1} << b) > kMaxConstant)
        fail_at(file_, e.line, "constant exceeds {} (the reader's limit)", kMaxConstant);
      v |= int64_t{1} << b;
    }
    return v;
  }

  // Precedence, loosest first: ?:  ||  &&  |  ^ ~^  &  unary.
  Expr expression() {
    const Nesting nesting(*this);
    Expr cond = binary(0);
    if (!is_symbol("?")) return cond;
    Expr e;
    e.kind = Expr::Kind::kTernary;
    e.line = cur().line;
    ++i_;
    e.args.push_back(std::move(cond));
    e.args.push_back(expression());
    expect(":");
    e.args.push_back(expression());
    return with_depth(std::move(e));
  }

  Expr binary(int level) {
    static const std::vector<std::vector<std::string>> levels = {
        {"||"}, {"&&"}, {"|", "~|"}, {"^", "~^", "^~"}, {"&", "~&"}};
    if (level == static_cast<int>(levels.size())) return unary();
    Expr left = binary(level + 1);
    for (;;) {
      std::string op;
      for (const std::string& candidate : levels[level])
        if (is_symbol(candidate.c_str())) op = candidate;
      if (op.empty()) break;
      if (op == "~|" || op == "~&")
        fail_here("'{}' is a unary reduction operator, not a binary one", op);
      Expr e;
      e.kind = Expr::Kind::kBinary;
      e.line = cur().line;
      e.op = op == "^~" ? "~^" : op;
      ++i_;
      e.args.push_back(std::move(left));
      e.args.push_back(binary(level + 1));
      left = with_depth(std::move(e));
    }
    if (is_symbol("+") || is_symbol("-") || is_symbol("*") || is_symbol("<") || is_symbol(">") ||
        is_symbol("==") || is_symbol("!=") || is_symbol("/") || is_symbol("%"))
      throw BehaviouralVerilogError(fmt::format(
          "{}:{}: operator '{}' is not gate-level; fames reads ~ & | ^ ?: itself and needs yosys "
          "for arithmetic",
          file_, cur().line, cur().text));
    return left;
  }

  Expr unary() {
    const Nesting nesting(*this);
    static const char* const ops[] = {"~&", "~|", "~^", "^~", "~", "!", "&", "|", "^"};
    for (const char* op : ops) {
      if (!is_symbol(op)) continue;
      Expr e;
      e.kind = Expr::Kind::kUnary;
      e.line = cur().line;
      e.op = std::string(op) == "^~" ? "~^" : op;
      ++i_;
      e.args.push_back(unary());
      return with_depth(std::move(e));
    }
    return primary();
  }

  Expr primary() {
    const Token& t = cur();
    if (t.kind == Token::Kind::kNumber) {
      ++i_;
      return number_expr(t, file_);
    }
    if (accept("(")) {
      Expr e = expression();
      expect(")");
      return e;
    }
    if (is_symbol("{")) return concatenation();
    if (t.kind != Token::Kind::kIdent) fail_here("expected an expression, found '{}'", t.text);
    Expr e;
    e.kind = Expr::Kind::kIdent;
    e.line = t.line;
    e.name = t.text;
    ++i_;
    if (accept("[")) {
      e.kind = Expr::Kind::kSelect;
      e.first = constant();
      if (accept(":")) {
        e.op = ":";
      } else if (accept("+:")) {
        e.op = "+:";
      } else if (accept("-:")) {
        e.op = "-:";
      }
      if (!e.op.empty()) e.second = constant();
      expect("]");
      if (is_symbol("[")) fail_here("selecting from a selection is not supported");
    }
    return e;
  }

  Expr concatenation() {
    Expr e;
    e.kind = Expr::Kind::kConcat;
    e.line = cur().line;
    expect("{");
    Expr first = expression();
    if (is_symbol("{")) {  // replication {n{...}}
      if (first.kind != Expr::Kind::kNumber) fail_here("a replication count must be a constant");
      e.kind = Expr::Kind::kRepeat;
      e.count = constant_value(first);
      if (e.count < 1 || e.count > kMaxReplication)
        fail_here("replication count {} is outside 1..{}", e.count, kMaxReplication);
      Expr inner = concatenation();
      e.args = std::move(inner.args);
      expect("}");
      return with_depth(std::move(e));
    }
    e.args.push_back(std::move(first));
    while (accept(",")) e.args.push_back(expression());
    expect("}");
    return with_depth(std::move(e));
  }

  // One level of recursion into a nested construct; the limit turns a stack overflow into an error.
  class Nesting {
   public:
    explicit Nesting(Parser& parser) : parser_(parser) {
      if (++parser_.nesting_ > kMaxNesting)
        parser_.fail_here("expression nested more than {} levels deep (the reader's limit)",
                          kMaxNesting);
    }
    ~Nesting() { --parser_.nesting_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    Parser& parser_;
  };

  // Sets e.depth from its operands and enforces kMaxExprDepth.
  Expr with_depth(Expr e) const {
    int deepest = 0;
    for (const Expr& a : e.args) deepest = std::max(deepest, a.depth);
    e.depth = deepest + 1;
    if (e.depth > kMaxExprDepth)
      fail_at(file_, e.line, "expression is more than {} operators deep (the reader's limit)",
              kMaxExprDepth);
    return e;
  }

  // a op b for range/select constants, refusing results beyond +-kMaxConstant (so no overflow).
  int64_t checked(int64_t a, char op, int64_t b) const {
    int64_t r = 0;
    const bool overflow = op == '+'   ? __builtin_add_overflow(a, b, &r)
                          : op == '-' ? __builtin_sub_overflow(a, b, &r)
                                      : __builtin_mul_overflow(a, b, &r);
    if (overflow || r > kMaxConstant || r < -kMaxConstant)
      fail_here("constant expression exceeds +-{} (the reader's limit)", kMaxConstant);
    return r;
  }

  std::vector<Token> t_;
  const std::string& file_;
  size_t i_ = 0;
  int nesting_ = 0;
};

}  // namespace

std::vector<Module> parse_verilog_source(const std::string& text, const std::string& file) {
  return Parser(lex_verilog(text, file), file).run();
}

}  // namespace fames::verilog
