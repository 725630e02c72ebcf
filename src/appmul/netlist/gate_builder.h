// GateBuilder: arithmetic building blocks (adders, partial-product reduction, shifters) composed
// of the 2-input gates of a Netlist. Used by the multiplier generators; every block adds gates to
// the netlist it was given (not owned) and returns node ids. Constants are ordinary nodes, so a
// generator may feed constants anywhere and rely on Netlist::strash() to fold them afterwards.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "appmul/netlist/netlist.h"

namespace fames {

using Bits = std::vector<int32_t>;  // node ids, LSB first

// Bits grouped by column weight 2^c; column c may hold any number of bits (or none).
struct BitColumns {
  std::vector<Bits> columns;
  explicit BitColumns(int width = 0) : columns(static_cast<size_t>(width)) {}
  int width() const { return static_cast<int>(columns.size()); }
  void add(int column, int32_t bit) {
    if (column < width())
      columns[column].push_back(bit);  // bits past the width are dropped (mod 2^n)
  }
};

// Approximations a ripple row addition may apply to its low columns (see add_rows).
struct RowAddApprox {
  int or_columns = 0;   // lower-part-OR: columns < or_columns add by OR, carry into the next = AND
  int afa_columns = 0;  // approximate full adder (see approx_full_adder) in columns < afa_columns
};

class GateBuilder {
 public:
  explicit GateBuilder(Netlist& net) : net_(net) {}
  Netlist& net() { return net_; }

  int32_t zero() { return net_.const0(); }
  int32_t one() { return net_.const1(); }
  int32_t not_(int32_t a) { return net_.add_gate(GateType::kNot, a); }
  int32_t and_(int32_t a, int32_t b) { return net_.add_gate(GateType::kAnd, a, b); }
  int32_t or_(int32_t a, int32_t b) { return net_.add_gate(GateType::kOr, a, b); }
  int32_t xor_(int32_t a, int32_t b) { return net_.add_gate(GateType::kXor, a, b); }
  int32_t nand_(int32_t a, int32_t b) { return net_.add_gate(GateType::kNand, a, b); }
  int32_t mux(int32_t sel, int32_t if0, int32_t if1);  // sel ? if1 : if0
  int32_t or_all(const Bits& bits);                    // 0 when empty

  // {sum, carry} of two or three bits.
  std::pair<int32_t, int32_t> half_adder(int32_t a, int32_t b);
  std::pair<int32_t, int32_t> full_adder(int32_t a, int32_t b, int32_t c);
  // Approximate full adder, 3 gates instead of 5: sum = (a ^ b) | c, carry = a & b. Wrong (value 1
  // instead of 2) only when c and exactly one of a, b are set; the carry chain through c is cut.
  std::pair<int32_t, int32_t> approx_full_adder(int32_t a, int32_t b, int32_t c);

  // Dadda reduction of the columns to two rows, then a ripple-carry adder. Returns width() bits.
  Bits dadda_sum(BitColumns cols);
  // Sum of rows added one after another by ripple-carry adders (an array multiplier's
  // accumulation). rows[r] holds at most one bit per column (-1 = absent). `approx` alters the low
  // columns of every row addition. Returns `width` bits.
  Bits array_sum(const std::vector<Bits>& rows, int width, RowAddApprox approx = {});
  // Unsigned product of two bit vectors (Dadda), `width` bits.
  Bits multiply_unsigned(const Bits& x, const Bits& y, int width);

  // Two's-complement conditional negation: negate ? -x : x, modulo 2^x.size().
  Bits conditional_negate(const Bits& x, int32_t negate);
  // One-hot left shift: result = x << s where sel[s] is the only set select (all zero: result 0).
  Bits onehot_shift_left(const Bits& x, const Bits& sel, int width);
  // one_hot[p] = x[p] and no higher bit of x is set (the leading one).
  Bits leading_one(const Bits& x);

 private:
  Netlist& net_;
};

}  // namespace fames
