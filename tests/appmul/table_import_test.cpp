// Raw 16-bit and .npy product-table import. The files are built byte by byte here (headers written
// by hand, not by the library's own writer), so a parser bug cannot hide behind a matching writer.
#include "appmul/io/table_import.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "appmul/io/table_file.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

using Bytes = std::vector<unsigned char>;

void put_le(Bytes& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

// A raw table of `rows` x `cols` 16-bit entries value(r, c), row-major.
Bytes raw16(int rows, int cols, const std::function<int(int, int)>& value) {
  Bytes b;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) put_le(b, static_cast<uint16_t>(value(r, c)), 2);
  return b;
}

// A .npy file: header dict as numpy writes it, padded to 64 bytes, then `payload`.
Bytes npy(const std::string& descr, bool fortran, const std::string& shape, const Bytes& payload,
          int major = 1) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': " + shape + ", }";
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + dict.size() + 1) % 64) dict += ' ';
  dict += '\n';
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(major), 0};
  put_le(b, dict.size(), major == 1 ? 2 : 4);
  b.insert(b.end(), dict.begin(), dict.end());
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes elements(int rows, int cols, int item_bytes, const std::function<int64_t(int, int)>& value) {
  Bytes b;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) put_le(b, static_cast<uint64_t>(value(r, c)), item_bytes);
  return b;
}

Bytes doubles(int rows, int cols, const std::function<double(int, int)>& value) {
  Bytes b;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const double v = value(r, c);
      uint64_t bits;
      std::memcpy(&bits, &v, 8);
      put_le(b, bits, 8);
    }
  return b;
}

