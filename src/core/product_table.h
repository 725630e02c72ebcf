// ProductTable: the 2^bw x 2^ba integer table a multiplier computes. Everything numeric about an
// AppMul (emulation, error metrics, estimation) reads this and nothing else.
//
// Layout (also the on-disk format, docs/formats.md): int32, row-major, row = raw weight pattern
// (0 .. 2^bw-1), column = raw activation pattern (0 .. 2^ba-1):
//     value(w, a) = data[w_raw * 2^ba + a_raw]
// Values are the product as the circuit's output interprets it (a signed integer for signed
// signatures). Exact: value(w, a) == w * a.
#pragma once
#include <cstdint>
#include <vector>

#include "core/signature.h"

namespace fames {

class ProductTable {
 public:
  ProductTable() = default;
  // A table of all zeros for `sig`. REQUIRES: sig.valid().
  explicit ProductTable(Signature sig);
  ProductTable(Signature sig, std::vector<int32_t> raw_row_major);  // REQUIRES: size == sig.table_size()

  static ProductTable exact(Signature sig);

  const Signature& signature() const { return sig_; }
  // By raw bit patterns (fast path for kernels).
  int32_t raw(uint32_t w_raw, uint32_t a_raw) const { return data_[(w_raw << sig_.ba) | a_raw]; }
  int32_t& raw(uint32_t w_raw, uint32_t a_raw) { return data_[(w_raw << sig_.ba) | a_raw]; }
  // By code values (w in [w_min, w_max], a in [a_min, a_max]).
  int32_t at(int w, int a) const { return raw(sig_.w_raw(w), sig_.a_raw(a)); }
  int32_t& at(int w, int a) { return raw(sig_.w_raw(w), sig_.a_raw(a)); }

  const std::vector<int32_t>& data() const { return data_; }
  std::vector<int32_t>& data() { return data_; }

  // Error matrix E = T - T*, same layout.
  std::vector<int32_t> errors() const;
  bool is_exact() const;

  bool operator==(const ProductTable& o) const { return sig_ == o.sig_ && data_ == o.data_; }

 private:
  Signature sig_;
  std::vector<int32_t> data_;
};

}  // namespace fames
