// Verilog reader: every construct on a small fixture whose product table is checked against a
// formula written here (not against the reader's own output), and every error case with its line.
#include "appmul/io/verilog.h"

#include <gtest/gtest.h>

#include <functional>

#include "appmul/netlist/simulate.h"
#include "util/error.h"

namespace fames {
namespace {

// The table a circuit with output bits `out(w_raw, a_raw)` must have (read as netlist.h says).
ProductTable table_from_bits(Signature sig,
                             const std::function<uint32_t(uint32_t w, uint32_t a)>& out) {
  ProductTable t(sig);
  const int width = sig.ba + sig.bw;
  const bool is_signed = sig.signed_w || sig.signed_a;
  for (uint32_t w = 0; w < sig.weight_levels(); ++w)
    for (uint32_t a = 0; a < sig.act_levels(); ++a) {
      const uint32_t bits = out(w, a) & ((1u << width) - 1);
      const bool negative = is_signed && (bits >> (width - 1)) & 1;
      t.raw(w, a) =
          negative ? static_cast<int32_t>(bits) - (1 << width) : static_cast<int32_t>(bits);
    }
  return t;
}

uint32_t bit(uint32_t x, int i) { return (x >> i) & 1; }

ProductTable table_of(const std::string& text, const VerilogReadOptions& options = {}) {
  return simulate_table(parse_verilog(text, "fixture.v", options));
}

// Expects parse_verilog to throw a fames::Error whose message starts with "fixture.v:LINE:" and
// contains `words`.
void expect_error_at(const std::string& text, int line, const std::string& words,
                     const VerilogReadOptions& options = {}) {
  try {
    parse_verilog(text, "fixture.v", options);
    ADD_FAILURE() << "no error; expected line " << line << ": " << words;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(fmt::format("fixture.v:{}:", line), 0), 0u) << msg;
    EXPECT_NE(msg.find(words), std::string::npos) << msg;
  }
}

// A 2x2 unsigned multiplier in EvoApproxLib's style: scalar wires, assigns, constants.
const char* kEvoStyle2x2 = R"(/* header comment */
module mul2u_test (
    A,
    B,
    O
);
input [1:0] A;
input [1:0] B;
output [3:0] O;
wire sig_0,sig_1,sig_2,sig_3,sig_4; // pp and carry
assign sig_0 = A[1] & B[0];
assign sig_1 = A[0] & B[1];
assign sig_2 = sig_0 & sig_1;
assign sig_3 = A[1] & B[1];
assign sig_4 = sig_3 & sig_2;
assign O[3] = sig_4;
assign O[2] = sig_3 ^ sig_2;
assign O[1] = sig_0 ^ sig_1;
assign O[0] = A[0] & B[0];
endmodule
)";

TEST(VerilogRead, EvoApproxStyleAssignsGiveExactTable) {
  const Netlist n = parse_verilog(kEvoStyle2x2, "fixture.v");
  EXPECT_EQ(n.name(), "mul2u_test");
  EXPECT_EQ(n.signature(), (Signature{2, 2, false, false}));
  EXPECT_EQ(n.gate_count(), 8);
  EXPECT_TRUE(simulate_table(n).is_exact());
}

TEST(VerilogRead, SignednessFromOptionsAndFromSignedPorts) {
  VerilogReadOptions opt;
  opt.signed_w = true;
  EXPECT_EQ(parse_verilog(kEvoStyle2x2, "fixture.v", opt).signature(),
            (Signature{2, 2, true, false}));
  const std::string ansi_signed = R"(module m(input signed [2:0] A, input [1:0] B, output [4:0] O);
  assign O = {A[2], A[2], A} & {5{B[0]}};
endmodule)";
  const ProductTable t = table_of(ansi_signed);
  EXPECT_EQ(t.signature(), (Signature{2, 3, false, true}));
  // O = sign-extended A when B[0] = 1, else 0; read as a signed 5-bit product.
  EXPECT_EQ(t, table_from_bits(t.signature(), [](uint32_t w, uint32_t a) {
              const uint32_t ext = a | (bit(a, 2) ? 0x18u : 0u);
              return bit(w, 0) ? ext : 0u;
            }));
}

