// fames: entry point. Parses global flags, then dispatches to the registered subcommands.
#include <omp.h>
#include <torch/torch.h>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <set>
#include <new>
#include <thread>

#include "cli/command.h"
#include "cli/common.h"
#include "dist/process_group.h"
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
FILE* g_errors = stderr;  // where errors go; ranks other than 0 print nothing else

// The commands whose work the ranks of a data-parallel run share (docs/scaling.md). Any other
// command, started on several ranks, runs on rank 0 alone; the other ranks end at once.
bool data_parallel(const std::string& command) {
  static const std::set<std::string> commands{"estimate", "eval",     "validate",  "calibrate", "run",
                                              "pareto",   "search-ga", "train",    "quantize",  "bench select-vs-ga"};
  return commands.count(command) > 0;
}

// The command chosen on the command line, e.g. "lib build".
std::string chosen_command(const CLI::App& app) {
  std::string path;
  for (const CLI::App* at = &app; !at->get_subcommands().empty();) {
    at = at->get_subcommands().front();
    path += (path.empty() ? "" : " ") + at->get_name();
  }
  return path;
}

// Joins the data-parallel group the environment describes, if any. Ranks other than 0 keep only
// their errors: stdout and the rest of stderr (progress bars, stage timings) go to /dev/null.
void join_ranks(const GlobalOptions& options, const std::string& command) {
  if (!data_parallel(command)) {
    if (dist::launched_rank() > 0) throw CLI::Success();  // rank 0 does it alone
    return;
  }
  dist::init(std::chrono::seconds(options.dist_timeout));
  if (dist::is_root()) return;
  Progress::set_enabled(false);
  const int errors_fd = dup(STDERR_FILENO);
  if (errors_fd >= 0) g_errors = fdopen(errors_fd, "w");
  if (!g_errors) g_errors = stderr;
  std::fflush(stdout);
  if (!std::freopen("/dev/null", "w", stdout)) return;
  dup2(fileno(stdout), STDERR_FILENO);
}

int print_error(const char* message) {
  std::fflush(stdout);
  if (dist::active()) {
    dist::report_failure(message);
    std::fprintf(g_errors, "fames: error (rank %d of %d): %s\n", dist::rank(), dist::size(), message);
  } else {
    std::fprintf(g_errors, "fames: error: %s\n", message);
  }
  std::fflush(g_errors);
  return 1;
}
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
  app.add_option("--dist-timeout", cli::g_options.dist_timeout,
                 "Data-parallel runs (WORLD_SIZE > 1): seconds a rank waits for the others before it "
                 "fails; see scripts/launch.sh")
      ->capture_default_str()
      ->check(cli::in_range(1, 86400));
  app.require_subcommand(1);
  app.fallthrough();
  for (auto& [name, setup] : cli::registry()) setup(app);
  app.parse_complete_callback([&app] {
    cli::join_ranks(cli::g_options, cli::chosen_command(app));
    // Ranks on one machine share its cores.
    const int threads = cli::g_options.threads > 0
                            ? cli::g_options.threads
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / dist::local_size());
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
    return cli::print_error(e.what());
  } catch (const c10::Error& e) {
    return cli::print_error(e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    // Readers refuse inputs beyond their limits before allocating (docs/formats.md); this is a
    // dataset or model too large for the memory the process may use.
    return cli::print_error("out of memory: the inputs need more memory than this process may use (std::bad_alloc)");
  } catch (const std::exception& e) {
    return cli::print_error(e.what());
  }
  if (dist::active() && dist::is_root() && !cli::g_options.quiet) {
    const dist::Traffic traffic = dist::traffic();
    std::fprintf(stderr, "fames: rank 0 of %d: %lld collectives, %.3f MB of payload\n", dist::size(),
                 static_cast<long long>(traffic.collectives), traffic.payload_bytes / 1e6);
  }
  dist::shutdown();
  return 0;
}
