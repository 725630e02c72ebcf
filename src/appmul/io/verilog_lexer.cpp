// The lexer and number literals of the Verilog reader (verilog_lexer.h).
#include "appmul/io/verilog_lexer.h"

#include <cctype>
#include <cstdlib>

namespace fames::verilog {
namespace {

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

}  // namespace

std::vector<Token> lex_verilog(const std::string& text, const std::string& file) {
  return Lexer(text, file).run();
}

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
    width = quote > 5 ? 0 : std::atoi(text.substr(0, quote).c_str());
    if (width < 1 || width > kMaxLiteralWidth)
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

}  // namespace fames::verilog