TEST(VerilogRead, OperandPortsFromOptionsTransposeTheTable) {
  const std::string text = R"(module m(X, Y, P);
  input [1:0] X; input [2:0] Y; output [4:0] P;
  assign P = {X, Y};
endmodule)";
  // Default: first input X is the activation A, Y the weight B.
  ProductTable t = table_of(text);
  EXPECT_EQ(t.signature(), (Signature{3, 2, false, false}));
  EXPECT_EQ(t, table_from_bits(t.signature(), [](uint32_t w, uint32_t a) { return (a << 3) | w; }));
  VerilogReadOptions swapped;
  swapped.a_port = "Y";
  t = table_of(text, swapped);
  EXPECT_EQ(t.signature(), (Signature{2, 3, false, false}));
  EXPECT_EQ(t, table_from_bits(t.signature(), [](uint32_t w, uint32_t a) { return (w << 3) | a; }));
  swapped = {};
  swapped.b_port = "X";
  EXPECT_EQ(table_of(text, swapped), t);
}

TEST(VerilogRead, PrimitivesWithSeveralInputs) {
  const std::string text = R"(module prims(a, b, o);
  input [1:0] a, b;
  output [3:0] o;
  wire t;
  and g0 (o[0], a[0], a[1], b[0]);
  nor (o[1], a[0], a[1], b[0], b[1]);
  xnor g2 (o[2], a[0], a[1], b[1]);
  not n1 (t, o[3]), n2 (o[3], b[1]);  // two instances in one statement
endmodule)";
  const ProductTable t = table_of(text);
  EXPECT_EQ(t, table_from_bits(t.signature(), [](uint32_t w, uint32_t a) {
              const uint32_t o0 = bit(a, 0) & bit(a, 1) & bit(w, 0);
              const uint32_t o1 = !(bit(a, 0) | bit(a, 1) | bit(w, 0) | bit(w, 1));
              const uint32_t o2 = !(bit(a, 0) ^ bit(a, 1) ^ bit(w, 1));
              const uint32_t o3 = !bit(w, 1);
              return o0 | o1 << 1 | o2 << 2 | o3 << 3;
            }));
}

TEST(VerilogRead, CellsFromSeveralLibrariesNamedAndPositional) {
  const std::string text = R"(module cells(A, B, O);
  input [1:0] A; input [1:0] B; output [3:0] O;
  wire x, y, z, s, c, hi;
  AOI21_X1 u0 (.A(A[0]), .B1(A[1]), .B2(B[0]), .ZN(x));           // NanGate: !(A | B1&B2)
  OAI21X1 u1 (A[0], A[1], B[0], y);                                // OSU positional: !((A|B)&C)
  sky130_fd_sc_hd__mux2_1 u2 (.A0(x), .A1(y), .S(B[1]), .X(z));   // S ? A1 : A0
  sky130_fd_sc_hd__fa_1 u3 (.A(z), .B(A[1]), .CIN(B[0]), .COUT(c), .SUM(s));
  NAND2xp33_ASAP7_75t_R u4 (.A(s), .B(c), .Y(O[0]));
  TIEHI t1 (.Z(hi));
  ND2D1 u5 (.A1(hi), .A2(z), .ZN(O[1]));
  XNOR2X1 u6 (.A(c), .B(x), .Y(O[2]));
  INVX1 u7 (.A(y), .Y(O[3]));
endmodule)";
  const ProductTable t = table_of(text);
  EXPECT_EQ(t, table_from_bits(t.signature(), [](uint32_t w, uint32_t a) {
              const uint32_t x = !(bit(a, 0) | (bit(a, 1) & bit(w, 0)));
              const uint32_t y = !((bit(a, 0) | bit(a, 1)) & bit(w, 0));
              const uint32_t z = bit(w, 1) ? y : x;
              const uint32_t total = z + bit(a, 1) + bit(w, 0);
              const uint32_t s = total & 1, c = total >> 1;
              return (!(s & c)) | (!z) << 1 | (!(c ^ x)) << 2 | (!y) << 3;
            }));
}

