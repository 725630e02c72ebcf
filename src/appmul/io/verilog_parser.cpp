// Lexer and recursive-descent parser for the structural Verilog subset of verilog.h.
// Anything outside the subset (always blocks, parameters, arithmetic) is a syntax error that names
// the line, rather than being skipped: a silently ignored statement would change the product table.
#include <cctype>
#include <cstdlib>
#include <set>

#include "appmul/io/verilog.h"
#include "appmul/io/verilog_ast.h"

namespace fames::verilog {
namespace {

struct Token {
  enum class Kind { kIdent, kNumber, kSymbol, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
  int line = 0;
  bool escaped = false;  // \escaped identifier: never a keyword
};

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

class Lexer {
 public:
  Lexer(const std::string& text, const std::string& file) : s_(text), file_(file) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    for (;;) {
      skip_space_and_comments();
      if (pos_ >= s_.size()) break;
      tokens.push_back(next());
    }
    tokens.push_back({Token::Kind::kEnd, "end of file", line_});
    return tokens;
  }

 private:
  char peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }

  void skip_space_and_comments() {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (c == '/' && peek(1) == '/') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (c == '/' && peek(1) == '*') {
        skip_block("*/", "comment");
      } else if (c == '(' && peek(1) == '*' && peek(2) != ')') {
        skip_block("*)", "attribute");  // (* keep *) and yosys' (* src = ... *)
      } else if (c == '`') {
        // Compiler directives (`timescale, `default_nettype, ...) do not change a netlist's logic.
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  void skip_block(const char* close, const char* what) {
    const int start_line = line_;
    pos_ += 2;
    while (pos_ < s_.size() && !(s_[pos_] == close[0] && peek(1) == close[1])) {
      if (s_[pos_] == '\n') ++line_;
      ++pos_;
    }
    if (pos_ >= s_.size()) fail_at(file_, start_line, "unterminated {}", what);
    pos_ += 2;
  }

  Token next() {
    Token t;
    t.line = line_;
    const char c = s_[pos_];
    if (is_ident_start(c)) {
      t.kind = Token::Kind::kIdent;
      while (pos_ < s_.size() && is_ident_char(s_[pos_])) t.text += s_[pos_++];
    } else if (c == '\\') {
      t.kind = Token::Kind::kIdent;
      t.escaped = true;
      ++pos_;
      while (pos_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[pos_])))
        t.text += s_[pos_++];
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '\'') {
      t.kind = Token::Kind::kNumber;
      t.text = number_text();
    } else {
      t.kind = Token::Kind::kSymbol;
      static const char* const two_char[] = {"~&", "~|", "~^", "^~", "&&",
                                             "||", "+:", "-:", "==", "!="};
      for (const char* op : two_char)
        if (c == op[0] && peek(1) == op[1]) t.text = op;
      if (t.text.empty()) {
        if (std::string("()[]{},;:.=#~&|^!?+-*@<>/%").find(c) == std::string::npos)
          fail_at(file_, line_, "unexpected character '{}'", c);
        t.text = std::string(1, c);
      }
      pos_ += t.text.size();
    }
    return t;
  }

  // Decimal digits, optionally followed by 'base digits ("8'hFF", "1'b0", "'b101", "4 'd 9").
  std::string number_text() {
    std::string text;
    while (std::isdigit(static_cast<unsigned char>(peek())) || peek() == '_') text += s_[pos_++];
    size_t look = pos_;
    while (look < s_.size() && (s_[look] == ' ' || s_[look] == '\t')) ++look;
    if (look < s_.size() && s_[look] == '\'') {
      pos_ = look + 1;
      text += '\'';
      if (peek() == 's' || peek() == 'S') text += s_[pos_++];
      if (std::string("bBoOdDhH").find(peek()) == std::string::npos || peek() == '\0')
        fail_at(file_, line_, "malformed number '{}': expected a base b, o, d or h after the quote",
                text);
      text += s_[pos_++];
      while (peek() == ' ' || peek() == '\t') ++pos_;
      while (std::isxdigit(static_cast<unsigned char>(peek())) ||
             std::string("_xXzZ?").find(peek()) != std::string::npos) {
        if (peek() == '\0') break;
        text += s_[pos_++];
      }
    }
    return text;
  }

