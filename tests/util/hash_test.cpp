#include "util/hash.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {
namespace fs = std::filesystem;

TEST(Fnv1a64, MatchesThePublishedTestVectors) {
  // The FNV reference values for "" and "a" (64-bit FNV-1a).
  EXPECT_EQ(fnv1a64("", 0), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(hash_text(0xaf63dc4c8601ec8cull), "fnv1a64:af63dc4c8601ec8c");
}

TEST(HashPath, AFileHashesItsBytes) {
  const std::string path = testing::TempDir() + "/fames_hash_test/file.txt";
  write_file_atomic(path, "a");
  EXPECT_EQ(hash_path(path), fnv1a64("a", 1));
  write_file_atomic(path, "b");
  EXPECT_NE(hash_path(path), fnv1a64("a", 1));
}

TEST(HashPath, AFolderChangesWithAnyFileOrName) {
  const std::string dir = testing::TempDir() + "/fames_hash_test/folder";
  fs::remove_all(dir);
  write_file_atomic(dir + "/x.txt", "one");
  write_file_atomic(dir + "/sub/y.txt", "two");
  const uint64_t before = hash_path(dir);
  EXPECT_EQ(hash_path(dir), before);  // stable
  write_file_atomic(dir + "/sub/y.txt", "TWO");
  const uint64_t changed = hash_path(dir);
  EXPECT_NE(changed, before);
  write_file_atomic(dir + "/sub/y.txt", "two");
  EXPECT_EQ(hash_path(dir), before);  // content decides, not the time of writing
  fs::rename(dir + "/x.txt", dir + "/z.txt");
  EXPECT_NE(hash_path(dir), before);  // a renamed file is a change too
}

TEST(HashPath, AMissingPathIsAnErrorNamingIt) {
  try {
    hash_path("/nonexistent/fames/thing");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/fames/thing"), std::string::npos);
  }
}

}  // namespace
}  // namespace fames
