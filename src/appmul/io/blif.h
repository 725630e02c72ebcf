// BLIF (Berkeley Logic Interchange Format) in and out, for multiplier netlists.
//
// Writing: one .model whose inputs are A[0..ba-1] (activation, LSB first) and B[0..bw-1] (weight),
// outputs O[0..ba+bw-1], and one single-output .names cover per gate (nodes n<id>), plus a comment
// "# fames signature: w8s_a8u" from which the reader recovers the signedness.
//
// Reading accepts what yosys `write_blif` produces: .model/.inputs/.outputs/.names/.conn/.end,
// '\' line continuation, '#' comments, covers with any number of inputs, several rows and '-'
// don't-cares (on-set rows ending in 1 or off-set rows ending in 0), and constant nets such as
// yosys' $true/$false/$undef ($undef reads as 0). Covers of up to 2 inputs become one gate (or an
// alias, or a constant); larger covers become sums of products of 2-input gates. Only the first
// .model is read (what follows its .end is ignored). Ports: input bits named P[i] (or a scalar P)
// are grouped by P; A is the first input port (or `a_port`), B the second (or `b_port`); the
// product is the only output port (or `out_port`) and must have ba + bw bits. Only logic the
// outputs depend on is built. The model must end with .end: a file cut short is rejected rather than read as a smaller circuit.
// Nets are resolved with an explicit stack, so chains of any length are read; memory and time are
// linear in the file's size.
// Errors (fames::Error, "FILE:LINE: sentence"): unknown constructs (.latch, .subckt, ...),
// malformed covers, a net driven twice, an undriven net or output, a combinational cycle, width
// mismatches, a missing .end (truncation), a second .model before the first one's .end.
#pragma once
#include <iosfwd>
#include <string>

#include "appmul/netlist/netlist.h"

namespace fames {

struct BlifReadOptions {
  std::string a_port, b_port, out_port;  // empty = by position (see above)
  bool signed_w = false,
       signed_a = false;  // used when the file has no "# fames signature:" comment
};

void write_blif(const Netlist& net, std::ostream& out);
std::string to_blif(const Netlist& net);
void write_blif_file(const Netlist& net, const std::string& path);  // atomic

// `file_name` is used in error messages only.
Netlist parse_blif(const std::string& text, const std::string& file_name,
                   const BlifReadOptions& options = {});
Netlist read_blif(const std::string& path, const BlifReadOptions& options = {});

}  // namespace fames
