// fames version: prints the version and the build's key dependencies.
#include <torch/torch.h>

#include <fmt/core.h>

#include "cli/command.h"
#include "fames_version.h"

namespace {
void setup_version(CLI::App& root) {
  auto* cmd = root.add_subcommand("version", "Print the version of fames and of LibTorch it uses");
  cmd->callback([] { fmt::print("fames {} (LibTorch {})\n", FAMES_VERSION, TORCH_VERSION); });
}
}  // namespace
FAMES_REGISTER_COMMAND("version", setup_version);
