// Gate-level structural Verilog in and out (docs/formats.md, "Verilog").
//
// Reading accepts what public AppMul libraries publish (EvoApprox-style netlists, yosys output):
// modules with ANSI or non-ANSI port lists, scalar and vector nets, continuous assignments over
// ~ ! & | ^ ~^ ~& ~| ?: with parentheses, sized/unsized constants, bit and part selects,
// concatenation and replication; Verilog gate primitives (and, or, xor, nand, nor, xnor with any
// number of inputs, not, buf); standard-cell instances recognised by name (AND2X1, NAND2_X1,
// sky130_fd_sc_hd__xor2_1, AOI21, OAI22, MUX2, HA/FA, TIEHI/TIELO, ...) with named or positional
// pins; and instances of other modules in the same file (flattened; a module in the file wins over
// the built-in cell of the same name). Everything maps to 2-input Netlist gates.
//
// The top module is the one no other module instantiates (or VerilogReadOptions::top). Its input
// ports are the operands: A (activation) = the first input port or `a_port`, B (weight) = the
// second or `b_port`; both 1..8 bits. Other inputs are allowed only if no output depends on them.
// The output is the only output port (or `out_port`) and must have ba + bw bits. An operand is
// signed when its option says so or its port is declared `signed`.
//
// Errors (all fames::Error, "FILE:LINE: sentence"): syntax errors, undeclared or out-of-range
// selects, unknown cells, a wire driven twice, an output bit or used wire without a driver, a
// combinational cycle, width mismatches (ports, assignments, cell pins).
#pragma once
#include <iosfwd>
#include <string>

#include "appmul/netlist/netlist.h"
#include "util/error.h"

namespace fames {

struct VerilogReadOptions {
  std::string top;        // top module name; empty = the module no other module instantiates
  std::string a_port;     // activation operand port; empty = first input port
  std::string b_port;     // weight operand port; empty = second input port
  std::string out_port;   // product port; empty = the only output port
  bool signed_w = false;  // weight operand B is two's complement
  bool signed_a = false;  // activation operand A is two's complement
};

// What parse_verilog() throws when the source uses arithmetic or comparison operators (+ - * / %
// < > == !=): the module is behavioural, not gate-level. import_multiplier() then synthesizes it
// with yosys (rtl_synthesis.h).
class BehaviouralVerilogError : public Error {
 public:
  using Error::Error;
};

// Parses Verilog source `text`; `file_name` is only used in error messages. The netlist is named
// after the top module and contains only logic the outputs depend on.
Netlist parse_verilog(const std::string& text, const std::string& file_name,
                      const VerilogReadOptions& options = {});
// Reads and parses a file. Throws fames::Error if it cannot be read.
Netlist read_verilog(const std::string& path, const VerilogReadOptions& options = {});

// Writes `netlist` as one synthesizable module of continuous assignments:
//   module NAME(A, B, O); input [ba-1:0] A; input [bw-1:0] B; output [ba+bw-1:0] O; ...
// A signed operand's port is declared `signed`, so read_verilog recovers the signature.
// `module_name` empty = the netlist's name (made a legal identifier; "appmul" if empty).
void write_verilog(const Netlist& netlist, std::ostream& out, const std::string& module_name = "");
std::string to_verilog(const Netlist& netlist, const std::string& module_name = "");
// Atomically writes the file (write_file_atomic).
void write_verilog_file(const Netlist& netlist, const std::string& path,
                        const std::string& module_name = "");

}  // namespace fames
