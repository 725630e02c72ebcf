// Bit-width files (quant/bits.h): widths out of 2..8, floats, huge integers, wrong shapes and
// broken JSON are one fames::Error naming the file and layer; valid files read as written.
#include <gtest/gtest.h>

#include "quant/bits.h"
#include "util/error.h"
#include "util/files.h"

namespace fames::quant {
namespace {

std::string bits_error(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  write_file_atomic(path, text);
  try {
    read_bits_file(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(BitsFile, ReadsBothForms) {
  const std::string path = ::testing::TempDir() + "bits_ok.json";
  write_file_atomic(path, R"({"layers": {"conv1": [4, 6], "fc": 8}})");
  const BitMap bits = read_bits_file(path);
  EXPECT_EQ(bits.at("conv1"), std::make_pair(4, 6));
  EXPECT_EQ(bits.at("fc"), std::make_pair(8, 8));
}

TEST(BitsFile, BadValuesNameTheFileAndLayer) {
  const std::string dir = ::testing::TempDir();
  EXPECT_EQ(bits_error("bits1.json", R"({"conv1": [4, 1e300]})"),
            "bits file '" + dir + "bits1.json': layer 'conv1': bit widths must be integers 2..8, got 1e+300");
  EXPECT_EQ(bits_error("bits2.json", R"({"conv1": 4294967300})"),
            "bits file '" + dir + "bits2.json': layer 'conv1': bit widths must be integers 2..8, got 4294967300");
  EXPECT_EQ(bits_error("bits3.json", R"({"conv1": [4]})"),
            "bits file '" + dir + "bits3.json': layer 'conv1': expected [bw, ba] or one width, got [4]");
  EXPECT_EQ(bits_error("bits4.json", R"([4, 4])"),
            "bits file '" + dir + "bits4.json': expected {\"layer\": [bw, ba] or b, ...}");
  EXPECT_NE(bits_error("bits5.json", R"({"conv1": [4, )").find("bits file '" + dir + "bits5.json': not valid JSON"),
            std::string::npos);
  EXPECT_NE(bits_error("bits6.json", std::string(10000, '[')).find("nested more than 64 levels"), std::string::npos);
}

}  // namespace
}  // namespace fames::quant
