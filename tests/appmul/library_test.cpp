// Library: save/load round trip, lookups, rejection of truncated tables and inconsistent indexes,
// and the family build's filtering rules.
#include "appmul/library/library.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "appmul/synth/generators.h"
#include "appmul/synth/library_build.h"
#include "appmul/io/table_file.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + name;
  std::filesystem::remove_all(dir);
  return dir;
}

Library small_library() {
  Library lib;
  const Signature s44{4, 4, true, false}, s33{3, 3, true, true};
  lib.add(characterize(generate_multiplier(s44, {Family::kExactArray}), "exact:array"));
  lib.add(characterize(generate_multiplier(s44, {Family::kExactDadda}), "exact:dadda"));
  lib.add(characterize(generate_multiplier(s44, {Family::kTrunc, 3}), "family:trunc"));
  lib.add(characterize(generate_multiplier(s33, {Family::kExactDadda}), "exact:dadda"));
  AppMul table_only;
  table_only.name = "table_only_w3s_a3s";
  table_only.table = ProductTable::exact(s33);
  table_only.exact = true;
  table_only.source = "import:table.npy";
  lib.add(std::move(table_only));
  return lib;
}

TEST(TableFile, RoundTripAndTruncation) {
  const std::string dir = fresh_dir("tables");
  const ProductTable t = ProductTable::exact(Signature{5, 3, true, false});
  write_table_file(t, dir + "/t.tbl");
  EXPECT_TRUE(read_table_file(dir + "/t.tbl") == t);
  auto bytes = read_file_bytes(dir + "/t.tbl");
  EXPECT_EQ(bytes.size(), sizeof(TableFileHeader) + 4u * 256);
  bytes.pop_back();
  write_file_atomic(dir + "/cut.tbl", std::string(bytes.begin(), bytes.end()));
  try {
    read_table_file(dir + "/cut.tbl");
    FAIL() << "truncated table accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.tbl"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos);
  }
  write_file_atomic(dir + "/junk.tbl", std::string(100, 'x'));
  EXPECT_THROW(read_table_file(dir + "/junk.tbl"), Error);
}

TEST(Library, SaveLoadRoundTrip) {
  const std::string dir = fresh_dir("lib_roundtrip");
  const Library lib = small_library();
  lib.save(dir);
  EXPECT_TRUE(file_exists(dir + "/index.json"));
  EXPECT_TRUE(file_exists(dir + "/trunc_k3_w4s_a4u.blif"));
  EXPECT_FALSE(file_exists(dir + "/table_only_w3s_a3s.blif"));
  const Library back = Library::load(dir, /*with_netlists=*/true);
  ASSERT_EQ(back.size(), lib.size());
  for (const AppMul& m : lib.all()) {
    const AppMul* b = back.find(m.name);
    ASSERT_NE(b, nullptr) << m.name;
    EXPECT_TRUE(b->table == m.table);
    EXPECT_EQ(b->energy_fj, m.energy_fj);
    EXPECT_EQ(b->metrics.mred, m.metrics.mred);
    EXPECT_EQ(b->source, m.source);
    EXPECT_EQ(b->exact, m.exact);
    EXPECT_EQ(b->netlist.has_value(), m.netlist.has_value());
    if (m.netlist) {
      EXPECT_EQ(b->netlist->gate_count(), m.netlist->gate_count());
    }
  }
  EXPECT_EQ(appmul_json(*back.find("trunc_k3_w4s_a4u")),
            appmul_json(*lib.find("trunc_k3_w4s_a4u")));
}

TEST(Library, Lookups) {
  const Library lib = small_library();
  const Signature s44{4, 4, true, false};
  EXPECT_EQ(lib.of_signature(s44).size(), 3u);
  EXPECT_EQ(lib.of_signature(Signature{4, 4, false, false}).size(), 0u);
  const AppMul* exact = lib.exact(s44);
  ASSERT_NE(exact, nullptr);
  EXPECT_TRUE(exact->exact);
  for (const AppMul* m : lib.of_signature(s44))
    if (m->exact) {
      EXPECT_LE(exact->energy_fj, m->energy_fj);
    }
  EXPECT_EQ(lib.find("nope"), nullptr);
  EXPECT_EQ(lib.signatures().size(), 2u);
  Library copy = lib;
  EXPECT_THROW(copy.add(*lib.find("trunc_k3_w4s_a4u")), Error);  // duplicate name
  AppMul bad = *lib.find("trunc_k3_w4s_a4u");
  bad.name = "../escape";
  EXPECT_THROW(copy.add(bad), Error);
}

TEST(Library, LoadRejectsTruncatedTablesAndBadIndexes) {
  const std::string dir = fresh_dir("lib_bad");
  small_library().save(dir);
  // Truncate one table.
  auto bytes = read_file_bytes(dir + "/trunc_k3_w4s_a4u.tbl");
  bytes.resize(bytes.size() - 8);
  write_file_atomic(dir + "/trunc_k3_w4s_a4u.tbl", std::string(bytes.begin(), bytes.end()));
  try {
    Library::load(dir);
    FAIL() << "truncated table accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("trunc_k3_w4s_a4u.tbl is"), std::string::npos) << e.what();
  }
  const std::string dir2 = fresh_dir("lib_bad2");
  small_library().save(dir2);
  std::string index = read_file(dir2 + "/index.json");
  index.replace(index.find("\"ba\": 3"), 7, "\"ba\": 4");  // disagrees with the 3x3 table
  write_file_atomic(dir2 + "/index.json", index);
  EXPECT_THROW(Library::load(dir2), Error);
  write_file_atomic(dir2 + "/index.json", "{ not json");
  EXPECT_THROW(Library::load(dir2), Error);
  EXPECT_THROW(Library::load(fresh_dir("lib_missing")), Error);
}

TEST(LibraryBuild, FamilyMembersFollowTheFilteringRules) {
  const Signature sig{6, 6, true, false};
  FamilyBuildOptions opt;
  const std::vector<AppMul> members = build_family_members(sig, opt);
  ASSERT_GE(members.size(), 10u);
  EXPECT_LE(members.size(), 30u);
  double exact_energy = 1e30;
  int exact_count = 0;
  for (const AppMul& m : members)
    if (m.exact) exact_energy = std::min(exact_energy, m.energy_fj), ++exact_count;
  EXPECT_EQ(exact_count, 2);
  for (size_t i = 0; i < members.size(); ++i) {
    const AppMul& m = members[i];
    EXPECT_EQ(m.signature(), sig);
    if (m.exact) continue;
    EXPECT_LE(m.metrics.mred, opt.max_mred) << m.name;
    EXPECT_LT(m.energy_fj, exact_energy) << m.name;
    EXPECT_GT(m.metrics.er, 0) << m.name;
    for (size_t j = 0; j < i; ++j)
      EXPECT_FALSE(members[j].table == m.table) << m.name << " duplicates " << members[j].name;
  }
  opt.max_per_signature = 8;
  EXPECT_EQ(build_family_members(sig, opt).size(), 8u);
}

TEST(LibraryBuild, ParallelBuildCoversEverySignature) {
  std::vector<Signature> sigs;
  for (int b = 2; b <= 4; ++b) sigs.push_back(Signature{b, 5 - b + 2, true, false});
  size_t callbacks = 0;
  const Library lib =
      build_family_library(sigs, {}, [&](const Signature&, size_t) { ++callbacks; });
  EXPECT_EQ(callbacks, sigs.size());
  for (const Signature& s : sigs) EXPECT_NE(lib.exact(s), nullptr) << s.key();
}

}  // namespace
}  // namespace fames
