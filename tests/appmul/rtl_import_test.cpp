// Behavioural Verilog multipliers import through yosys (appmul/io/rtl_synthesis.h) with the
// product table, and so the error metrics, of the arithmetic they describe.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <unistd.h>

#include "appmul/io/appmul_import.h"
#include "appmul/library/metrics.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

std::string write_source(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name + "." + std::to_string(::getpid()) + ".v";
  write_file_atomic(path, text);
  return path;
}

// The table of `product(w, a)` over the signature's operand ranges.
ProductTable table_of(const Signature& sig, const std::function<int(int, int)>& product) {
  ProductTable t = ProductTable::exact(sig);
  for (int w = sig.w_min(); w <= sig.w_max(); ++w)
    for (int a = sig.a_min(); a <= sig.a_max(); ++a)
      t.at(w, a) = product(w, a);
  return t;
}

void expect_same_table(const ProductTable& got, const ProductTable& want) {
  ASSERT_EQ(got.signature(), want.signature());
  EXPECT_EQ(got.data(), want.data());
  const ErrorMetrics g = error_metrics(got), e = error_metrics(want);
  EXPECT_EQ(g.mred, e.mred);
  EXPECT_EQ(g.wce, e.wce);
  EXPECT_EQ(g.er, e.er);
}

TEST(RtlImport, PlainProductIsExact) {
  const std::string path = write_source(
      "rtl_mul", "module mul43(A, B, O);\n  input [3:0] A;\n  input [2:0] B;\n  output [6:0] O;\n  assign O = A * B;\nendmodule\n");
  const ImportedMultiplier m = import_multiplier(path, {});
  ASSERT_TRUE(m.netlist.has_value());
  EXPECT_NE(m.synthesis.find("synth -flatten"), std::string::npos) << m.synthesis;
  const Signature sig{3, 4, false, false};  // B (3 bits) is the weight, A (4 bits) the activation
  expect_same_table(m.table, table_of(sig, [](int w, int a) { return w * a; }));
  EXPECT_TRUE(m.table.is_exact());
}

TEST(RtlImport, SignedProductIsExact) {
  const std::string path = write_source(
      "rtl_mul_signed",
      "module mul4s(input signed [3:0] A, input signed [3:0] B, output signed [7:0] O);\n"
      "  assign O = A * B;\nendmodule\n");
  MultiplierImportOptions options;
  options.signed_w = options.signed_a = true;
  const ImportedMultiplier m = import_multiplier(path, options);
  const Signature sig{4, 4, true, true};
  expect_same_table(m.table, table_of(sig, [](int w, int a) { return w * a; }));
}

// Gate-level partial products with one bit left out, summed by a behavioural adder.
TEST(RtlImport, GatePartialProductsWithBehaviouralAdderKeepTheirError) {
  const std::string path = write_source(
      "rtl_pp3",
      "module pp3(A, B, O);\n  input [2:0] A, B;\n  output [5:0] O;\n  wire [2:0] p0, p1, p2;\n"
      "  assign p0 = {A[2] & B[0], A[1] & B[0], 1'b0};  // A[0] & B[0] dropped\n"
      "  assign p1 = A & {3{B[1]}};\n  assign p2 = A & {3{B[2]}};\n"
      "  assign O = p0 + (p1 << 1) + (p2 << 2);\nendmodule\n");
  const ImportedMultiplier m = import_multiplier(path, {});
  const Signature sig{3, 3, false, false};
  expect_same_table(m.table, table_of(sig, [](int w, int a) { return w * a - (w & a & 1); }));
  EXPECT_FALSE(m.table.is_exact());
  EXPECT_GT(error_metrics(m.table).mred, 0);
}

TEST(RtlImport, GateLevelFilesDoNotGoThroughYosys) {
  const std::string path = write_source(
      "gate_mul2",
      "module g(A, B, O);\n  input [1:0] A, B;\n  output [3:0] O;\n"
      "  assign O = {1'b0, A[1] & B[1], A[0] & B[1] ^ A[1] & B[0], A[0] & B[0]};\nendmodule\n");
  const ImportedMultiplier m = import_multiplier(path, {});
  EXPECT_TRUE(m.synthesis.empty());
}

TEST(RtlImport, YosysErrorsNameTheFile) {
  const std::string path = write_source(
      "rtl_broken", "module bad(A, B, O);\n  input [1:0] A, B;\n  output [3:0] O;\n  assign O = A + ;\nendmodule\n");
  try {
    import_multiplier(path, {});
    FAIL() << "a broken module was imported";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("yosys could not synthesize it"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace fames
