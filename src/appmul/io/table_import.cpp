#include "appmul/io/table_import.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "appmul/io/table_file.h"
#include "util/error.h"
#include "util/files.h"
#include "util/npy.h"

namespace fames {
namespace {

int log2_exact(int64_t n) {
  for (int bits = 1; bits <= 8; ++bits)
    if (n == (int64_t{1} << bits)) return bits;
  return -1;
}

// Row/column counts of the table as stored (rows first), given the layout.
Signature signature_for(int rows_bits, int cols_bits, const TableImportOptions& o) {
  Signature sig;
  sig.signed_w = o.signed_w;
  sig.signed_a = o.signed_a;
  sig.bw = o.layout == TableLayout::kWeightRows ? rows_bits : cols_bits;
  sig.ba = o.layout == TableLayout::kWeightRows ? cols_bits : rows_bits;
  return sig;
}

// Moves stored values (rows x cols, row-major) into a ProductTable, transposing for "aw", and
// checks the values fit a (ba+bw)-bit product.
ProductTable make_table(const std::vector<int64_t>& stored, const Signature& sig,
                        const std::string& name, const TableImportOptions& o) {
  ProductTable table(sig);
  const int out_bits = sig.ba + sig.bw;
  const bool is_signed = sig.signed_w || sig.signed_a;
  const int64_t lo = product_min(sig), hi = product_max(sig);
  for (uint32_t w = 0; w < sig.weight_levels(); ++w)
    for (uint32_t a = 0; a < sig.act_levels(); ++a) {
      const size_t index = o.layout == TableLayout::kWeightRows ? (size_t{w} << sig.ba) | a
                                                                : (size_t{a} << sig.bw) | w;
      const int64_t v = stored[index];
      if (v < lo || v > hi)
        fail(
            "{}: value {} at weight pattern {}, activation pattern {} is outside the range of a "
            "{}-bit {} "
            "product [{}, {}]; check --bits, --signed-w/--signed-a and --layout",
            name, v, w, a, out_bits, is_signed ? "signed" : "unsigned", lo, hi);
      table.raw(w, a) = static_cast<int32_t>(v);
    }
  return table;
}

// --- .npy elements ---------------------------------------------------------------------------

// Decodes element `i` of the array into an integer, checking floats hold integers.
class NpyElements {
 public:
  NpyElements(const std::string& descr, const unsigned char* data, const std::string& name)
      : data_(data), name_(name) {
    if (descr.size() < 3) fail("{}: unsupported .npy dtype '{}'", name, descr);
    const char order = descr[0];
    kind_ = descr[1];
    size_ = std::atoi(descr.c_str() + 2);
    const bool known = (kind_ == 'i' || kind_ == 'u')
                           ? (size_ == 1 || size_ == 2 || size_ == 4 || size_ == 8)
                       : kind_ == 'f' ? (size_ == 4 || size_ == 8)
                                      : false;
    if (!known || descr.size() != 3)
      fail("{}: unsupported .npy dtype '{}' (supported: integers i1..i8, u1..u8, floats f4, f8)",
           name, descr);
    if (order == '>' && size_ > 1)
      fail("{}: big-endian .npy data ('{}') is not supported", name, descr);
    if (order != '<' && order != '|' && order != '=' && order != '>')
      fail("{}: unsupported .npy byte order in '{}'", name, descr);
  }
  int item_size() const { return size_; }

  int64_t at(int64_t i) const {
    const unsigned char* p = data_ + i * size_;
    const uint64_t raw = load_le(p, size_);
    if (kind_ == 'u') {
      if (raw > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) out_of_range(i);
      return static_cast<int64_t>(raw);
    }
    if (kind_ == 'i') {
      const int shift = 64 - 8 * size_;
      return static_cast<int64_t>(raw << shift) >> shift;  // sign-extend
    }
    double v;
    if (size_ == 8) {
      std::memcpy(&v, &raw, 8);
    } else {
      const auto bits = static_cast<uint32_t>(raw);
      float f;
      std::memcpy(&f, &bits, 4);
      v = f;
    }
    if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9.0e15)
      fail("{}: element {} is {}, not an integer product", name_, i, v);
    return static_cast<int64_t>(v);
  }

 private:
  [[noreturn]] void out_of_range(int64_t i) const { fail("{}: element {} is too large", name_, i); }
  const unsigned char* data_;
  const std::string& name_;
  char kind_ = 'i';
  int size_ = 0;
};

void check_widths(const Signature& sig, const TableImportOptions& o, const std::string& name) {
  if (o.bw == 0 && o.ba == 0) return;
  if (sig.bw != o.bw || sig.ba != o.ba)
    fail("{}: the table is for {}x{} (weight x activation) operands but --bits says {}x{}", name,
         sig.bw, sig.ba, o.bw, o.ba);
}

}  // namespace

std::string lowercase_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

TableLayout parse_table_layout(const std::string& text) {
  if (text == "wa") return TableLayout::kWeightRows;
  if (text == "aw") return TableLayout::kActivationRows;
  fail("--layout must be 'wa' (rows are weights) or 'aw' (rows are activations), not '{}'", text);
}

