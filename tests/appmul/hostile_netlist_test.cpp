// Hostile Verilog, BLIF and Liberty (docs/reliability.md): inputs built to overflow the stack, to
// allocate gigabytes from a few hundred bytes, or cut short. Each must end in one fames::Error that
// names the file (and line) and the limit, quickly, and never in a signal.
#include <gtest/gtest.h>

#include <ctime>
#include <functional>

#include "appmul/io/blif.h"
#include "appmul/io/verilog.h"
#include "appmul/io/liberty.h"
#include "appmul/netlist/simulate.h"
#include "error_message.h"
#include "util/error.h"

namespace fames {
namespace {

// The error message of `read`, or "no error"; fails the test if it takes more than 60 s of CPU
// time (CPU, not wall time: the limit is about the reader, not about a loaded machine).
std::string error_of(const std::function<void()>& read) {
  const std::clock_t start = std::clock();
  const std::string message = testing::error_message(read);
  const double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  EXPECT_LT(seconds, 60) << message;
  return message;
}

std::string verilog_error(const std::string& text) {
  return error_of([&] { parse_verilog(text, "bad.v"); });
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// A 2x2 multiplier whose product bit 0 is `expr`.
std::string module_with(const std::string& decls, const std::string& expr) {
  return "module m(A, B, O);\ninput [1:0] A;\ninput [1:0] B;\noutput [3:0] O;\n" + decls +
         "assign O[0] = " + expr + ";\nassign O[3:1] = 3'b0;\nendmodule\n";
}

TEST(HostileVerilog, DeepNestingIsALimitNotAStackOverflow) {
  const std::string parens = module_with("", repeat("(", 100000) + "A[0]" + repeat(")", 100000));
  std::string e = verilog_error(parens);
  EXPECT_NE(e.find("bad.v:5: expression nested more than 256 levels"), std::string::npos) << e;
  e = verilog_error(module_with("", repeat("~", 100000) + "A[0]"));
  EXPECT_NE(e.find("nested more than 256 levels"), std::string::npos) << e;
  // Constant expressions (ranges, selects) nest through their own parser.
  e = verilog_error(
      module_with("wire [" + repeat("-(", 50000) + "1" + repeat(")", 50000) + ":0] w;\n", "A[0]"));
  EXPECT_NE(e.find("bad.v:5: expression nested more than 256 levels"), std::string::npos) << e;
}

TEST(HostileVerilog, LongOperatorChainsAreBoundedInDepth) {
  // Left-deep: every operator adds one level the elaborator would recurse through.
  std::string e = verilog_error(module_with("", "A[0]" + repeat(" ^ A[1]", 5000)));
  EXPECT_NE(e.find("bad.v:5: expression is more than 1024 operators deep"), std::string::npos)
      << e;
  // Within the limit the chain reads and computes: A[0] ^ A[1] ^ ... ^ A[1] with 999 (an odd
  // number of) A[1] terms is A[0] ^ A[1].
  const Netlist n = parse_verilog(module_with("", "A[0]" + repeat(" ^ A[1]", 999)), "ok.v");
  const ProductTable t = simulate_table(n);
  EXPECT_EQ(t.raw(0, 1) & 1, 1);  // A = 01: 1 ^ 0
  EXPECT_EQ(t.raw(0, 3) & 1, 0);  // A = 11: 1 ^ 1
}

TEST(HostileVerilog, ConstantArithmeticCannotWrap) {
  const std::string e = verilog_error(
      module_with("wire [40000*40000*40000*40000*40000:0] w;\n", "A[0]"));
  EXPECT_NE(e.find("bad.v:5: constant expression exceeds +-2147483648"), std::string::npos) << e;
  const std::string e2 = verilog_error(module_with("wire [99999999999:0] w;\n", "A[0]"));
  EXPECT_NE(e2.find("constant exceeds 2147483648"), std::string::npos) << e2;
}

TEST(HostileVerilog, SizesAreCheckedBeforeAllocation) {
  std::string e = verilog_error(module_with("wire [2000000000:0] w;\n", "A[0]"));
  EXPECT_NE(e.find("bad.v:5: 'w' is 2000000001 bits wide; the reader's limit is 65536"),
            std::string::npos)
      << e;
  // Replication of replication: 4096 x 4096 x 2 bits.
  e = verilog_error(module_with("", "^{4096{{4096{A}}}}"));
  EXPECT_NE(e.find("wider than 65536 bits"), std::string::npos) << e;
  // Many unused wires, each within the per-wire limit: 200 x 65536 bits.
  std::string wires;
  for (int i = 0; i < 200; ++i) wires += "wire [65535:0] w" + std::to_string(i) + ";\n";
  e = verilog_error(module_with(wires, "A[0]"));
  EXPECT_NE(e.find("more than 4194304 gates and wire bits"), std::string::npos) << e;
}

TEST(HostileVerilog, ExponentialHierarchyHitsTheStepLimit) {
  // m0 instantiates m1 four times, m1 four m2s, ...: 4^12 instances from a few hundred bytes.
  std::string text;
  const int levels = 12;
  for (int k = 0; k < levels; ++k) {
    text += "module m" + std::to_string(k) + "(x, y);\ninput x;\noutput y;\nwire a, b, c;\n";
    const std::string child = "m" + std::to_string(k + 1);
    if (k + 1 < levels) {
      text += child + " u0(x, a);\n" + child + " u1(a, b);\n" + child + " u2(b, c);\n" + child +
              " u3(c, y);\n";
    } else {
      text += "assign y = x;\n";
    }
    text += "endmodule\n";
  }
  text += "module top(A, B, O);\ninput [1:0] A;\ninput [1:0] B;\noutput [3:0] O;\n"
          "m0 u(A[0], O[0]);\nassign O[3:1] = 3'b0;\nendmodule\n";
  const std::string e = verilog_error(text);
  EXPECT_TRUE(e.find("limit") != std::string::npos && e.find("bad.v:") == 0) << e;
}

TEST(HostileBlif, TruncatedFileIsRejected) {
  const std::string whole =
      ".model m\n.inputs a[0] a[1] b[0] b[1]\n.outputs y[0] y[1] y[2] y[3]\n"
      ".names y[1]\n.names y[2]\n.names y[3]\n.names a[0] b[0] y[0]\n11 1\n.end\n";
  EXPECT_NO_THROW(parse_blif(whole, "ok.blif"));
  // Cut inside the last cover: still well-formed up to the cut.
  const std::string cut = whole.substr(0, whole.find("11 1"));
  const std::string e = error_of([&] { parse_blif(cut, "cut.blif"); });
  EXPECT_EQ(e, "cut.blif: the model has no .end: the file is truncated (or not BLIF)");
}

TEST(HostileBlif, LongChainsResolveWithoutRecursion) {
  // y[0] = a[0] through 300000 buffers: a recursive resolve would overflow the stack.
  std::string text = ".model m\n.inputs a[0] a[1] b[0] b[1]\n.outputs y[0] y[1] y[2] y[3]\n"
                     ".names y[1]\n.names y[2]\n.names y[3]\n.names a[0] n0\n1 1\n";
  const int chain = 300000;
  for (int i = 1; i < chain; ++i)
    text += ".names n" + std::to_string(i - 1) + " n" + std::to_string(i) + "\n1 1\n";
  text += ".names n" + std::to_string(chain - 1) + " y[0]\n1 1\n.end\n";
  const ProductTable t = simulate_table(parse_blif(text, "chain.blif"));
  EXPECT_EQ(t.raw(0, 1), 1);  // A = 1 (raw), B = 0: product bit 0 follows a[0]
  EXPECT_EQ(t.raw(3, 2), 0);
  // A cycle through a long chain is still found.
  std::string cycle = ".model m\n.inputs a[0] a[1] b[0] b[1]\n.outputs y[0] y[1] y[2] y[3]\n"
                      ".names y[1]\n.names y[2]\n.names y[3]\n.names n9999 y[0]\n1 1\n"
                      ".names y[0] n0\n1 1\n";
  for (int i = 1; i < 10000; ++i)
    cycle += ".names n" + std::to_string(i - 1) + " n" + std::to_string(i) + "\n1 1\n";
  const std::string e = error_of([&] { parse_blif(cycle + ".end\n", "cycle.blif"); });
  EXPECT_NE(e.find("cycle.blif:"), std::string::npos) << e;
  EXPECT_NE(e.find("combinational cycle"), std::string::npos) << e;
}

TEST(HostileLiberty, NestingEmptyValuesAndNonFiniteNumbers) {
  std::string deep = "library (x) {\n";
  for (int i = 0; i < 10000; ++i) deep += "g () {\n";
  std::string e = error_of([&] { parse_liberty(deep, "deep.lib"); });
  EXPECT_NE(e.find("deep.lib:"), std::string::npos) << e;
  EXPECT_NE(e.find("nested more than 64 deep"), std::string::npos) << e;
  e = error_of([&] { parse_liberty("library (x) {\n cell (BUF_X1) {\n  area ();\n }\n}\n", "e.lib"); });
  EXPECT_NE(e.find("e.lib:3: area has no value"), std::string::npos) << e;
  e = error_of([&] { parse_liberty("library (x) {\n nom_voltage : nan;\n}\n", "n.lib"); });
  EXPECT_NE(e.find("n.lib:2: 'nan' is not a finite number"), std::string::npos) << e;
}

}  // namespace
}  // namespace fames