void expect_error(const std::function<void()>& f, const std::string& words) {
  try {
    f();
    ADD_FAILURE() << "no error; expected: " << words;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(RawTable, Unsigned256x256IsEightByEightAndLayoutTransposes) {
  // value(r, c) = r*c + (r & 1): the odd-row bump tells rows from columns.
  const Bytes bytes = raw16(256, 256, [](int r, int c) { return r * c + (r & 1); });
  TableImportOptions wa;
  const ProductTable t = parse_raw_table(bytes, false, "t.u16", wa);
  EXPECT_EQ(t.signature(), (Signature{8, 8, false, false}));
  EXPECT_EQ(t.raw(255, 255), 255 * 255 + 1);
  EXPECT_EQ(t.raw(3, 2), 7);  // row 3 = weight 3
  EXPECT_EQ(t.raw(2, 3), 6);
  TableImportOptions aw;
  aw.layout = parse_table_layout("aw");
  const ProductTable u = parse_raw_table(bytes, false, "t.u16", aw);
  EXPECT_EQ(u.raw(3, 2), 6);  // row 3 = activation 3 now
  EXPECT_EQ(u.raw(2, 3), 7);
  EXPECT_THROW(parse_table_layout("wx"), Error);
}

TEST(RawTable, SignedSmallTableNeedsBitsAndReadsInt16) {
  const Signature sig{4, 3, true, false};
  const ProductTable exact = ProductTable::exact(sig);
  // Stored by raw patterns, two's complement weights: entry (w_raw, a_raw) = value(w) * a.
  const Bytes bytes = raw16(16, 8, [&](int w, int a) { return sig.w_value(w) * a; });
  TableImportOptions o;
  o.bw = 4;
  o.ba = 3;
  o.signed_w = true;
  EXPECT_EQ(parse_raw_table(bytes, true, "t.i16", o), exact);

  const std::string path = testing::TempDir() + "/fames_table_import_signed.bin";
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
  EXPECT_EQ(import_table_file(path, o), exact);  // .bin with a signed operand reads int16
  o.signed_w = false;  // read as unsigned, -8 * 7 = 0xFFC8 is out of an 7-bit product's range
  expect_error([&] { import_table_file(path, o); }, "outside the range");

  expect_error([&] { parse_raw_table(bytes, true, "t.i16", TableImportOptions{}); }, "pass --bits");
  expect_error([&] { parse_raw_table(Bytes(7), true, "t.i16", o); }, "whole number");
}

TEST(NpyTable, IntegerDtypesShapesAndOrders) {
  const Signature sig{3, 2, false, false};
  const ProductTable exact = ProductTable::exact(sig);
  const auto product = [](int r, int c) -> int64_t { return r * c; };
  // Shape (8, 4): 3-bit weights by 2-bit activations, inferred.
  for (const char* descr : {"|u1", "|i1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8"}) {
    const int size = descr[2] - '0';
    const ProductTable t =
        parse_npy_table(npy(descr, false, "(8, 4)", elements(8, 4, size, product)), "t.npy", {});
    EXPECT_EQ(t, exact) << descr;
  }
  // Fortran order stores column after column.
  const Bytes fortran = elements(4, 8, 2, [&](int c, int r) { return product(r, c); });
  EXPECT_EQ(parse_npy_table(npy("<i2", true, "(8, 4)", fortran), "t.npy", {}), exact);
  // Format 2.0 has a 4-byte header length.
  EXPECT_EQ(
      parse_npy_table(npy("<i4", false, "(8, 4)", elements(8, 4, 4, product), 2), "t.npy", {}),
      exact);
  // "aw": the same data read as activations in rows is a 2-bit-weight by 3-bit-activation table.
  TableImportOptions aw;
  aw.layout = TableLayout::kActivationRows;
  EXPECT_EQ(parse_npy_table(npy("<i2", false, "(8, 4)", elements(8, 4, 2, product)), "t.npy", aw),
            ProductTable::exact(Signature{2, 3, false, false}));
}

TEST(NpyTable, SignedValuesAndFloats) {
  const Signature sig{2, 2, true, true};
  const auto product = [&](int r, int c) { return sig.w_value(r) * sig.a_value(c); };
  TableImportOptions o;
  o.signed_w = o.signed_a = true;
  EXPECT_TRUE(parse_npy_table(npy("<i2", false, "(4, 4)", elements(4, 4, 2, product)), "t.npy", o)
                  .is_exact());
  EXPECT_TRUE(
      parse_npy_table(npy("<f8", false, "(4, 4)", doubles(4, 4, product)), "t.npy", o).is_exact());
  expect_error(
      [&] {
        parse_npy_table(npy("<f8", false, "(4, 4)", doubles(4, 4, [](int, int) { return 0.5; })),
                        "t.npy", o);
      },
      "not an integer");
}

TEST(NpyTable, ErrorsNameTheFile) {
  const Bytes ok = elements(4, 4, 2, [](int r, int c) { return r * c; });
  expect_error(
      [&] {
        parse_npy_table(Bytes{'P', 'K'}, "bad.npy", {});
      },
      "bad.npy: not a .npy file");
  expect_error([&] { parse_npy_table(npy("<i2", false, "(16,)", ok), "x.npy", {}); },
               "x.npy: the array has 1 dimensions");
  expect_error([&] { parse_npy_table(npy("<i2", false, "(4, 3)", ok), "x.npy", {}); },
               "not 2^bw x 2^ba");
  expect_error([&] { parse_npy_table(npy(">i2", false, "(4, 4)", ok), "x.npy", {}); },
               "big-endian");
  expect_error([&] { parse_npy_table(npy("<c8", false, "(4, 4)", ok), "x.npy", {}); },
               "unsupported .npy dtype");
  expect_error([&] { parse_npy_table(npy("<i4", false, "(4, 4)", ok), "x.npy", {}); },
               "ends before");
  TableImportOptions bits;
  bits.bw = bits.ba = 3;
  expect_error([&] { parse_npy_table(npy("<i2", false, "(4, 4)", ok), "x.npy", bits); },
               "--bits says 3x3");
}

TEST(NpyTable, WriterOutputReadsBack) {
  const Signature sig{5, 3, true, false};
  ProductTable t = ProductTable::exact(sig);
  t.raw(1, 2) += 3;  // not exact, so the comparison covers a non-trivial value
  const std::string path = testing::TempDir() + "/fames_table_import_roundtrip.npy";
  write_npy_table(t, path);
  TableImportOptions o;
  o.signed_w = true;
  EXPECT_EQ(import_table_file(path, o), t);
  const Bytes bytes = read_file_bytes(path);
  EXPECT_EQ((bytes[8] | bytes[9] << 8) + 10, 128);  // header padded to a multiple of 64 bytes
}

TEST(RawTable, FamesOwnTableFileIsRecognisedByItsHeader) {
  const Signature sig{3, 4, false, true};
  ProductTable t = ProductTable::exact(sig);
  t.raw(5, 9) -= 2;
  const std::string path = testing::TempDir() + "/fames_table_import_own.tbl";
  write_table_file(t, path);
  EXPECT_EQ(import_table_file(path, TableImportOptions{}), t);  // signature from the header
}

}  // namespace
}  // namespace fames