bool is_table_file(const std::string& path) {
  const std::string ext = lowercase_extension(path);
  return ext == ".npy" || ext == ".bin" || ext == ".tbl" || ext == ".u16" || ext == ".i16";
}

ProductTable import_table_file(const std::string& path, const TableImportOptions& options) {
  const std::string ext = lowercase_extension(path);
  if (ext == ".npy") return parse_npy_table(read_file_bytes(path), path, options);
  if (!is_table_file(path))
    fail("{}: not a table file (expected .npy, .bin, .tbl, .u16 or .i16)", path);
  const std::vector<unsigned char> bytes = read_file_bytes(path);
  if (bytes.size() >= sizeof(kTableFileMagic) &&
      std::memcmp(bytes.data(), kTableFileMagic, sizeof(kTableFileMagic)) == 0) {
    // fames' own table file (a library's <name>.tbl): its header carries the signature.
    ProductTable table = read_table_file(path);
    check_widths(table.signature(), options, path);
    return table;
  }
  const bool int16 = ext == ".i16" || (ext != ".u16" && (options.signed_w || options.signed_a));
  return parse_raw_table(bytes, int16, path, options);
}

ProductTable parse_raw_table(const std::vector<unsigned char>& bytes, bool int16,
                             const std::string& name, const TableImportOptions& o) {
  if (bytes.size() % 2)
    fail("{}: {} bytes is not a whole number of 16-bit entries", name, bytes.size());
  const int64_t entries = static_cast<int64_t>(bytes.size() / 2);
  int rows_bits = 8, cols_bits = 8;
  if (o.bw || o.ba) {
    if (o.bw < 1 || o.bw > 8 || o.ba < 1 || o.ba > 8)
      fail("{}: --bits {}x{} is outside 1..8 x 1..8", name, o.bw, o.ba);
    rows_bits = o.layout == TableLayout::kWeightRows ? o.bw : o.ba;
    cols_bits = o.layout == TableLayout::kWeightRows ? o.ba : o.bw;
  }
  const int64_t expected = int64_t{1} << (rows_bits + cols_bits);
  if (entries != expected) {
    if (o.bw || o.ba)
      fail("{}: {} entries, but a {}x{} table has {}", name, entries, o.bw, o.ba, expected);
    fail(
        "{}: {} entries; without --bits a raw table must be 256 x 256 (65536 entries); pass --bits "
        "WxA",
        name, entries);
  }
  std::vector<int64_t> stored(static_cast<size_t>(entries));
  for (int64_t i = 0; i < entries; ++i) {
    const auto v = static_cast<uint16_t>(load_le(bytes.data() + 2 * i, 2));
    stored[i] = int16 ? static_cast<int16_t>(v) : v;
  }
  return make_table(stored, signature_for(rows_bits, cols_bits, o), name, o);
}

ProductTable parse_npy_table(const std::vector<unsigned char>& bytes, const std::string& name,
                             const TableImportOptions& o) {
  const NpyHeader h = parse_npy_header(bytes, name);
  const size_t data_at = h.data_offset;
  if (h.shape.size() != 2)
    fail("{}: the array has {} dimensions; a product table must be 2-D", name, h.shape.size());
  const NpyElements elements(h.descr, bytes.data() + data_at, name);
  const int64_t rows = h.shape[0], cols = h.shape[1];
  const int rows_bits = log2_exact(rows), cols_bits = log2_exact(cols);
  if (rows_bits < 0 || cols_bits < 0)
    fail("{}: shape ({}, {}) is not 2^bw x 2^ba with 1..8-bit operands", name, rows, cols);
  if (static_cast<int64_t>(bytes.size() - data_at) < rows * cols * elements.item_size())
    fail("{}: the file ends before its {} x {} elements", name, rows, cols);
  std::vector<int64_t> stored(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      stored[r * cols + c] = elements.at(h.fortran_order ? c * rows + r : r * cols + c);
  const Signature sig = signature_for(rows_bits, cols_bits, o);
  check_widths(sig, o, name);
  return make_table(stored, sig, name, o);
}

std::vector<unsigned char> npy_bytes(const ProductTable& table) {
  const Signature& sig = table.signature();
  std::string header =
      fmt::format("{{'descr': '<i4', 'fortran_order': False, 'shape': ({}, {}), }}",
                  sig.weight_levels(), sig.act_levels());
  // Pad with spaces so the data starts at a multiple of 64 bytes; the header ends with '\n'.
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::vector<unsigned char> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.push_back(static_cast<unsigned char>(header.size() & 0xff));
  out.push_back(static_cast<unsigned char>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  for (int32_t v : table.data()) {
    const auto u = static_cast<uint32_t>(v);
    for (int b = 0; b < 4; ++b) out.push_back(static_cast<unsigned char>(u >> (8 * b)));
  }
  return out;
}

void write_npy_table(const ProductTable& table, const std::string& path) {
  const std::vector<unsigned char> bytes = npy_bytes(table);
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace fames
