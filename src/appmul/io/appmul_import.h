// One entry point for multipliers made elsewhere: reads a file in the format its extension names
// and returns its circuit (when the format has one) and its product table.
//   .v         structural Verilog (verilog.h), simulated to a table; a behavioural one (arithmetic
//              operators) is first synthesized to gates with yosys (rtl_synthesis.h)
//   .blif      BLIF (blif.h), simulated to a table
//   .npy       NumPy table (table_import.h), no circuit
//   .bin .tbl .u16 .i16   raw 16-bit table (table_import.h), no circuit
// Throws fames::Error naming the file for an unknown extension or any problem in the file.
#pragma once
#include <optional>
#include <string>

#include "appmul/netlist/netlist.h"
#include "core/product_table.h"
#include "appmul/io/table_import.h"
#include "appmul/io/verilog.h"

namespace fames {

struct MultiplierImportOptions {
  bool signed_w = false;  // weight operand is two's complement (all formats)
  bool signed_a = false;  // activation operand is two's complement (all formats)
  int bw = 0, ba = 0;     // tables: operand widths, 0 = infer; circuits: checked when given
  TableLayout layout = TableLayout::kWeightRows;  // tables only
  std::string a_port, b_port, out_port, top;      // Verilog only (verilog.h)
};

struct ImportedMultiplier {
  std::string name;                // the file name without directory and extension
  std::string format;              // "verilog", "blif", "npy" or "raw"
  std::string synthesis;           // the yosys script a behavioural .v went through, else empty
  std::optional<Netlist> netlist;  // empty for tables
  ProductTable table;
};

// True if the extension is one import_multiplier() reads.
bool is_importable_file(const std::string& path);
ImportedMultiplier import_multiplier(const std::string& path,
                                     const MultiplierImportOptions& options);

}  // namespace fames
