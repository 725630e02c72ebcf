// Liberty (.lib) text to a CellLibrary: the reader behind read_liberty() (cell_library.h), for
// text already in memory.
//
// Groups nest at most 64 deep; every figure must be a finite number, and areas, capacitances,
// leakage, units and nom_voltage must be >= 0. Throws fames::Error naming `path` (used in messages
// only) and the line on malformed input, or naming a missing cell.
#pragma once
#include <string>

#include "appmul/netlist/cell_library.h"

namespace fames {

CellLibrary parse_liberty(const std::string& text, const std::string& path);

}  // namespace fames
