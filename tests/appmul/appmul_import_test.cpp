// import_multiplier: the format follows the extension, circuits come back with their netlist and
// simulated table, tables without one; widths given with --bits are checked against circuits.
#include "appmul/io/appmul_import.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "appmul/io/blif.h"
#include "appmul/synth/generators.h"
#include "appmul/netlist/simulate.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

std::string temp_dir() {
  const std::string dir = testing::TempDir() + "/fames_appmul_import_test";
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(ImportMultiplier, EachFormatByExtension) {
  const Signature sig{4, 3, true, false};
  const Netlist circuit = generate_multiplier(sig, GeneratorSpec{Family::kTrunc, 2, 0});
  const ProductTable table = simulate_table(circuit);
  const std::string dir = temp_dir();
  write_verilog_file(circuit, dir + "/circ.v");
  write_blif_file(circuit, dir + "/circ2.blif");
  write_npy_table(table, dir + "/tab.npy");
  std::string raw;  // int16 little-endian, row = weight
  for (int32_t v : table.data()) {
    raw += static_cast<char>(v & 0xff);
    raw += static_cast<char>((v >> 8) & 0xff);
  }
  write_file_atomic(dir + "/tab2.I16", raw);

  MultiplierImportOptions o;
  o.signed_w = true;
  const ImportedMultiplier v = import_multiplier(dir + "/circ.v", o);
  EXPECT_EQ(v.name, "circ");
  EXPECT_EQ(v.format, "verilog");
  ASSERT_TRUE(v.netlist.has_value());
  EXPECT_EQ(v.netlist->gate_count(), circuit.gate_count());
  EXPECT_EQ(v.table, table);

  const ImportedMultiplier b = import_multiplier(dir + "/circ2.blif", o);
  EXPECT_EQ(b.format, "blif");
  ASSERT_TRUE(b.netlist.has_value());
  EXPECT_EQ(b.table, table);

  const ImportedMultiplier n = import_multiplier(dir + "/tab.npy", o);
  EXPECT_EQ(n.format, "npy");
  EXPECT_FALSE(n.netlist.has_value());
  EXPECT_EQ(n.table, table);

  o.bw = 4;
  o.ba = 3;
  const ImportedMultiplier r = import_multiplier(dir + "/tab2.I16", o);
  EXPECT_EQ(r.name, "tab2");
  EXPECT_EQ(r.format, "raw");
  EXPECT_EQ(r.table, table);
}

TEST(ImportMultiplier, BitsMustMatchACircuitAndExtensionsMustBeKnown) {
  const Netlist circuit =
      generate_multiplier(Signature{3, 3, false, false}, GeneratorSpec{Family::kExactArray, 0, 0});
  const std::string path = temp_dir() + "/m33.v";
  write_verilog_file(circuit, path);
  MultiplierImportOptions o;
  o.bw = 4;
  o.ba = 3;
  try {
    import_multiplier(path, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--bits says 4x3"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(is_importable_file("x.vhd"));
  EXPECT_TRUE(is_importable_file("x.TBL"));
  EXPECT_THROW(import_multiplier(temp_dir() + "/missing.vhd", {}), Error);
}

}  // namespace
}  // namespace fames
