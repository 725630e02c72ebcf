// Hardware cost of a multiplier netlist under a CellLibrary (cell_library.h).
//
//   area_um2   sum of the cell areas of all logic gates (inputs and constants are free)
//   depth      logic levels on the longest input-to-output path (Netlist::depth)
//   energy_fj  energy per multiplication, fJ:
//              dynamic = sum over nodes of toggles x (internal energy of its cell
//                        + 0.5 x C_load x V^2) / operations
//              leakage = sum of cell leakage (nW) x cycle time (ns) x 1e-3
//              C_load of a node = input capacitances of the pins it drives, plus output_load_ff per
//              product output it drives. Toggles come from a zero-delay (glitch-free) simulation
//              of a stream of operand pairs; operand input nets count their load charging too.
//              operations = pairs - 1 (the first pair has no predecessor).
// The stream is `pairs` uniform random raw operand pairs from a seeded mt19937_64, or pairs sampled
// from an operand histogram (ProductTable layout, weights >= 0). Same options, same numbers.
#pragma once
#include <cstdint>
#include <vector>

#include "appmul/netlist/cell_library.h"
#include "appmul/netlist/netlist.h"

namespace fames {

struct CostOptions {
  int pairs = 4096;  // operand pairs simulated (>= 2)
  uint64_t seed = 1;
  double cycle_ns = 1.0;        // leakage integrates over one clock cycle of 1 ns (1 GHz)
  double output_load_ff = 1.0;  // load each product output drives outside the multiplier
  const std::vector<double>* histogram = nullptr;  // optional pair weights; not owned
};

struct CircuitCost {
  double area_um2 = 0;
  double energy_fj = 0;  // dynamic_fj + leakage_fj
  double dynamic_fj = 0;
  double leakage_fj = 0;
  int depth = 0;
  int64_t gates = 0;
};

// Throws fames::Error if the netlist has a gate type the library lacks, a cycle, or bad options.
CircuitCost circuit_cost(const Netlist& net, const CellLibrary& lib = CellLibrary::builtin_45nm(),
                         const CostOptions& options = {});

// The operand stream circuit_cost simulates: raw weight and activation patterns.
void operand_stream(const Signature& sig, const CostOptions& options, std::vector<uint32_t>& w_raw,
                    std::vector<uint32_t>& a_raw);

}  // namespace fames
