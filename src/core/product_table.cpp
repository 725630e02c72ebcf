#include "core/product_table.h"

#include <cassert>

#include "util/error.h"

namespace fames {

ProductTable::ProductTable(Signature sig) : sig_(sig), data_(static_cast<size_t>(sig.table_size()), 0) {
  assert(sig.valid());
}

ProductTable::ProductTable(Signature sig, std::vector<int32_t> raw_row_major)
    : sig_(sig), data_(std::move(raw_row_major)) {
  if (static_cast<int64_t>(data_.size()) != sig.table_size())
    fail("product table for {} needs {} entries, got {}", sig.key(), sig.table_size(), data_.size());
}

ProductTable ProductTable::exact(Signature sig) {
  ProductTable t(sig);
  for (uint32_t w = 0; w < sig.weight_levels(); ++w)
    for (uint32_t a = 0; a < sig.act_levels(); ++a) t.raw(w, a) = sig.w_value(w) * sig.a_value(a);
  return t;
}

std::vector<int32_t> ProductTable::errors() const {
  std::vector<int32_t> e(data_.size());
  for (uint32_t w = 0; w < sig_.weight_levels(); ++w)
    for (uint32_t a = 0; a < sig_.act_levels(); ++a)
      e[(w << sig_.ba) | a] = raw(w, a) - sig_.w_value(w) * sig_.a_value(a);
  return e;
}

bool ProductTable::is_exact() const {
  for (int32_t v : errors())
    if (v != 0) return false;
  return true;
}

}  // namespace fames
