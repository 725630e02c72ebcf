// Internal to the Verilog reader (verilog.h): the elaborator that flattens the top module of a
// parsed file into a Netlist. Statements and expressions (verilog_elaborate_expr.cpp) add nodes
// to an intermediate graph; modules, instances and the final walk are in verilog_elaborate.cpp.
//
// Every wire bit is a "net" node whose driver is filled in when an assign/instance drives it, so
// statements may appear in any order. The Netlist is built by a depth-first walk from the output
// bits: nets dissolve into their drivers, and that walk finds undriven wires and combinational
// cycles. Memory is O(1) per node and per instance: names live in the syntax tree and are put
// together only for error messages. The limits of verilog_ast.h are enforced here (node count,
// elaboration steps, widths, module nesting).
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "appmul/io/verilog.h"
#include "appmul/io/verilog_ast.h"
#include "appmul/io/verilog_cells.h"

namespace fames::verilog {

struct IrNode {
  GateType type = GateType::kConst0;
  int32_t in0 = -1, in1 = -1;  // fanins; for nets in0 is the driver; for inputs (operand, bit)
  int32_t net = -1;            // index into Elaborator::nets_ for wire bits
  int line = 0;                // statement that created (gates) or drives (nets) the node
};

// One wire bit, named for messages as <instance path><name>[<index>].
struct NetInfo {
  std::string_view name;  // points into the syntax tree
  int32_t prefix = 0;     // instance path: index into Elaborator::prefixes_
  int64_t index = 0;
  bool indexed = false;  // a bit of a vector
  int decl_line = 0;
};

// A module instance on the path from the top: parent path and instance name.
struct InstancePath {
  int32_t parent = -1;
  std::string_view instance;
};

struct Signal {
  std::string_view name;       // points into the syntax tree
  std::vector<int32_t> bits;   // net node ids, LSB first
  bool has_range = false;
  int64_t msb = 0, lsb = 0;
  Direction direction = Direction::kNone;
  bool is_signed = false;
  int line = 0;
};
using Scope = std::map<std::string_view, Signal, std::less<>>;

enum Operand : int32_t { kOperandA = 0, kOperandB = 1, kOtherInput = 2 };

class Elaborator : public GateSink {
 public:
  Elaborator(const std::vector<Module>& modules, const std::string& file,
             const VerilogReadOptions& options);

  Netlist run();

  int32_t gate(GateType type, int32_t in0, int32_t in1) override {
    return add_node(type, in0, in1, current_line_);
  }
  int32_t constant(bool value) override { return value ? const1_ : const0_; }

 private:
  // verilog_elaborate.cpp: the graph, modules and instances, the final walk.
  int32_t add_node(GateType type, int32_t in0, int32_t in1, int line);
  int32_t add_net(std::string_view name, int32_t prefix, bool indexed, int64_t index,
                  int decl_line);
  void step(int line);  // one elaboration step; enforces kMaxSteps
  std::string net_name(int32_t net) const;
  void drive(int32_t net, int32_t source, int line);

  const Module& top_module() const;
  Scope declare(const Module& m, int32_t prefix);
  void check_ports(const Module& m, const Scope& scope) const;
  void elaborate(const Module& m, Scope& scope, int32_t prefix, int depth);
  void instantiate(const Instance& inst, Scope& scope, int32_t prefix, int depth);
  void instantiate_module(const Module& child, const Instance& inst, Scope& scope, int32_t prefix,
                          int depth);
  void instantiate_cell(const CellFunction& f, const Instance& inst, Scope& scope);
  void instantiate_primitive(const Instance& inst, Scope& scope);
  Netlist build(const std::vector<int32_t>& out_bits, const Signal& out_port, Signature sig,
                const std::string& name);

  // verilog_elaborate_expr.cpp: expressions and assignments.
  Signal& lookup(Scope& scope, const std::string& name, int line);
  std::vector<int32_t> select_positions(const Signal& s, const Expr& e) const;
  int64_t self_width(const Expr& e, Scope& scope);
  std::vector<int32_t> eval(const Expr& e, Scope& scope, size_t width);
  std::vector<int32_t> eval_concat(const Expr& e, Scope& scope);
  std::vector<int32_t> eval_unary(const Expr& e, Scope& scope, size_t width);
  std::vector<int32_t> eval_binary(const Expr& e, Scope& scope, size_t width);
  std::vector<int32_t> eval_ternary(const Expr& e, Scope& scope, size_t width);
  std::vector<int32_t> lvalue(const Expr& e, Scope& scope);
  int32_t reduce(GateType type, const std::vector<int32_t>& bits);
  int32_t one_bit(const Expr& e, Scope& scope, int line);
  int32_t one_bit_pin(const Connection& c, Scope& scope, const Instance& inst);
  void assign(const std::vector<int32_t>& target, const Expr& rhs, Scope& scope, int line,
              const std::string& what);

  const std::vector<Module>& modules_;
  const std::string& file_;
  const VerilogReadOptions& options_;
  std::map<std::string, const Module*> by_name_;
  std::vector<IrNode> nodes_;
  std::vector<NetInfo> nets_;
  std::vector<InstancePath> prefixes_;  // [0] is the top module (empty path)
  int32_t const0_ = -1, const1_ = -1;
  int current_line_ = 0;
  int64_t steps_ = 0;
};

}  // namespace fames::verilog
