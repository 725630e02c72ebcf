// Every seed in fuzz/corpus/<reader> and every minimized crash in fuzz/regressions/<reader> goes
// through its reader (fuzz/readers.h) as the harness would send it: the reader may only accept it
// or reject it with fames::Error. Under FAMES_SANITIZE a memory error here aborts the test.
#include <gtest/gtest.h>

#include <filesystem>

#include "fuzz/readers.h"
#include "util/files.h"

namespace fames::fuzz {
namespace {

namespace fs = std::filesystem;

int replay(const Reader& reader, const std::string& folder) {
  int files = 0;
  if (!fs::is_directory(folder)) return 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string bytes = read_file(entry.path().string());
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(reader.read(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    ++files;
  }
  return files;
}

TEST(Fuzz, CorporaAndRegressionsAreHandled) {
  const std::string root = std::string(FAMES_SOURCE_DIR) + "/fuzz/";
  for (const Reader& reader : readers()) {
    SCOPED_TRACE(reader.name);
    EXPECT_GT(replay(reader, root + "corpus/" + reader.name), 0) << "no seeds for " << reader.name;
    replay(reader, root + "regressions/" + reader.name);
  }
}

}  // namespace
}  // namespace fames::fuzz
