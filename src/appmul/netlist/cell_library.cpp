#include "appmul/netlist/cell_library.h"

namespace fames {

const char* cell_prefix(GateType type) {
  switch (type) {
    case GateType::kBuf:
      return "BUF";
    case GateType::kNot:
      return "INV";
    case GateType::kAnd:
      return "AND2";
    case GateType::kOr:
      return "OR2";
    case GateType::kXor:
      return "XOR2";
    case GateType::kNand:
      return "NAND2";
    case GateType::kNor:
      return "NOR2";
    case GateType::kXnor:
      return "XNOR2";
    default:
      return "";
  }
}

const CellLibrary& CellLibrary::builtin_45nm() {
  // NanGate 45 nm OCL, typical corner, X1 drive (cells45.md): area, leakage, internal energy,
  // input pin capacitances.
  static const CellLibrary lib = [] {
    CellLibrary l;
    l.cell(GateType::kNot) = {"INV_X1", 0.532, 14.35, 1.087, {1.700}};
    l.cell(GateType::kBuf) = {"BUF_X1", 0.798, 21.44, 2.580, {0.975}};
    l.cell(GateType::kNand) = {"NAND2_X1", 0.798, 17.39, 1.476, {1.599, 1.664}};
    l.cell(GateType::kNor) = {"NOR2_X1", 0.798, 21.20, 1.496, {1.714, 1.651}};
    l.cell(GateType::kAnd) = {"AND2_X1", 1.064, 25.07, 2.775, {0.918, 0.975}};
    l.cell(GateType::kOr) = {"OR2_X1", 1.064, 22.69, 2.680, {0.947, 0.942}};
    l.cell(GateType::kXor) = {"XOR2_X1", 1.596, 36.16, 3.038, {2.232, 2.411}};
    l.cell(GateType::kXnor) = {"XNOR2_X1", 1.596, 36.44, 2.978, {2.233, 2.574}};
    return l;
  }();
  return lib;
}

}  // namespace fames
