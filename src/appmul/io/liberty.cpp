// A small Liberty (.lib) reader: a generic group/attribute parser plus the extraction of the few
// figures the cost model needs (cell_library.h).
#include <cctype>
#include <cmath>
#include <map>
#include <memory>
#include <sstream>

#include "appmul/io/liberty.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

constexpr int kMaxGroupNesting = 64;  // library { cell { pin { internal_power { ... } } } } is 4

struct Token {
  enum Kind { kWord, kString, kPunct, kEnd } kind = kEnd;
  std::string text;
  int line = 0;
};

class Lexer {
 public:
  Lexer(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  Token next() {
    skip_space_and_comments();
    Token t;
    t.line = line_;
    if (pos_ >= s_.size()) return t;
    const char c = s_[pos_];
    if (c == '"') {
      const size_t end = s_.find('"', pos_ + 1);
      if (end == std::string::npos) fail("{}:{}: unterminated string", path_, line_);
      t.kind = Token::kString;
      t.text = s_.substr(pos_ + 1, end - pos_ - 1);
      for (char ch : t.text) line_ += ch == '\n';
      pos_ = end + 1;
      return t;
    }
    if (std::string("(){}:;,").find(c) != std::string::npos) {
      t.kind = Token::kPunct;
      t.text = std::string(1, c);
      ++pos_;
      return t;
    }
    const size_t start = pos_;
    while (pos_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[pos_])) &&
           std::string("(){}:;,\"").find(s_[pos_]) == std::string::npos)
      ++pos_;
    t.kind = Token::kWord;
    t.text = s_.substr(start, pos_ - start);
    return t;
  }

 private:
  void skip_space_and_comments() {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '\n')
        ++line_, ++pos_;
      else if (std::isspace(static_cast<unsigned char>(c)) || c == '\\')
        ++pos_;  // '\' continues a line
      else if (s_.compare(pos_, 2, "/*") == 0) {
        const size_t end = s_.find("*/", pos_ + 2);
        if (end == std::string::npos) fail("{}:{}: unterminated comment", path_, line_);
        for (size_t i = pos_; i < end; ++i) line_ += s_[i] == '\n';
        pos_ = end + 2;
      } else if (s_.compare(pos_, 2, "//") == 0) {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }
  const std::string& s_;
  const std::string& path_;
  size_t pos_ = 0;
  int line_ = 1;
};

struct Attribute {
  std::string name;
  std::vector<std::string> values;
  int line = 0;
};

struct Group {
  std::string name;
  std::vector<std::string> args;
  int line = 0;
  std::vector<Attribute> attrs;
  std::vector<std::unique_ptr<Group>> children;

  const Attribute* attr(const std::string& key) const {
    for (const Attribute& a : attrs)
      if (a.name == key) return &a;
    return nullptr;
  }
};

class Parser {
 public:
  Parser(const std::string& text, const std::string& path) : lex_(text, path), path_(path) {
    advance();
  }

  std::unique_ptr<Group> parse_file() {
    auto root = std::make_unique<Group>();
    parse_body(*root, /*top=*/true, 0);
    return root;
  }

 private:
  void advance() { tok_ = lex_.next(); }
  bool is(const char* punct) const { return tok_.kind == Token::kPunct && tok_.text == punct; }
  [[noreturn]] void error(const std::string& what) const {
    fail("{}:{}: {} (found '{}')", path_, tok_.line, what,
         tok_.kind == Token::kEnd ? "end of file" : tok_.text);
  }

