// Product tables from files that carry no circuit (docs/formats.md, "Raw and NumPy tables").
//
// Raw tables (.bin .tbl .u16 .i16), as GPU emulators of approximate multipliers store them:
// 2^bw x 2^ba little-endian 16-bit integers, row-major, indexed by raw operand bit patterns (two's
// complement for signed operands). Element type: .u16 uint16, .i16 int16; .bin/.tbl int16 when
// either operand is signed, else uint16. The size says nothing about the widths, so a table that is
// not 256 x 256 (8x8) needs the widths given. A file that starts with fames' own table header
// (table_file.h, a library's <name>.tbl) is read as such whatever its extension.
//
// NumPy .npy (format 1.0/2.0/3.0): a 2-D C- or Fortran-order array of <i2 <u2 <i4 <u4 <i8 <u8 |i1
// |u1, or <f4 <f8 holding integers; widths follow from the shape (both powers of two, 2..256)
// unless given.
//
// Layout: kWeightRows ("wa") means row = weight pattern, column = activation pattern (the
// ProductTable layout); kActivationRows ("aw") is the transpose. Every value must fit the product
// range of a ba+bw-bit output (signed range if either operand is signed): anything else means the
// signedness, widths or layout were given wrong. Errors are fames::Error naming the file.
#pragma once
#include <string>
#include <vector>

#include "core/product_table.h"

namespace fames {

enum class TableLayout { kWeightRows, kActivationRows };

// "wa" or "aw"; throws fames::Error naming --layout otherwise.
TableLayout parse_table_layout(const std::string& text);

struct TableImportOptions {
  int bw = 0, ba = 0;  // operand widths; 0 = infer (raw: 256 x 256 only; npy: from the shape)
  bool signed_w = false;
  bool signed_a = false;
  TableLayout layout = TableLayout::kWeightRows;
};

// The file name's extension in lower case, with its dot (".npy"); "" if none.
std::string lowercase_extension(const std::string& path);
// True for the extensions import_table_file() understands (.npy .bin .tbl .u16 .i16).
bool is_table_file(const std::string& path);
// Reads a raw or .npy table, chosen by extension.
ProductTable import_table_file(const std::string& path, const TableImportOptions& options);

// The parsers behind it; `name` is used in error messages.
ProductTable parse_raw_table(const std::vector<unsigned char>& bytes, bool int16,
                             const std::string& name, const TableImportOptions& options);
ProductTable parse_npy_table(const std::vector<unsigned char>& bytes, const std::string& name,
                             const TableImportOptions& options);

// Writes `table` as a .npy file (format 1.0, <i4, shape (2^bw, 2^ba), row = weight), atomically.
void write_npy_table(const ProductTable& table, const std::string& path);
std::vector<unsigned char> npy_bytes(const ProductTable& table);

}  // namespace fames
