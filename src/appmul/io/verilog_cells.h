// Internal to the Verilog reader: the built-in standard-cell library. A cell is recognised from its
// name by stripping library prefixes and drive-strength suffixes (AND2X1, NAND2_X1, ND2D1,
// sky130_fd_sc_hd__nor2_1, NAND2xp33_ASAP7_75t_R -> AND2/NAND2/...); its pins are recognised by the
// usual names (outputs Y Z ZN X O OUT Q QN; adders S/SUM/YS and CO/COUT/YC). Logic is built from
// 2-input gates through a GateSink so this file knows nothing of the elaborator's node store.
#pragma once
#include <string>
#include <vector>

#include "appmul/netlist/netlist.h"

namespace fames::verilog {

struct CellFunction {
  enum class Kind {
    kAnd,
    kOr,
    kXor,
    kNand,
    kNor,
    kXnor,
    kInv,
    kBuf,
    kAoi,
    kOai,
    kAo,
    kOa,
    kMux2,
    kHalfAdder,
    kFullAdder,
    kTie0,
    kTie1
  };
  Kind kind = Kind::kAnd;
  // Number of inputs; 0 = as many as connected (a name without a digit, e.g. "AND").
  int inputs = 0;
  // kAoi/kOai/kAo/kOa: sizes of the AND (OR) groups in name order, AOI211 -> {2, 1, 1}.
  std::vector<int> groups;
  int outputs() const;  // 2 for adders (carry, sum), else 1
};

// Recognises a cell name; false if it is not a known combinational cell.
bool lookup_cell(const std::string& cell_name, CellFunction* function);

// Receives the gates a cell expands to; returns node ids.
class GateSink {
 public:
  virtual ~GateSink() = default;
  virtual int32_t gate(GateType type, int32_t in0, int32_t in1 = -1) = 0;
  virtual int32_t constant(bool value) = 0;
};

// Builds the cell's outputs from its inputs, both in canonical order: inputs as the name's groups
// read (AOI21: the two AND inputs, then the OR input; MUX2: data0, data1, select; adders: a, b[,
// c]), outputs carry then sum for adders. REQUIRES: inputs.size() matches the function.
std::vector<int32_t> build_cell(const CellFunction& function, const std::vector<int32_t>& inputs,
                                GateSink& sink);

// Orders named pins: on success fills `inputs` and `outputs` with indexes into `pins` in canonical
// order and returns ""; otherwise returns why the pins do not fit the cell.
std::string order_named_pins(const CellFunction& function, const std::vector<std::string>& pins,
                             std::vector<int>* inputs, std::vector<int>* outputs);

// Builds a Verilog gate primitive (and, nand, or, nor, xor, xnor) over n >= 1 inputs.
int32_t build_primitive(GateType two_input_type, const std::vector<int32_t>& inputs,
                        GateSink& sink);

}  // namespace fames::verilog
