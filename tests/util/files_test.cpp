#include "util/files.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "util/error.h"

namespace fames {
namespace fs = std::filesystem;

TEST(WriteFileAtomic, WritesAndReplaces) {
  const std::string dir = testing::TempDir() + "/fames_files_test/sub";
  const std::string path = dir + "/out.txt";
  write_file_atomic(path, "first");
  EXPECT_EQ(read_file(path), "first");
  write_file_atomic(path, "second");
  EXPECT_EQ(read_file(path), "second");
}

TEST(WriteFileAtomic, FailureLeavesOldContentsAndNoTemp) {
  const std::string dir = testing::TempDir() + "/fames_files_test2";
  const std::string path = dir + "/out.txt";
  write_file_atomic(path, "keep");
  EXPECT_THROW(write_file_atomic(path, [](std::ostream& out) {
                 out << "partial";
                 throw Error("boom");
               }),
               Error);
  EXPECT_EQ(read_file(path), "keep");
  int files = 0;
  for (auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(ReadFile, MissingFileNamesThePath) {
  try {
    read_file("/nonexistent/fames/x.bin");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/fames/x.bin"), std::string::npos);
  }
}

}  // namespace fames