  void parse_body(Group& group, bool top, int depth) {
    if (depth > kMaxGroupNesting)
      fail("{}:{}: groups nested more than {} deep (the reader's limit)", path_, group.line,
           kMaxGroupNesting);
    while (true) {
      if (tok_.kind == Token::kEnd) {
        if (!top)
          fail("{}:{}: group '{}' opened here is not closed", path_, group.line, group.name);
        return;
      }
      if (is("}")) {
        if (top) error("unexpected '}'");
        advance();
        return;
      }
      if (is(";")) {  // stray separator
        advance();
        continue;
      }
      if (tok_.kind != Token::kWord) error("expected an attribute or group name");
      const std::string name = tok_.text;
      const int line = tok_.line;
      advance();
      if (is(":")) {
        advance();
        if (tok_.kind != Token::kWord && tok_.kind != Token::kString)
          error("expected a value after ':'");
        // A value may be an expression ("VDD + 0.5"): it runs to ';' or the end of its line.
        const int value_line = tok_.line;
        std::string value = tok_.text;
        advance();
        while ((tok_.kind == Token::kWord || tok_.kind == Token::kString) &&
               tok_.line == value_line) {
          value += " " + tok_.text;
          advance();
        }
        group.attrs.push_back({name, {value}, line});
        if (is(";")) advance();
      } else if (is("(")) {
        advance();
        std::vector<std::string> args;
        while (!is(")")) {
          if (tok_.kind == Token::kWord || tok_.kind == Token::kString)
            args.push_back(tok_.text);
          else if (!is(","))
            error("expected ')' or an argument");
          advance();
        }
        advance();
        if (is("{")) {
          advance();
          auto child = std::make_unique<Group>();
          child->name = name;
          child->args = std::move(args);
          child->line = line;
          parse_body(*child, false, depth + 1);
          group.children.push_back(std::move(child));
        } else {
          group.attrs.push_back({name, std::move(args), line});
          if (is(";")) advance();
        }
      } else {
        error(fmt::format("expected ':' or '(' after '{}'", name));
      }
    }
  }

  Lexer lex_;
  std::string path_;
  Token tok_;
};

// A finite number (stod would also accept "nan" and "inf").
double number(const std::string& text, const std::string& path, int line) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  fail("{}:{}: '{}' is not a finite number", path, line, text);
}

// The attribute's first value as a number >= 0 (areas, capacitances, power, units).
double non_negative(const Attribute& a, const std::string& path) {
  if (a.values.empty()) fail("{}:{}: {} has no value", path, a.line, a.name);
  const double v = number(a.values[0], path, a.line);
  if (v < 0) fail("{}:{}: {} is {}; it must be >= 0", path, a.line, a.name, v);
  return v;
}

// The attribute's first value as text.
const std::string& text_value(const Attribute& a, const std::string& path) {
  if (a.values.empty()) fail("{}:{}: {} has no value", path, a.line, a.name);
  return a.values[0];
}

// Scale from the unit string "1nW" / "1pW" ... to nW.
double power_unit_to_nw(const std::string& unit, const std::string& path, int line) {
  static const std::map<std::string, double> scale{
      {"pW", 1e-3}, {"nW", 1.0}, {"uW", 1e3}, {"mW", 1e6}, {"W", 1e9}};
  size_t i = 0;
  while (i < unit.size() && (std::isdigit(static_cast<unsigned char>(unit[i])) || unit[i] == '.'))
    ++i;
  auto it = scale.find(unit.substr(i));
  if (i == 0 || it == scale.end()) fail("{}:{}: unknown leakage_power_unit '{}'", path, line, unit);
  return number(unit.substr(0, i), path, line) * it->second;
}

void collect_table_values(const Group& g, const std::string& path, double& sum, int& count) {
  for (const Attribute& a : g.attrs) {
    if (a.name != "values") continue;
    for (const std::string& row : a.values) {
      std::string cleaned = row;
      for (char& c : cleaned)
        if (c == ',') c = ' ';
      std::istringstream in(cleaned);
      std::string item;
      while (in >> item) sum += number(item, path, a.line), ++count;
    }
  }
  for (const auto& child : g.children) collect_table_values(*child, path, sum, count);
}

