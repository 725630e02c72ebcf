// End-to-end checks of the `fames` program: every command explains itself, and bad input gives one
// clear error line and a non-zero exit, never a crash. FAMES_BIN (set by ctest) names the binary.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli_runner.h"

namespace {

using fames::testing_cli::CommandResult;
CommandResult run(const std::string& args) { return fames::testing_cli::run_fames(args); }

#define REQUIRE_BIN() \
  if (!std::getenv("FAMES_BIN")) GTEST_SKIP() << "FAMES_BIN not set"

// The commands come from the binary itself (fames --list-commands walks CLI11's tree), so a new
// command is tested without being added here.
TEST(Cli, EveryCommandHasHelp) {
  REQUIRE_BIN();
  const CommandResult list = run("--list-commands");
  ASSERT_EQ(list.status, 0) << list.output;
  const nlohmann::json commands = nlohmann::json::parse(list.output, nullptr, false);
  ASSERT_TRUE(commands.is_array()) << list.output;
  std::set<std::string> names;
  for (const auto& c : commands) names.insert(c.at("command").get<std::string>());
  // A few that must be there, groups and their members alike.
  for (const char* expected : {"run", "estimate", "lib", "lib build", "lib compare", "lib histogram",
                               "lib tailor", "bench", "bench emulate", "bench select-vs-ga"})
    EXPECT_TRUE(names.count(expected)) << expected << " is not listed";
  for (const auto& c : commands) {
    const std::string name = c.at("command");
    SCOPED_TRACE(name);
    const std::string description = c.at("description");
    EXPECT_FALSE(description.empty());
    const CommandResult r = run(name + " --help");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(description), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Options:"), std::string::npos) << r.output;
    for (const auto& option : c.at("options")) {
      const std::string flag = option.get<std::string>();
      EXPECT_NE(r.output.find(flag), std::string::npos) << flag << " is not in the help";
    }
    EXPECT_NE(r.output.find("Usage: "), std::string::npos) << r.output;
  }
  const CommandResult version = run("--version");
  EXPECT_EQ(version.status, 0);
  EXPECT_NE(version.output.find("fames"), std::string::npos);
}

TEST(Cli, MissingModelIsOneClearError) {
  REQUIRE_BIN();
  const CommandResult r = run("eval --model /nonexistent/m.pt");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("/nonexistent/m.pt"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
}

TEST(Cli, BadDatasetAndBadBitsAreClearErrors) {
  REQUIRE_BIN();
  const std::string out = testing::TempDir() + "/fames_cli_never_written.pt";
  CommandResult r =
      run("train --arch lenet5 --data cifar10:/nonexistent/cifar --epochs 1 --out " + out);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("/nonexistent/cifar"), std::string::npos) << r.output;
  r = run("train --arch lenet5 --bits 9 --epochs 1 --limit 8 --out " + out);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("--bits"), std::string::npos) << r.output;
  EXPECT_EQ(std::fopen(out.c_str(), "rb"), nullptr) << "no output may be written on failure";
}

TEST(Cli, UnknownCommandExitsNonZero) {
  REQUIRE_BIN();
  EXPECT_NE(run("no-such-command").status, 0);
}

}  // namespace
