// Internal to the Verilog reader (verilog.h): the syntax tree of the structural subset it accepts.
// parse_verilog_source() builds it (verilog_parser.cpp); elaborate_verilog() flattens the top
// module into a Netlist (verilog_elaborate.cpp). Every node keeps its source line for error
// messages.
//
// The reader's limits (docs/formats.md, "Verilog"): each one is checked before the memory or the
// recursion it bounds is spent, and hitting one is a fames::Error naming the file, the line and
// the limit. Real AppMul netlists stay orders of magnitude below them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "appmul/netlist/netlist.h"
#include "util/error.h"

namespace fames {
struct VerilogReadOptions;
}

namespace fames::verilog {

constexpr int kMaxNesting = 256;           // parentheses, unary operators, ?:, {} inside each other
constexpr int kMaxExprDepth = 1024;        // operators on the longest path of an expression tree
constexpr int64_t kMaxConstant = int64_t{1} << 31;  // |value| of a range/select/count constant
constexpr int kMaxLiteralWidth = 4096;     // bits of a sized literal (N'b...)
constexpr int64_t kMaxReplication = 4096;  // N of {N{...}}
constexpr int64_t kMaxNetWidth = int64_t{1} << 16;   // bits of one declared net
constexpr int64_t kMaxExprWidth = int64_t{1} << 16;  // bits an expression evaluates to
constexpr int64_t kMaxNodes = int64_t{1} << 22;      // wire bits + gates of the flattened design
constexpr int64_t kMaxSteps = int64_t{1} << 24;      // statements and expression nodes visited,
                                                      // summed over every module instance
constexpr int kMaxModuleNesting = 64;      // deeper means a module instantiates itself

// Throws fames::Error "FILE:LINE: message".
template <typename... Args>
[[noreturn]] void fail_at(const std::string& file, int line, fmt::format_string<Args...> format,
                          Args&&... args) {
  fail("{}:{}: {}", file, line, fmt::format(format, std::forward<Args>(args)...));
}

struct Expr {
  enum class Kind {
    kIdent,   // name
    kSelect,  // name[first] (bit), name[first:second], name[first +: second], name[first -: second]
    kNumber,  // bits
    kConcat,  // {args...}, MSB part first as written
    kRepeat,  // {count{args...}}
    kUnary,   // op args[0]: "~" "!" "&" "|" "^" "~&" "~|" "~^"
    kBinary,  // args[0] op args[1]: "&" "|" "^" "~^" "&&" "||"
    kTernary,  // args[0] ? args[1] : args[2]
  };
  Kind kind = Kind::kNumber;
  int line = 0;
  std::string name;
  std::string op;  // kUnary/kBinary operator; kSelect: "" (bit), ":", "+:" or "-:"
  int64_t first = 0, second = 0;
  std::vector<bool> bits;  // kNumber: value, LSB first; its size is the literal's width
  bool unsized = false;    // kNumber written without a width: may be truncated silently
  int64_t count = 0;       // kRepeat
  int depth = 1;           // operators on the longest path down from here (<= kMaxExprDepth)
  std::vector<Expr> args;
};

enum class Direction { kNone, kInput, kOutput };

struct NetDecl {
  std::string name;
  Direction direction = Direction::kNone;
  bool has_range = false;
  int64_t msb = 0, lsb = 0;
  bool is_signed = false;
  int supply = -1;  // 0 or 1 for supply0/supply1 nets
  int line = 0;
};

struct Assign {
  Expr lhs, rhs;
  int line = 0;
};

struct Connection {
  std::string pin;     // empty for a positional connection
  bool empty = false;  // .pin() or an omitted positional connection
  Expr expr;
  int line = 0;
};

struct Instance {
  std::string cell;  // module, cell or primitive name
  std::string name;  // may be empty for primitives
  bool primitive = false;
  std::vector<Connection> connections;
  int line = 0;
};

struct Module {
  std::string name;
  int line = 0;
  std::vector<std::string> ports;  // in port-list order
  std::vector<NetDecl> decls;      // a name may be declared twice (input A; wire A;)
  std::vector<Assign> assigns;
  std::vector<Instance> instances;
};

std::vector<Module> parse_verilog_source(const std::string& text, const std::string& file);

Netlist elaborate_verilog(const std::vector<Module>& modules, const std::string& file,
                          const VerilogReadOptions& options);

}  // namespace fames::verilog
