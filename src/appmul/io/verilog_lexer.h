// Internal to the Verilog reader (verilog.h): tokens, and number literals turned into bits.
// lex_verilog() splits the source into tokens, skipping whitespace, comments, attributes and
// compiler directives; number_expr() converts a number token to its bits. Both throw
// fames::Error "FILE:LINE: message" on malformed input.
#pragma once
#include <string>
#include <vector>

#include "appmul/io/verilog_ast.h"

namespace fames::verilog {

struct Token {
  enum class Kind { kIdent, kNumber, kSymbol, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
  int line = 0;
  bool escaped = false;  // \escaped identifier: never a keyword
};

// The tokens of `text`, ending with one kEnd token.
std::vector<Token> lex_verilog(const std::string& text, const std::string& file);

// A kNumber expression (bits LSB first). Sized literals keep their width (1..kMaxLiteralWidth);
// plain decimals get the fewest bits that hold them and are marked unsized.
Expr number_expr(const Token& t, const std::string& file);

}  // namespace fames::verilog
