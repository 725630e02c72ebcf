#include "appmul/io/table_file.h"

#include <cstring>
#include <ostream>

#include "util/error.h"
#include "util/files.h"

namespace fames {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "table files are written in host order, little-endian");

void write_table_file(const ProductTable& table, const std::string& path) {
  const Signature& sig = table.signature();
  TableFileHeader h{};
  std::memcpy(h.magic, kTableFileMagic, sizeof h.magic);
  h.version = kTableFileVersion;
  h.bw = static_cast<uint8_t>(sig.bw);
  h.ba = static_cast<uint8_t>(sig.ba);
  h.signed_w = sig.signed_w;
  h.signed_a = sig.signed_a;
  h.entries = static_cast<uint32_t>(sig.table_size());
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(&h), sizeof h);
    out.write(reinterpret_cast<const char*>(table.data().data()),
              static_cast<std::streamsize>(table.data().size() * sizeof(int32_t)));
  });
}

ProductTable read_table_file(const std::string& path) {
  return parse_table_file(read_file_bytes(path), path);
}

ProductTable parse_table_file(const std::vector<unsigned char>& bytes, const std::string& path) {
  TableFileHeader h{};
  if (bytes.size() < sizeof h)
    fail("product table {} is truncated: {} bytes, the header alone is {}", path, bytes.size(),
         sizeof h);
  std::memcpy(&h, bytes.data(), sizeof h);
  if (std::memcmp(h.magic, kTableFileMagic, sizeof h.magic) != 0)
    fail("{} is not a fames product table (bad magic)", path);
  if (h.version != kTableFileVersion)
    fail("product table {} has version {}, this build reads {}", path, h.version,
         kTableFileVersion);
  const Signature sig{h.bw, h.ba, h.signed_w != 0, h.signed_a != 0};
  if (!sig.valid() || h.signed_w > 1 || h.signed_a > 1)
    fail("product table {} has an invalid signature", path);
  if (h.entries != sig.table_size())
    fail("product table {} declares {} entries, {} needs {}", path, h.entries, sig.key(),
         sig.table_size());
  const size_t expected = sizeof h + sizeof(int32_t) * h.entries;
  if (bytes.size() != expected)
    fail("product table {} is {} bytes, expected {} ({})", path, bytes.size(), expected,
         bytes.size() < expected ? "truncated" : "trailing data");
  std::vector<int32_t> data(h.entries);
  std::memcpy(data.data(), bytes.data() + sizeof h, sizeof(int32_t) * h.entries);
  // A value the circuit's (ba+bw)-bit output cannot produce means a corrupt or foreign file.
  for (size_t i = 0; i < data.size(); ++i)
    if (data[i] < product_min(sig) || data[i] > product_max(sig))
      fail("product table {}: value {} at entry {} is outside the {} product range [{}, {}]", path,
           data[i], i, sig.key(), product_min(sig), product_max(sig));
  return ProductTable(sig, std::move(data));
}

}  // namespace fames
