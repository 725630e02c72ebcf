#include "appmul/netlist/gate_builder.h"

#include <algorithm>
#include <tuple>

namespace fames {

int32_t GateBuilder::mux(int32_t sel, int32_t if0, int32_t if1) {
  return or_(and_(sel, if1), and_(not_(sel), if0));
}

int32_t GateBuilder::or_all(const Bits& bits) {
  if (bits.empty()) return zero();
  int32_t acc = bits[0];
  for (size_t i = 1; i < bits.size(); ++i) acc = or_(acc, bits[i]);
  return acc;
}

std::pair<int32_t, int32_t> GateBuilder::half_adder(int32_t a, int32_t b) {
  return {xor_(a, b), and_(a, b)};
}

std::pair<int32_t, int32_t> GateBuilder::full_adder(int32_t a, int32_t b, int32_t c) {
  const int32_t ab = xor_(a, b);
  return {xor_(ab, c), or_(and_(a, b), and_(ab, c))};
}

std::pair<int32_t, int32_t> GateBuilder::approx_full_adder(int32_t a, int32_t b, int32_t c) {
  return {or_(xor_(a, b), c), and_(a, b)};
}

Bits GateBuilder::dadda_sum(BitColumns cols) {
  const int width = cols.width();
  auto max_height = [&] {
    size_t h = 0;
    for (const Bits& c : cols.columns) h = std::max(h, c.size());
    return h;
  };
  // Dadda's stage heights 2, 3, 4, 6, 9, 13, ...: each stage reduces every column to the largest
  // height below the current maximum, using as few adders as possible.
  while (max_height() > 2) {
    size_t target = 2;
    while (target * 3 / 2 < max_height()) target = target * 3 / 2;
    std::vector<Bits> next(static_cast<size_t>(width));
    for (int c = 0; c < width; ++c) {
      Bits& bits = cols.columns[c];
      // Carries produced in this stage from column c-1 already sit in next[c]; they count in the
      // height.
      size_t i = 0;
      while ((bits.size() - i) + next[c].size() > target && bits.size() - i >= 2) {
        const size_t excess = (bits.size() - i) + next[c].size() - target;
        std::pair<int32_t, int32_t> sc;
        if (excess == 1 || bits.size() - i < 3) {
          sc = half_adder(bits[i], bits[i + 1]);
          i += 2;
        } else {
          sc = full_adder(bits[i], bits[i + 1], bits[i + 2]);
          i += 3;
        }
        next[c].push_back(sc.first);
        if (c + 1 < width) next[c + 1].push_back(sc.second);
      }
      for (; i < bits.size(); ++i) next[c].push_back(bits[i]);
    }
    cols.columns = std::move(next);
  }
  // At most two bits per column: ripple-carry addition.
  std::vector<Bits> rows(2, Bits(static_cast<size_t>(width), -1));
  for (int c = 0; c < width; ++c)
    for (size_t r = 0; r < cols.columns[c].size(); ++r) rows[r][c] = cols.columns[c][r];
  return array_sum(rows, width);
}

Bits GateBuilder::array_sum(const std::vector<Bits>& rows, int width, RowAddApprox approx) {
  Bits acc(static_cast<size_t>(width), -1);
  for (const Bits& row : rows) {
    int32_t carry = -1;
    for (int c = 0; c < width; ++c) {
      const int32_t x = acc[c];
      const int32_t y = c < static_cast<int>(row.size()) ? row[c] : -1;
      if (c < approx.or_columns) {
        // Lower-part OR: no carries inside the low part; the top low column's AND carries out.
        if (x >= 0 && y >= 0) {
          acc[c] = or_(x, y);
          if (c == approx.or_columns - 1) carry = and_(x, y);
        } else {
          acc[c] = x >= 0 ? x : y;
        }
        continue;
      }
      Bits present;
      for (int32_t b : {x, y, carry})
        if (b >= 0) present.push_back(b);
      carry = -1;
      if (present.size() <= 1) {
        acc[c] = present.empty() ? -1 : present[0];
      } else if (present.size() == 2) {
        std::tie(acc[c], carry) = half_adder(present[0], present[1]);
      } else if (c < approx.afa_columns) {
        std::tie(acc[c], carry) = approx_full_adder(present[0], present[1], present[2]);
      } else {
        std::tie(acc[c], carry) = full_adder(present[0], present[1], present[2]);
      }
    }
  }
  for (int32_t& b : acc)
    if (b < 0) b = zero();
  return acc;
}

Bits GateBuilder::multiply_unsigned(const Bits& x, const Bits& y, int width) {
  BitColumns cols(width);
  for (size_t i = 0; i < x.size(); ++i)
    for (size_t j = 0; j < y.size(); ++j) cols.add(static_cast<int>(i + j), and_(x[i], y[j]));
  return dadda_sum(std::move(cols));
}

Bits GateBuilder::conditional_negate(const Bits& x, int32_t negate) {
  Bits out;
  int32_t carry = negate;
  for (int32_t bit : x) {
    auto [s, c] = half_adder(xor_(bit, negate), carry);
    out.push_back(s);
    carry = c;
  }
  return out;
}

Bits GateBuilder::onehot_shift_left(const Bits& x, const Bits& sel, int width) {
  Bits out;
  for (int o = 0; o < width; ++o) {
    Bits terms;
    for (int s = 0; s < static_cast<int>(sel.size()); ++s) {
      const int i = o - s;
      if (i >= 0 && i < static_cast<int>(x.size())) terms.push_back(and_(sel[s], x[i]));
    }
    out.push_back(or_all(terms));
  }
  return out;
}

Bits GateBuilder::leading_one(const Bits& x) {
  const int m = static_cast<int>(x.size());
  Bits one_hot(static_cast<size_t>(m));
  int32_t any_above = -1;  // OR of bits above position p
  for (int p = m - 1; p >= 0; --p) {
    one_hot[p] = any_above < 0 ? x[p] : and_(x[p], not_(any_above));
    any_above = any_above < 0 ? x[p] : or_(any_above, x[p]);
  }
  return one_hot;
}

}  // namespace fames