  const std::string& s_;
  const std::string& file_;
  size_t pos_ = 0;
  int line_ = 1;
};

// Converts a number token to its bits (LSB first). Sized literals keep their width; plain decimals
// get the fewest bits that hold them (at least one) and are marked unsized.
Expr number_expr(const Token& t, const std::string& file) {
  Expr e;
  e.kind = Expr::Kind::kNumber;
  e.line = t.line;
  std::string text;
  for (char c : t.text)
    if (c != '_') text += c;
  const size_t quote = text.find('\'');
  if (quote == std::string::npos) {
    if (text.size() > 18) fail_at(file, t.line, "number '{}' is too large", t.text);
    uint64_t v = std::stoull(text);
    e.unsized = true;
    do {
      e.bits.push_back(v & 1);
      v >>= 1;
    } while (v);
    return e;
  }
  int width = 32;
  if (quote == 0) {
    e.unsized = true;
  } else {
    width = quote > 4 ? 0 : std::atoi(text.substr(0, quote).c_str());
    if (width < 1 || width > 4096)
      fail_at(file, t.line, "number '{}' has an unsupported width", t.text);
  }
  size_t p = quote + 1;
  if (text[p] == 's' || text[p] == 'S') ++p;
  const char base = static_cast<char>(std::tolower(static_cast<unsigned char>(text[p++])));
  const std::string digits = text.substr(p);
  if (digits.empty()) fail_at(file, t.line, "number '{}' has no digits", t.text);
  std::vector<bool> bits;  // LSB first
  if (base == 'd') {
    if (digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos)
      fail_at(file, t.line, "number '{}' is not a supported decimal constant", t.text);
    for (uint64_t v = std::stoull(digits); v; v >>= 1) bits.push_back(v & 1);
  } else {
    const int bits_per_digit = base == 'b' ? 1 : base == 'o' ? 3 : 4;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
      const char d = static_cast<char>(std::tolower(static_cast<unsigned char>(*it)));
      if (d == 'x' || d == 'z' || d == '?')
        fail_at(file, t.line, "number '{}' has x/z bits; only 0/1 constants are supported", t.text);
      const int v = std::isdigit(static_cast<unsigned char>(d)) ? d - '0' : d - 'a' + 10;
      if (v >= (1 << bits_per_digit))
        fail_at(file, t.line, "bad digit '{}' in number '{}'", *it, t.text);
      for (int b = 0; b < bits_per_digit; ++b) bits.push_back((v >> b) & 1);
    }
  }
  if (e.unsized) {
    while (bits.size() > 1 && !bits.back()) bits.pop_back();
    if (bits.empty()) bits.push_back(false);
  } else {
    for (size_t i = width; i < bits.size(); ++i)
      if (bits[i]) fail_at(file, t.line, "number '{}' does not fit in {} bits", t.text, width);
    bits.resize(width, false);
  }
  e.bits = std::move(bits);
  return e;
}

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
      const bool plus = t_[i_++].text == "+";
      const int64_t r = constant_term();
      v = plus ? v + r : v - r;
    }
    return v;
  }
  int64_t constant_term() {
    int64_t v = constant_factor();
    while (accept("*")) v *= constant_factor();
    return v;
  }
  int64_t constant_factor() {
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
    if (e.bits.size() > 40) fail_at(file_, e.line, "constant too large");
    int64_t v = 0;
    for (size_t b = 0; b < e.bits.size(); ++b) v |= int64_t{e.bits[b]} << b;
    return v;
  }

  // Precedence, loosest first: ?:  ||  &&  |  ^ ~^  &  unary.
  Expr expression() {
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
    return e;
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
      left = std::move(e);
    }
    if (is_symbol("+") || is_symbol("-") || is_symbol("*") || is_symbol("<") || is_symbol(">") ||
        is_symbol("==") || is_symbol("!=") || is_symbol("/") || is_symbol("%"))
      fail_here("operator '{}' is not supported; only gate-level operators (~ & | ^ ?:) are",
                cur().text);
    return left;
  }

  Expr unary() {
    static const char* const ops[] = {"~&", "~|", "~^", "^~", "~", "!", "&", "|", "^"};
    for (const char* op : ops) {
      if (!is_symbol(op)) continue;
      Expr e;
      e.kind = Expr::Kind::kUnary;
      e.line = cur().line;
      e.op = std::string(op) == "^~" ? "~^" : op;
      ++i_;
      e.args.push_back(unary());
      return e;
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
      for (size_t b = 0; b < first.bits.size() && b < 40; ++b)
        e.count |= int64_t{first.bits[b]} << b;
      if (e.count < 1 || e.count > 4096) fail_here("replication count {} out of range", e.count);
      Expr inner = concatenation();
      e.args = std::move(inner.args);
      expect("}");
      return e;
    }
    e.args.push_back(std::move(first));
    while (accept(",")) e.args.push_back(expression());
    expect("}");
    return e;
  }

  std::vector<Token> t_;
  const std::string& file_;
  size_t i_ = 0;
};

}  // namespace

std::vector<Module> parse_verilog_source(const std::string& text, const std::string& file) {
  return Parser(Lexer(text, file).run(), file).run();
}

}  // namespace fames::verilog