// EvoApprox8b files instantiate cells defined as modules at the end of the same file; those
// definitions win over the built-in cells.
TEST(VerilogRead, FlattensModulesDefinedInTheFile) {
  const std::string text = R"(module mul2_cells(A, B, O);
  input [1:0] A;
  input [1:0] B;
  output [3:0] O;
  wire [31:0] N;
  assign N[0] = A[0];
  assign N[2] = A[1];
  assign N[4] = B[0];
  assign N[6] = B[1];
  AND2X1 n8(.A(N[0]), .B(N[4]), .Y(N[8]));
  AND2X1 n10(.A(N[2]), .B(N[4]), .Y(N[10]));
  AND2X1 n12(.A(N[0]), .B(N[6]), .Y(N[12]));
  AND2X1 n14(N[14], N[2], N[6]);  // positional, in the order the module declares
  HAX1 n16(.A(N[10]), .B(N[12]), .YS(N[16]), .YC(N[17]));
  HAX1 n18(.A(N[14]), .B(N[17]), .YS(N[18]), .YC(N[19]));
  assign O[0] = N[8];
  assign O[1] = N[16];
  assign O[2] = N[18];
  assign O[3] = N[19];
endmodule

/* mod */
module HAX1( input A, input B, output YS, output YC );
    assign YS = A ^ B;
    assign YC = A & B;
endmodule
module AND2X1(Y, A, B);  // output first: positional instances must follow this order
  input A, B; output Y;
  assign Y = ~(~A | ~B);
endmodule
)";
  EXPECT_TRUE(table_of(text).is_exact());
  // A module named like a built-in cell but with a different function proves the file's wins.
  std::string odd = text;
  odd.replace(odd.find("assign YC = A & B;"), 18, "assign YC = A | B;");
  EXPECT_FALSE(table_of(odd).is_exact());
}

TEST(VerilogRead, ExpressionsSelectsConcatenationAndTernary) {
  const std::string text = R"(`timescale 1ns/1ps
module expr (
  input wire [0:2] A,   // ascending range: A[2] is the LSB
  input [3:1] B,
  output [5:0] O
);
  (* keep *) wire [3:0] t;
  wire u = ^B;            // reduction xor
  assign t[3:2] = ~A[0:1];
  assign {t[1], t[0]} = 2'b10;
  assign O = B[2] ? {t, u, !A} : {2'd0, A[1 +: 2], 2'b0} | {6{B[1] && A[2]}};
endmodule)";
  const ProductTable t = table_of(text);
  EXPECT_EQ(t.signature(), (Signature{3, 3, false, false}));
  EXPECT_EQ(t, table_from_bits(t.signature(), [](uint32_t w, uint32_t a) {
              // Raw bit i of A is A[2-i]; raw bit i of B is B[i+1].
              const auto A = [&](int idx) { return bit(a, 2 - idx); };
              const auto B = [&](int idx) { return bit(w, idx - 1); };
              const uint32_t u = B(1) ^ B(2) ^ B(3);
              const uint32_t t = ((!A(0)) << 3) | ((!A(1)) << 2) | 2u;
              const uint32_t hi = (t << 2) | (u << 1) | (a == 0);
              // A[1 +: 2] on an ascending vector is A[1:2]: A[1] above A[2].
              const uint32_t lo = ((A(1) << 1 | A(2)) << 2) | ((B(1) && A(2)) ? 0x3Fu : 0u);
              return B(2) ? hi : lo;
            }));
}

