// Runs the `fames` binary that ctest names in FAMES_BIN and captures its output, for the end-to-end
// CLI tests. FAMES_SOURCE_DIR (a compile definition) locates the zoo models.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace fames::testing_cli {

// A scratch folder under the test temp folder that belongs to this test process alone: ctest runs
// tests two at a time, and test suites of other checkouts may share /tmp.
inline std::string process_temp_dir(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "." + std::to_string(::getpid());
}

struct CommandResult {
  int status = -1;     // exit status; -1 if the binary could not run or FAMES_BIN is unset
  std::string output;  // stdout and stderr
};

// Runs a shell command line, stdout and stderr merged into the output.
inline CommandResult run_shell(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::array<char, 4096> buffer{};
  while (pipe && fgets(buffer.data(), buffer.size(), pipe)) r.output += buffer.data();
  const int status = pipe ? pclose(pipe) : -1;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline CommandResult run_fames(const std::string& args) {
  const char* bin = std::getenv("FAMES_BIN");
  if (!bin) return {};
  return run_shell(std::string(bin) + " " + args);
}

inline nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

}  // namespace fames::testing_cli
