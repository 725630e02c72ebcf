// Netlist -> Verilog -> Netlist keeps the product table, the signature and the gate count; and an
// independent tool (yosys) reads the exported Verilog and synthesizes a circuit with the same
// table.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "appmul/io/blif.h"
#include "appmul/synth/generators.h"
#include "appmul/netlist/simulate.h"
#include "appmul/io/verilog.h"
#include "util/files.h"

namespace fames {
namespace {

struct Case {
  Signature sig;
  GeneratorSpec spec;
};

std::vector<Case> round_trip_cases() {
  return {
      {{8, 8, true, false}, {Family::kExactDadda, 0, 0}},
      {{4, 4, false, false}, {Family::kTrunc, 3, 0}},
      {{6, 3, true, false}, {Family::kBrokenArray, 1, 3}},
      {{8, 8, false, false}, {Family::kDrum, 4, 0}},
      {{4, 4, true, true}, {Family::kMitchell, 2, 0}},
      {{5, 7, false, true}, {Family::kLowerOr, 3, 0}},
      {{2, 2, false, false}, {Family::kExactArray, 0, 0}},
  };
}

TEST(VerilogRoundTrip, GeneratedMultipliersKeepTableSignatureAndGates) {
  for (const Case& c : round_trip_cases()) {
    const Netlist original = generate_multiplier(c.sig, c.spec);
    const std::string text = to_verilog(original);
    VerilogReadOptions opt;  // signedness must come back from the `signed` port declarations
    const Netlist back = parse_verilog(text, original.name() + ".v", opt);
    SCOPED_TRACE(original.name());
    EXPECT_EQ(back.name(), original.name());
    EXPECT_EQ(back.signature(), original.signature());
    EXPECT_EQ(back.gate_count(), original.sweep().gate_count());
    EXPECT_EQ(simulate_table(back), simulate_table(original));
  }
}

// Outputs that are constants or operand bits directly, every gate type, and an unused gate.
TEST(VerilogRoundTrip, ConstantsInputsAndEveryGateType) {
  Netlist n(Signature{2, 2, false, true}, "9 odd-name");
  const auto& a = n.inputs_a();
  const auto& b = n.inputs_b();
  const int32_t nand = n.add_gate(GateType::kNand, a[0], b[1]);
  const int32_t nor = n.add_gate(GateType::kNor, nand, a[1]);
  const int32_t xnor = n.add_gate(GateType::kXnor, nor, b[0]);
  const int32_t buf = n.add_gate(GateType::kBuf, xnor);
  n.add_gate(GateType::kOr, a[0], a[1]);  // dead
  n.set_outputs({n.const1(), b[0], buf, n.add_gate(GateType::kNot, nand)});
  const Netlist back = parse_verilog(to_verilog(n), "odd.v");
  EXPECT_EQ(back.name(), "m_9_odd_name");
  EXPECT_EQ(back.signature(), n.signature());
  EXPECT_EQ(simulate_table(back), simulate_table(n));
  EXPECT_EQ(back.gate_count(), 5);
}

bool have_yosys() { return std::system("command -v yosys > /dev/null 2>&1") == 0; }

// yosys parses our Verilog, synthesizes it and writes BLIF and Verilog; reading either back (BLIF
// with blif.h, Verilog with our reader, exercising it on yosys' output) must give the original
// table.
TEST(VerilogRoundTrip, YosysSynthesizesTheExportedVerilogToTheSameTable) {
  if (!have_yosys()) GTEST_SKIP() << "yosys is not on PATH";
  const std::string dir = testing::TempDir() + "/fames_verilog_yosys";
  std::filesystem::create_directories(dir);
  // First: yosys' own gates, written with (* attributes *) and ?: muxes. Second: mapped by abc to
  // simple gates, written without attributes.
  const std::vector<std::pair<Case, std::string>> runs = {
      {Case{{6, 6, true, false}, {Family::kTrunc, 4, 0}}, "opt_clean; write_verilog"},
      {Case{{4, 3, true, true}, {Family::kExactArray, 0, 0}},
       "abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX; opt_clean; write_verilog -noattr"}};
  for (const auto& [c, passes] : runs) {
    const Netlist original = generate_multiplier(c.sig, c.spec);
    SCOPED_TRACE(original.name());
    const std::string in = dir + "/" + original.name() + ".v";
    const std::string out = dir + "/" + original.name() + "_synth.v";
    const std::string blif = dir + "/" + original.name() + "_synth.blif";
    write_verilog_file(original, in);
    const std::string cmd = fmt::format(
        "yosys -q -p 'read_verilog {}; synth -top {}; {} {}; write_blif {}' > {}/yosys.log 2>&1",
        in, original.name(), passes, out, blif, dir);
    ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(dir + "/yosys.log");
    VerilogReadOptions opt;  // yosys drops `signed` from ports, so say it as the CLI flags would
    opt.signed_w = c.sig.signed_w;
    opt.signed_a = c.sig.signed_a;
    const Netlist synthesized = read_verilog(out, opt);
    EXPECT_EQ(synthesized.signature(), original.signature());
    EXPECT_EQ(simulate_table(synthesized), simulate_table(original));
    BlifReadOptions blif_opt;
    blif_opt.signed_w = c.sig.signed_w;
    blif_opt.signed_a = c.sig.signed_a;
    const Netlist from_blif = read_blif(blif, blif_opt);
    EXPECT_EQ(from_blif.signature(), original.signature());
    EXPECT_EQ(simulate_table(from_blif), simulate_table(original));
  }
}

}  // namespace
}  // namespace fames
