// The product-table file (<name>.tbl in a library folder; docs/formats.md, "AppMul library
// folder").
//
// A 24-byte header, then the ProductTable data exactly as in product_table.h: 2^(bw+ba) int32
// values, little-endian, row-major (row = raw weight pattern, column = raw activation pattern).
// File size is exactly 24 + 4 * 2^(bw+ba) bytes; anything else is rejected as truncated or padded.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/product_table.h"

namespace fames {

struct TableFileHeader {
  char magic[8];      // "FAMESTBL"
  uint32_t version;   // kTableFileVersion
  uint8_t bw;         // weight bits, 1..8
  uint8_t ba;         // activation bits, 1..8
  uint8_t signed_w;   // 1 = weights are two's complement, else 0
  uint8_t signed_a;   // 1 = activations are two's complement, else 0
  uint32_t entries;   // 2^(bw+ba): number of int32 values that follow
  uint32_t reserved;  // 0
};
static_assert(sizeof(TableFileHeader) == 24, "the table file header is 24 bytes on disk");

constexpr char kTableFileMagic[8] = {'F', 'A', 'M', 'E', 'S', 'T', 'B', 'L'};
constexpr uint32_t kTableFileVersion = 1;

// The range of a (ba+bw)-bit product output, signed when either operand is: every value of a
// product table read from a file must lie in [product_min(sig), product_max(sig)].
inline int64_t product_min(const Signature& sig) {
  return sig.signed_w || sig.signed_a ? -(int64_t{1} << (sig.bw + sig.ba - 1)) : 0;
}
inline int64_t product_max(const Signature& sig) {
  return (sig.signed_w || sig.signed_a ? int64_t{1} << (sig.bw + sig.ba - 1)
                                       : int64_t{1} << (sig.bw + sig.ba)) - 1;
}

// Atomic write. Throws fames::Error if the file cannot be written.
void write_table_file(const ProductTable& table, const std::string& path);
// Throws fames::Error naming the file on a bad magic/version/signature, a size that does not
// match the header (e.g. a truncated file), or a value outside the signature's product range
// (product_min/max below).
ProductTable read_table_file(const std::string& path);
// The same for a file's bytes; `path` is used in error messages only.
ProductTable parse_table_file(const std::vector<unsigned char>& bytes, const std::string& path);

}  // namespace fames
