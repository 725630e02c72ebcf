// Hostile est.json, assign.json and operand histograms: wrong types, numbers out of range and deep
// nesting give one fames::Error naming the file; no nlohmann exception gets through.
#include <gtest/gtest.h>

#include <functional>

#include "core/assignment.h"
#include "core/estimate_file.h"
#include "core/operand_histogram.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

// The message `load` throws for a file holding `text`; "no error" if none.
std::string error_loading(const std::string& name, const std::string& text,
                          const std::function<void(const std::string&)>& load) {
  const std::string path = ::testing::TempDir() + name;
  write_file_atomic(path, text);
  try {
    load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(HostileJson, EstimateFileErrorsNameTheFile) {
  const auto load = [](const std::string& path) { Estimate::load(path); };
  std::string e = error_loading("est1.json", R"({"version": "one"})", load);
  EXPECT_NE(e.find("est1.json: version must be an integer"), std::string::npos) << e;
  e = error_loading("est2.json", R"({"version": 1, "samples": 1e400})", load);
  EXPECT_NE(e.find("est2.json: not valid JSON"), std::string::npos) << e;
  e = error_loading("est3.json", std::string(5000, '['), load);
  EXPECT_NE(e.find("est3.json: JSON nested more than 64 levels deep"), std::string::npos) << e;
}

TEST(HostileJson, AssignmentTypesAreChecked) {
  const auto load = [](const std::string& path) { Assignment::load(path); };
  const std::string e = error_loading("a1.json", R"({"library": "lib", "layers": {"fc": 3}})", load);
  EXPECT_NE(e.find("a1.json: layers.fc must be a string"), std::string::npos) << e;
}

TEST(HostileJson, OperandHistogramWithAWrongTypeIsOneError) {
  const auto load = [](const std::string& path) { OperandHistograms::load(path); };
  // "format" of the wrong type once escaped as nlohmann's type_error.302.
  std::string e = error_loading("h1.json", R"({"format": 5, "version": 1})", load);
  EXPECT_NE(e.find("h1.json is not a fames operand histogram"), std::string::npos) << e;
  e = error_loading("h2.json", "[1, 2", load);
  EXPECT_NE(e.find("h2.json: not valid JSON"), std::string::npos) << e;
}

}  // namespace
}  // namespace fames
