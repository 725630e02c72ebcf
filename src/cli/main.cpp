// fames: entry point. Parses global flags, then dispatches to the registered subcommands.
#include <omp.h>
#include <torch/torch.h>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <new>
#include <thread>

#include "cli/command.h"
#include "cli/common.h"
#include "fames_version.h"
#include "util/error.h"
#include "util/load_time_env.h"
#include "util/progress.h"

namespace fames::cli {
namespace {
std::map<std::string, CommandSetup>& registry() {
  static std::map<std::string, CommandSetup> commands;
  return commands;
}
GlobalOptions g_options;
std::string g_command_line;
}  // namespace

bool register_command(const char* name, CommandSetup setup) {
  registry()[name] = std::move(setup);
  return true;
}
const GlobalOptions& global_options() { return g_options; }
const std::string& command_line() { return g_command_line; }

CLI::App& command_group(CLI::App& root, const std::string& name, const std::string& description) {
  for (CLI::App* sub : root.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == name) return *sub;
  CLI::App* group = root.add_subcommand(name, description);
  group->require_subcommand(1);
  return *group;
}

namespace {
void list_commands_under(CLI::App& app, const std::string& path, nlohmann::json& out) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    const std::string name = path.empty() ? sub->get_name() : path + " " + sub->get_name();
    nlohmann::json options = nlohmann::json::array();
    for (const CLI::Option* option : sub->get_options())
      if (!option->get_name().empty()) options.push_back(option->get_name());
    out.push_back({{"command", name}, {"description", sub->get_description()}, {"options", options}});
    list_commands_under(*sub, name, out);
  }
}
}  // namespace

nlohmann::json list_commands(CLI::App& root) {
  nlohmann::json out = nlohmann::json::array();
  list_commands_under(root, "", out);
  return out;
}

}  // namespace fames::cli

int main(int argc, char** argv) {
  using namespace fames;
  // libgomp's wait policy and OpenBLAS's kernels are read at load time: set them, restart once.
  if (complete_load_time_env()) execv("/proc/self/exe", argv);  // returns only on failure: go on as is
  // Keep freed tensor memory in the heap: by default glibc maps and unmaps every large tensor, and
  // the page faults of touching fresh pages cost a large share of a forward pass.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  for (int i = 0; i < argc; ++i) cli::g_command_line += (i ? " " : "") + std::string(argv[i]);

  CLI::App app{
      "fames: approximate multipliers for mixed-precision quantized DNNs.\n"
      "Estimate each layer's loss change for every AppMul, select one per layer under an energy\n"
      "budget, calibrate, evaluate. Run 'fames <command> --help' for a command's options.",
      "fames"};
  app.set_version_flag("--version", std::string("fames ") + FAMES_VERSION);
  app.add_option("--threads", cli::g_options.threads, "Threads to use (default: all cores)")
      ->check(cli::thread_count());
  app.add_flag("--quiet,-q", cli::g_options.quiet, "No progress bars");
  // For the CLI test: every registered command and its options, as JSON (cli/command.h).
  app.add_flag_callback(
         "--list-commands",
         [&app] {
           std::printf("%s\n", cli::list_commands(app).dump(1).c_str());
           throw CLI::Success();
         },
         "List every command and its options as JSON")
      ->group("");
  app.add_option("--validation-images", cli::g_options.validation_images,
                 "Training images held out as the validation split (--split val), the same ones in every "
                 "command; default a tenth, class-balanced; 0: none");
  app.require_subcommand(1);
  app.fallthrough();
  for (auto& [name, setup] : cli::registry()) setup(app);
  app.parse_complete_callback([] {
    const int threads = cli::g_options.threads > 0
                            ? cli::g_options.threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(threads);
    omp_set_num_threads(threads);
    if (cli::g_options.quiet) Progress::set_enabled(false);
    set_validation_images(cli::g_options.validation_images);
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "fames: error: %s\n", e.what());
    return 1;
  } catch (const c10::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "fames: error: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::bad_alloc&) {
    // Readers refuse inputs beyond their limits before allocating (docs/formats.md); this is a
    // dataset or model too large for the memory the process may use.
    std::fflush(stdout);
    std::fprintf(stderr, "fames: error: out of memory: the inputs need more memory than this "
                         "process may use (std::bad_alloc)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "fames: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
