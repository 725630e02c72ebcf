// Every fames subcommand lives in one file under src/cli/ and registers itself with
// FAMES_REGISTER_COMMAND(setup). `setup` adds a CLI11 subcommand to the root app: its options
// (which are also its --help), and a callback that does the work by calling the library.
// Commands report failures by throwing fames::Error; main() prints it as one line and exits 1.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "data/dataset.h"

namespace fames::cli {

using CommandSetup = std::function<void(CLI::App& root)>;

// Called by FAMES_REGISTER_COMMAND at static-initialisation time.
bool register_command(const char* name, CommandSetup setup);

// Global options every command may read (set before any callback runs).
struct GlobalOptions {
  int threads = 0;     // 0 = all cores
  bool quiet = false;  // no progress bars
  int64_t validation_images = kValidationTenth;  // data/dataset.h set_validation_images()
  int dist_timeout = 300;  // seconds a rank of a data-parallel run waits for the others
};
const GlobalOptions& global_options();

// Returns the subcommand group `name` of `root` (e.g. "lib"), creating it on first use, so that
// several files can each add one command to the group ("lib build", "lib show", ...).
CLI::App& command_group(CLI::App& root, const std::string& name, const std::string& description);

// The command line as typed, for reports.
const std::string& command_line();

// Every command and sub-command under `root`, walked from CLI11's tree (so whatever registered
// itself is listed): [{"command": "lib build", "description": ..., "options": ["--out", ...]}],
// groups before their members. `fames --list-commands` prints it (the option is
// hidden from --help); the CLI test runs every listed command's --help.
nlohmann::json list_commands(CLI::App& root);

}  // namespace fames::cli

#define FAMES_COMMAND_CONCAT_(a, b) a##b
#define FAMES_COMMAND_CONCAT(a, b) FAMES_COMMAND_CONCAT_(a, b)
#define FAMES_REGISTER_COMMAND(name, setup)                                   \
  static const bool FAMES_COMMAND_CONCAT(fames_command_registered_, __LINE__) = \
      ::fames::cli::register_command(name, setup)
