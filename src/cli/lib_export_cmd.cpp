// fames lib export: writes one AppMul of a library folder as structural Verilog, BLIF or a .npy
// product table, for synthesis tools, other simulators or GPU emulators.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "appmul/io/blif.h"
#include "appmul/library/library.h"
#include "appmul/io/table_import.h"
#include "appmul/io/verilog.h"
#include "cli/command.h"
#include "util/error.h"

namespace {

struct ExportFlags {
  std::string dir, name, verilog, blif, npy, module;
  bool json = false;
};

void run_export(const ExportFlags& flags) {
  using namespace fames;
  if (flags.verilog.empty() && flags.blif.empty() && flags.npy.empty())
    fail("nothing to write: give --verilog FILE, --blif FILE or --npy FILE");
  const bool need_netlist = !flags.verilog.empty() || !flags.blif.empty();
  const Library lib = Library::load(flags.dir, need_netlist);
  const AppMul* m = lib.find(flags.name);
  if (!m) fail("{} has no AppMul named '{}'", flags.dir, flags.name);
  if (need_netlist && !m->netlist)
    fail("AppMul '{}' in {} has no circuit (it came from a table: {}); only --npy can export it",
         flags.name, flags.dir, m->source);
  nlohmann::json written = nlohmann::json::object();
  if (!flags.verilog.empty()) {
    write_verilog_file(*m->netlist, flags.verilog, flags.module.empty() ? m->name : flags.module);
    written["verilog"] = flags.verilog;
  }
  if (!flags.blif.empty()) {
    Netlist named = *m->netlist;
    named.set_name(flags.module.empty() ? m->name : flags.module);
    write_blif_file(named, flags.blif);
    written["blif"] = flags.blif;
  }
  if (!flags.npy.empty()) {
    write_npy_table(m->table, flags.npy);
    written["npy"] = flags.npy;
  }
  if (flags.json) {
    nlohmann::json report = appmul_json(*m);
    report["written"] = written;
    fmt::print("{}\n", report.dump(2));
    return;
  }
  for (const auto& [format, path] : written.items())
    fmt::print("wrote {} ({} {}{})\n", path.get<std::string>(), m->name, m->signature().key(),
               m->netlist ? fmt::format(", {} gates", m->netlist->gate_count()) : "");
}

void setup_lib_export(CLI::App& root) {
  auto& lib =
      fames::cli::command_group(root, "lib", "Build, inspect, import and export AppMul libraries");
  auto* cmd =
      lib.add_subcommand("export", "Write one AppMul as Verilog, BLIF or a .npy product table");
  cmd->footer(
      "Verilog is one module of assign statements with ports A (activation), B (weight) and O\n"
      "(product); BLIF as blif.h writes it; .npy is int32 with rows = weights (docs/formats.md).\n"
      "Example: fames lib export lib/evo mul8u_1DMU --verilog mul8u_1DMU.v");
  auto flags = std::make_shared<ExportFlags>();
  cmd->add_option("dir", flags->dir, "Library folder")->required();
  cmd->add_option("name", flags->name, "AppMul name")->required();
  cmd->add_option("--verilog", flags->verilog,
                  "Write the circuit as structural Verilog to this file");
  cmd->add_option("--blif", flags->blif, "Write the circuit as BLIF to this file");
  cmd->add_option("--npy", flags->npy, "Write the product table as NumPy .npy to this file");
  cmd->add_option("--module", flags->module,
                  "Module/model name in the written circuit (default: the AppMul name)");
  cmd->add_flag("--json", flags->json, "Print the AppMul and the files written as JSON");
  cmd->callback([flags] { run_export(*flags); });
}

}  // namespace
FAMES_REGISTER_COMMAND("lib export", setup_lib_export);
