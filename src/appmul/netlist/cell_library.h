// CellLibrary: the standard-cell figures the cost model needs, one cell per logic GateType.
// Units: area um^2, leakage nW, input capacitance fF, internal energy fJ per output transition,
// voltage V. The built-in table holds the NanGate 45 nm Open Cell Library X1 figures at the typical
// corner (1.1 V), as listed in /work/shared/design/cells45.md. read_liberty() builds one from a
// Liberty file instead.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "appmul/netlist/netlist.h"

namespace fames {

struct CellFigures {
  std::string name;  // e.g. "NAND2_X1"; empty for inputs and constants (no cell)
  double area_um2 = 0;
  double leakage_nw = 0;
  double internal_fj = 0;  // internal energy per output transition (load charging excluded)
  std::vector<double> input_cap_ff;  // per input pin, in fanin order (in0, in1)
};

struct CellLibrary {
  std::string source = "builtin:nangate45";  // or the Liberty file path
  double voltage = 1.1;
  std::array<CellFigures, 11> cells;  // indexed by GateType; kConst0/kConst1/kInput have no cell

  const CellFigures& cell(GateType type) const { return cells[static_cast<size_t>(type)]; }
  CellFigures& cell(GateType type) { return cells[static_cast<size_t>(type)]; }

  static const CellLibrary& builtin_45nm();
};

// Cell name prefixes a GateType maps to ("NAND2" -> NAND2_X1 preferred, else the first NAND2_*).
const char* cell_prefix(GateType type);

// Reads cell area, input pin capacitance, cell_leakage_power and the mean of the internal_power
// table values (rise and fall, all output-pin arcs) of INV, BUF, NAND2, NOR2, AND2, OR2, XOR2,
// XNOR2. Honours capacitive_load_unit (pf/ff) and leakage_power_unit (pW/nW/uW/mW); internal power
// values are taken as energies in fJ (the unit of 1 V x 1 fF), and nom_voltage gives the voltage.
// Throws fames::Error naming the file and line on malformed input, or naming a missing cell.
CellLibrary read_liberty(const std::string& path);

}  // namespace fames