CellFigures read_cell(const Group& cell, double cap_scale, double leak_scale,
                      const std::string& path) {
  CellFigures f;
  f.name = cell.args.empty() ? "" : cell.args[0];
  if (const Attribute* a = cell.attr("area")) f.area_um2 = non_negative(*a, path);
  if (const Attribute* a = cell.attr("cell_leakage_power"))
    f.leakage_nw = non_negative(*a, path) * leak_scale;
  double sum = 0;
  int count = 0;
  for (const auto& pin : cell.children) {
    if (pin->name != "pin") continue;
    const Attribute* dir = pin->attr("direction");
    if (!dir) fail("{}:{}: pin of cell {} has no direction", path, pin->line, f.name);
    if (text_value(*dir, path) == "input") {
      const Attribute* cap = pin->attr("capacitance");
      if (!cap) fail("{}:{}: input pin of cell {} has no capacitance", path, pin->line, f.name);
      f.input_cap_ff.push_back(non_negative(*cap, path) * cap_scale);
    } else {
      for (const auto& ip : pin->children)
        if (ip->name == "internal_power") collect_table_values(*ip, path, sum, count);
    }
  }
  if (count == 0)
    fail("{}:{}: cell {} has no internal_power table on its output", path, cell.line, f.name);
  f.internal_fj = sum / count;
  bool finite = std::isfinite(f.internal_fj) && std::isfinite(f.leakage_nw);
  for (double cap : f.input_cap_ff) finite = finite && std::isfinite(cap);
  if (!finite) fail("{}:{}: the figures of cell {} overflow once scaled", path, cell.line, f.name);
  return f;
}

}  // namespace

CellLibrary read_liberty(const std::string& path) { return parse_liberty(read_file(path), path); }

CellLibrary parse_liberty(const std::string& text, const std::string& path) {
  const auto root = Parser(text, path).parse_file();
  const Group* lib = nullptr;
  for (const auto& g : root->children)
    if (g->name == "library") lib = g.get();
  if (!lib) fail("{}: no 'library (...) {{ }}' group", path);

  double cap_scale = 1.0, leak_scale = 1.0;
  CellLibrary out;
  out.source = path;
  if (const Attribute* a = lib->attr("capacitive_load_unit")) {
    if (a->values.size() != 2)
      fail("{}:{}: capacitive_load_unit needs (value, unit)", path, a->line);
    const double v = non_negative(*a, path);
    if (a->values[1] == "ff")
      cap_scale = v;
    else if (a->values[1] == "pf")
      cap_scale = v * 1000;
    else
      fail("{}:{}: unknown capacitive_load_unit '{}'", path, a->line, a->values[1]);
  }
  if (const Attribute* a = lib->attr("leakage_power_unit"))
    leak_scale = power_unit_to_nw(text_value(*a, path), path, a->line);
  if (const Attribute* a = lib->attr("nom_voltage")) out.voltage = non_negative(*a, path);

  for (GateType type : {GateType::kBuf, GateType::kNot, GateType::kAnd, GateType::kOr,
                        GateType::kXor, GateType::kNand, GateType::kNor, GateType::kXnor}) {
    const std::string prefix = cell_prefix(type);
    const Group* best = nullptr;
    for (const auto& g : lib->children) {
      if (g->name != "cell" || g->args.empty()) continue;
      const std::string& name = g->args[0];
      if (name == prefix + "_X1") {
        best = g.get();
        break;
      }
      if (!best && name.rfind(prefix + "_", 0) == 0) best = g.get();
    }
    if (!best) fail("{}: no cell for {} (looked for {}_X1 or {}_*)", path, prefix, prefix, prefix);
    CellFigures f = read_cell(*best, cap_scale, leak_scale, path);
    const size_t pins = static_cast<size_t>(fanin_count(type));
    if (f.input_cap_ff.size() != pins)
      fail("{}:{}: cell {} has {} input pins, {} expected", path, best->line, f.name,
           f.input_cap_ff.size(), pins);
    out.cell(type) = std::move(f);
  }
  return out;
}

}  // namespace fames