TEST(VerilogRead, ExtraInputsAllowedOnlyWhenUnused) {
  const std::string text = R"(module m(A, B, clk, O);
  input [1:0] A, B; input clk; output [3:0] O;
  assign O = {A, B};
endmodule)";
  EXPECT_NO_THROW(parse_verilog(text, "fixture.v"));
  std::string uses_clk = text;
  uses_clk.replace(uses_clk.find("{A, B}"), 6, "{A, B[1], clk}");
  expect_error_at(uses_clk, 2, "neither operand");
}

TEST(VerilogRead, ErrorsNameTheLine) {
  // Undriven output bit: reported at the output's declaration.
  expect_error_at(
      "module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O;\nassign O[2:0] = A & B;\nendmodule",
      3, "O[3] has no driver");
  // A used wire nobody drives: reported where it is used.
  expect_error_at(
      "module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O;\nwire w;\n\nassign O = {A, B[1], "
      "w};\nendmodule",
      6, "'w' is used but never driven");
  // Combinational cycle.
  expect_error_at(
      "module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O;\nwire x, y;\nassign x = y & A[0];\n"
      "assign y = x | B[0];\nassign O = {A, B[1], x};\nendmodule",
      5, "combinational cycle");
  // Unknown cell.
  expect_error_at(
      "module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O;\nassign O[3:1] = 0;\nDFFX1 r "
      "(.D(A[0]), .Q(O[0]));\nendmodule",
      5, "unknown cell or module 'DFFX1'");
  // Width mismatches: output port, assignment, cell pin.
  expect_error_at(
      "module m(A, B, O);\ninput [1:0] A, B;\noutput [2:0] O;\nassign O = 0;\nendmodule", 3,
      "width mismatch");
  expect_error_at(
      "module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O;\nassign O = {A, B, A};\nendmodule", 4,
      "width mismatch");
  expect_error_at(
      "module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O;\nassign O[3:1] = 0;\nAND2X1 g "
      "(.A(A), .B(B[0]), .Y(O[0]));\nendmodule",
      5, "width mismatch");
  // Syntax errors: a missing semicolon, arithmetic, an unterminated comment.
  expect_error_at("module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O\nassign O = 0;\nendmodule",
                  4, "expected ';'");
  expect_error_at(
      "module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O;\nassign O = A + B;\nendmodule", 4,
      "operator '+' is not gate-level");
  expect_error_at("module m(A, B, O);\n/* open\n\ninput", 2, "unterminated comment");
  // Driven twice, index out of range, x constants.
  expect_error_at(
      "module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O;\nassign O = 0;\nassign O[1] = "
      "A[0];\nendmodule",
      5, "driven twice (also at line 4)");
  expect_error_at(
      "module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O;\nassign O = {A[2], B, "
      "A[0]};\nendmodule",
      4, "outside 'A'");
  expect_error_at(
      "module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O;\nassign O = 4'b10x0;\nendmodule", 4,
      "x/z");
  // A cell's pins that do not fit it.
  expect_error_at(
      "module m(A, B, O);\ninput [1:0] A, B;\noutput [3:0] O;\nassign O[3:1] = 0;\n\nNAND3X1 g "
      "(.A(A[0]), .B(B[0]), .Y(O[0]));\nendmodule",
      6, "expects 3 input pins");
}

TEST(VerilogRead, PortErrorsNameTheFile) {
  VerilogReadOptions opt;
  opt.a_port = "Q";
  try {
    parse_verilog(kEvoStyle2x2, "fixture.v", opt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fixture.v: --a-port names 'Q'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(parse_verilog(
                   "module m(A, O); input [1:0] A; output [3:0] O; assign O = 0; endmodule", "f.v"),
               Error);
  expect_error_at(
      "module m(A, B, O);\ninput [9:0] A, B;\noutput [19:0] O;\nassign O = 0;\nendmodule", 2,
      "1..8 bits");
}

}  // namespace
}  // namespace fames
