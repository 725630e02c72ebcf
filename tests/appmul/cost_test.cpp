// Cost model: the toggle-energy formula on a tiny circuit, sanity ranges for exact multipliers,
// monotonicity in bit width, approximate families cheaper than exact, and the Liberty reader.
#include "appmul/netlist/cost.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "appmul/synth/generators.h"
#include "util/error.h"

namespace fames {
namespace {

TEST(Cost, EnergyFormulaOnAnInverter) {
  // Signature 1x1: P0 = NOT a0, P1 = 0. Energy = toggles(a0) * 0.5*C_inv*V^2 (a0 drives the INV)
  // + toggles(P0) * (E_int + 0.5*C_out*V^2), over pairs-1 operations, plus INV leakage * 1 ns.
  Netlist net(Signature{1, 1, false, false}, "inv");
  const int32_t inv = net.add_gate(GateType::kNot, net.inputs_a()[0]);
  net.set_outputs({inv, net.const0()});
  CostOptions opt;
  opt.pairs = 1000;
  opt.output_load_ff = 2.0;
  std::vector<uint32_t> w, a;
  operand_stream(net.signature(), opt, w, a);
  int toggles = 0;
  for (size_t i = 1; i < a.size(); ++i) toggles += a[i] != a[i - 1];
  ASSERT_GT(toggles, 300);
  const CellLibrary& lib = CellLibrary::builtin_45nm();
  const double half_v2 = 0.5 * 1.1 * 1.1;
  const double expected = toggles * (half_v2 * 1.700 + 1.087 + half_v2 * 2.0) / 999.0 + 14.35e-3;
  const CircuitCost c = circuit_cost(net, lib, opt);
  EXPECT_NEAR(c.energy_fj, expected, 1e-9);
  EXPECT_DOUBLE_EQ(c.area_um2, 0.532);
  EXPECT_EQ(c.depth, 1);
}

TEST(Cost, ExactEightBitArrayLandsInPublishedRange) {
  const CircuitCost c =
      circuit_cost(generate_multiplier(Signature{8, 8, false, false}, {Family::kExactArray}));
  EXPECT_GT(c.energy_fj, 100);
  EXPECT_LT(c.energy_fj, 600);
  EXPECT_GT(c.area_um2, 250);
  EXPECT_LT(c.area_um2, 800);
}

TEST(Cost, ExactEnergyGrowsWithBitWidth) {
  for (Family f : {Family::kExactArray, Family::kExactDadda}) {
    double previous = 0;
    for (int b = 2; b <= 8; ++b) {
      const CircuitCost c = circuit_cost(generate_multiplier(Signature{b, b, true, false}, {f}));
      EXPECT_GT(c.energy_fj, previous) << b;
      previous = c.energy_fj;
    }
  }
  // Wider activations alone also cost more.
  EXPECT_LT(circuit_cost(generate_multiplier(Signature{8, 4, true, false}, {Family::kExactDadda}))
                .energy_fj,
            circuit_cost(generate_multiplier(Signature{8, 6, true, false}, {Family::kExactDadda}))
                .energy_fj);
}

TEST(Cost, ApproximateFamiliesCostLessThanExact) {
  const Signature sig{8, 8, true, false};
  const double exact = circuit_cost(generate_multiplier(sig, {Family::kExactDadda})).energy_fj;
  for (GeneratorSpec spec :
       {GeneratorSpec{Family::kTrunc, 4}, GeneratorSpec{Family::kTruncCorrected, 5},
        GeneratorSpec{Family::kBrokenArray, 2, 4}, GeneratorSpec{Family::kPerforation, 1, 1},
        GeneratorSpec{Family::kLowerOr, 7}, GeneratorSpec{Family::kApproxFullAdder, 8},
        GeneratorSpec{Family::kDrum, 3}, GeneratorSpec{Family::kMitchell, 3}}) {
    const CircuitCost c = circuit_cost(generate_multiplier(sig, spec));
    EXPECT_LT(c.energy_fj, exact) << generator_name(spec, sig);
  }
  // Within a family, more approximation costs less.
  double previous = exact;
  for (int k = 2; k <= 8; k += 2) {
    const double e = circuit_cost(generate_multiplier(sig, {Family::kTrunc, k})).energy_fj;
    EXPECT_LT(e, previous) << k;
    previous = e;
  }
}

TEST(Cost, SeededAndHistogramStreams) {
  const Netlist net = generate_multiplier(Signature{4, 4, true, false}, {Family::kExactDadda});
  CostOptions a, b;
  b.seed = 99;
  const double ea = circuit_cost(net, CellLibrary::builtin_45nm(), a).energy_fj;
  EXPECT_EQ(ea, circuit_cost(net, CellLibrary::builtin_45nm(), a).energy_fj);
  EXPECT_NEAR(circuit_cost(net, CellLibrary::builtin_45nm(), b).energy_fj, ea, 0.05 * ea);
  // A histogram with a single pair: nothing toggles, only leakage remains.
  std::vector<double> one_pair(256, 0.0);
  one_pair[37] = 1;
  CostOptions h;
  h.histogram = &one_pair;
  const CircuitCost c = circuit_cost(net, CellLibrary::builtin_45nm(), h);
  EXPECT_EQ(c.dynamic_fj, 0);
  EXPECT_GT(c.leakage_fj, 0);
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

std::string liberty_cell(const std::string& name, int inputs, double area, double leak,
                         double cap) {
  std::string pins;
  for (int i = 0; i < inputs; ++i)
    pins += fmt::format("    pin (A{}) {{ direction : input; capacitance : {}; }}\n", i + 1,
                        cap + i * 0.001);
  return fmt::format(
      "  cell ({}) {{\n    area : {};\n    cell_leakage_power : {};\n{}"
      "    pin (ZN) {{ direction : output; function : \"x\";\n"
      "      internal_power () {{ related_pin : \"A1\";\n"
      "        rise_power (tbl) {{ index_1 (\"0.1, 0.2\"); values (\"1.0, 2.0\", \\\n \"3.0, "
      "4.0\"); }}\n"
      "        fall_power (tbl) {{ values (\"5.0, 6.0\", \"7.0, 8.0\"); }} }} }}\n  }}\n",
      name, area, leak, pins);
}

std::string liberty_library(const std::string& skip = "") {
  std::string text =
      "/* test library */\nlibrary (test) {\n  nom_voltage : 0.9;\n  capacitive_load_unit (1, "
      "pf);\n"
      "  leakage_power_unit : \"1pW\";\n"
      "  lu_table_template (tbl) { variable_1 : input_net_transition; index_1 (\"0.1, 0.2\"); }\n"
      "  input_voltage (default) { vil : 0.0; vomax : VDD + 0.5 ; }\n";
  const std::pair<const char*, int> cells[] = {{"INV_X1", 1},  {"BUF_X2", 1},  {"NAND2_X1", 2},
                                               {"NOR2_X1", 2}, {"AND2_X1", 2}, {"OR2_X1", 2},
                                               {"XOR2_X1", 2}, {"XNOR2_X1", 2}};
  for (auto [name, inputs] : cells)
    if (skip != name) text += liberty_cell(name, inputs, 1.5, 2000, 0.002);
  return text + "}\n";
}

TEST(Liberty, ReadsFiguresWithUnits) {
  const CellLibrary lib = read_liberty(write_temp("ok.lib", liberty_library()));
  EXPECT_DOUBLE_EQ(lib.voltage, 0.9);
  const CellFigures& nand = lib.cell(GateType::kNand);
  EXPECT_EQ(nand.name, "NAND2_X1");
  EXPECT_DOUBLE_EQ(nand.area_um2, 1.5);
  EXPECT_DOUBLE_EQ(nand.leakage_nw, 2.0);  // 2000 pW
  ASSERT_EQ(nand.input_cap_ff.size(), 2u);
  EXPECT_DOUBLE_EQ(nand.input_cap_ff[0], 2.0);  // 0.002 pF
  EXPECT_NEAR(nand.input_cap_ff[1], 3.0, 1e-9);
  EXPECT_DOUBLE_EQ(nand.internal_fj, 4.5);             // mean of 1..8
  EXPECT_EQ(lib.cell(GateType::kBuf).name, "BUF_X2");  // no _X1: first BUF_* cell
  // Usable by the cost model.
  EXPECT_GT(
      circuit_cost(generate_multiplier(Signature{3, 3, true, false}, {Family::kExactDadda}), lib)
          .energy_fj,
      0);
}

TEST(Liberty, ErrorsNameFileAndLine) {
  auto message = [](const std::string& path) {
    try {
      read_liberty(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string unclosed =
      write_temp("unclosed.lib", "library (x) {\n  cell (INV_X1) {\n    area : 1;\n");
  EXPECT_NE(message(unclosed).find("unclosed.lib:2"), std::string::npos) << message(unclosed);
  std::string text = liberty_library();
  const size_t at = text.find("area : 1.5");
  text.replace(at, 10, "area : wide");
  const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
  const std::string bad_number = write_temp("badnum.lib", text);
  EXPECT_NE(message(bad_number).find(fmt::format("badnum.lib:{}: 'wide'", line)), std::string::npos)
      << message(bad_number);
  const std::string missing = write_temp("missing.lib", liberty_library("XOR2_X1"));
  EXPECT_NE(message(missing).find("XOR2"), std::string::npos) << message(missing);
  const std::string junk = write_temp("junk.lib", "library (x) {\n  : oops;\n}\n");
  EXPECT_NE(message(junk).find("junk.lib:2"), std::string::npos) << message(junk);
  EXPECT_THROW(read_liberty(::testing::TempDir() + "does_not_exist.lib"), Error);
}

}  // namespace
}  // namespace fames
