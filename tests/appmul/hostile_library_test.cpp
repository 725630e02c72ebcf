// Hostile product tables and library folders (docs/reliability.md): everything loaded is checked
// against what it claims, and a path in index.json cannot leave the library folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "appmul/io/table_file.h"
#include "appmul/io/table_import.h"
#include "appmul/library/library.h"
#include "appmul/synth/generators.h"
#include "error_message.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

using testing::error_message;

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + name;
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(HostileTables, ValuesOutsideTheProductRangeAreRejected) {
  const std::string dir = fresh_dir("hostile_tables");
  ProductTable t = ProductTable::exact(Signature{2, 2, false, false});
  t.raw(3, 3) = 16;  // a 4-bit unsigned product holds 0..15
  write_table_file(t, dir + "/wide.tbl");
  EXPECT_EQ(error_message([&] { read_table_file(dir + "/wide.tbl"); }),
            "product table " + dir +
                "/wide.tbl: value 16 at entry 15 is outside the w2u_a2u product range [0, 15]");
  // The same file through the table importer (a fames header found by content).
  EXPECT_NE(error_message([&] { import_table_file(dir + "/wide.tbl", {}); }).find("outside"),
            std::string::npos);
  ProductTable s = ProductTable::exact(Signature{2, 2, true, false});
  s.raw(1, 1) = -9;  // a signed 4-bit product holds -8..7
  write_table_file(s, dir + "/low.tbl");
  EXPECT_NE(error_message([&] { read_table_file(dir + "/low.tbl"); }).find("[-8, 7]"),
            std::string::npos);
}

TEST(HostileTables, RawTableWidthsOutOfRangeAreAnError) {
  TableImportOptions options;
  options.bw = 9;
  options.ba = 2;
  const std::vector<unsigned char> bytes(2 * 2048, 0);
  EXPECT_EQ(error_message([&] { parse_raw_table(bytes, false, "t.bin", options); }),
            "t.bin: --bits 9x2 is outside 1..8 x 1..8");
}

// A library folder with one exact 2x2 AppMul, whose index.json the test then edits.
struct LibraryFixture {
  std::string dir;
  nlohmann::json index;

  explicit LibraryFixture(const std::string& name) : dir(fresh_dir(name)) {
    Library lib;
    lib.add(characterize(generate_multiplier(Signature{2, 2, false, false}, {Family::kExactArray}),
                         "exact:array"));
    lib.save(dir);
    index = nlohmann::json::parse(read_file(dir + "/index.json"));
  }
  // Loads the library after setting index.appmuls[0][key] = value.
  std::string load_with(const std::string& key, const nlohmann::json& value) const {
    nlohmann::json edited = index;
    edited["appmuls"][0][key] = value;
    write_file_atomic(dir + "/index.json", edited.dump());
    return error_message([&] { Library::load(dir, true); });
  }
};

TEST(HostileLibrary, IndexFieldsAreCheckedAgainstTheirRangesAndTables) {
  const LibraryFixture f("hostile_library");
  EXPECT_EQ(f.load_with("exact", true), "no error");
  std::string e = f.load_with("exact", false);
  EXPECT_NE(e.find("index.json says"), std::string::npos) << e;
  EXPECT_NE(e.find(".tbl"), std::string::npos) << e;
  e = f.load_with("energy_fj", -1.0);
  EXPECT_NE(e.find("index.json: appmuls[0]: \"energy_fj\" is -1; it must be >= 0"),
            std::string::npos)
      << e;
  e = f.load_with("bw", 99);
  EXPECT_NE(e.find("operand widths 99x2 are outside 1..8"), std::string::npos) << e;
  e = f.load_with("name", 5);
  EXPECT_NE(e.find("index.json: appmuls[0].name must be a string"), std::string::npos) << e;
  e = f.load_with("depth", "deep");
  EXPECT_NE(e.find("appmuls[0].depth must be an integer"), std::string::npos) << e;
}

TEST(HostileLibrary, PathsCannotLeaveTheFolder) {
  const LibraryFixture f("hostile_library_paths");
  for (const char* path : {"../outside.tbl", "/etc/passwd", "sub/x.tbl", ".hidden.tbl"}) {
    const std::string e = f.load_with("table", path);
    EXPECT_NE(e.find("it must name a file inside the library folder"), std::string::npos) << e;
  }
  const std::string e = f.load_with("netlist", "../../x.blif");
  EXPECT_NE(e.find("\"netlist\" is '../../x.blif'"), std::string::npos) << e;
}

TEST(HostileLibrary, NumbersOutOfRangeAndDeepNestingAreClearErrors) {
  const LibraryFixture f("hostile_library_json");
  write_file_atomic(f.dir + "/index.json",
                    R"({"format": "fames-appmul-library", "version": 1, "appmuls": [1e999]})");
  std::string e = error_message([&] { Library::load(f.dir); });
  EXPECT_NE(e.find(f.dir + "/index.json: not valid JSON"), std::string::npos) << e;
  write_file_atomic(f.dir + "/index.json", std::string(100000, '[') + std::string(100000, ']'));
  e = error_message([&] { Library::load(f.dir); });
  EXPECT_NE(e.find("index.json: JSON nested more than 64 levels deep"), std::string::npos) << e;
}

}  // namespace
}  // namespace fames
