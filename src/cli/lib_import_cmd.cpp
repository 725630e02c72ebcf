// fames lib import: adds multipliers made elsewhere (structural Verilog, BLIF, raw or .npy product
// tables) to a library folder, creating it if needed. Circuits are simulated and costed like
// generated ones; a table has no circuit, so its energy is --energy-fj, or, when unknown, assumed
// equal to the exact multiplier's of its signature (no saving claimed), and the command says so.
#include <fmt/core.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "appmul/io/appmul_import.h"
#include "appmul/synth/generators.h"
#include "appmul/library/library.h"
#include "cli/command.h"
#include "cli/common.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace {

struct ImportFlags {
  std::vector<std::string> files;
  std::string into, bits, name, layout = "wa";
  double energy_fj = -1;  // < 0: not given
  bool json = false;
  fames::MultiplierImportOptions import;
};

// Energy of the exact multiplier of `sig`: the library's cheapest exact one, else a generated Dadda
// multiplier costed by the built-in model.
std::pair<double, std::string> exact_energy(const fames::Library& lib,
                                            const fames::Signature& sig) {
  using namespace fames;
  if (const AppMul* e = lib.exact(sig)) return {e->energy_fj, e->name};
  const AppMul e =
      characterize(generate_multiplier(sig, GeneratorSpec{Family::kExactDadda, 0, 0}), "");
  return {e.energy_fj, e.name};
}

fames::AppMul to_appmul(fames::ImportedMultiplier in, const std::string& path,
                        const std::string& name, const ImportFlags& flags,
                        const fames::Library& lib, std::string* note) {
  using namespace fames;
  const std::string file = std::filesystem::path(path).filename().string();
  if (in.netlist) {
    const std::string source = in.synthesis.empty()
                                   ? fmt::format("import:{}", file)
                                   : fmt::format("import:{} (yosys: {})", file, in.synthesis);
    AppMul m = characterize(std::move(*in.netlist), source);
    m.name = name;
    return m;
  }
  AppMul m;
  m.name = name;
  m.table = std::move(in.table);
  m.metrics = error_metrics(m.table);
  m.exact = m.table.is_exact();
  if (flags.energy_fj >= 0) {
    m.energy_fj = flags.energy_fj;
    m.source =
        fmt::format("import:{} (table; energy {} fJ from --energy-fj)", file, flags.energy_fj);
    return m;
  }
  const auto [energy, reference] = exact_energy(lib, m.signature());
  m.energy_fj = energy;
  m.source =
      fmt::format("import:{} (table; energy unknown, assumed equal to exact {})", file, reference);
  *note = fmt::format(
      "{}: a table has no circuit, so its energy is unknown; recorded as the exact "
      "multiplier's {:.1f} fJ (no saving). Pass --energy-fj to set it.",
      name, energy);
  return m;
}

void run_import(ImportFlags& flags) {
  using namespace fames;
  if (!flags.bits.empty()) {
    Signature s;
    try {
      s = Signature::parse(flags.bits);
    } catch (const Error& e) {
      fail("--bits: {}", e.what());
    }
    flags.import.bw = s.bw;
    flags.import.ba = s.ba;
  }
  flags.import.layout = parse_table_layout(flags.layout);
  if (!flags.name.empty() && flags.files.size() != 1) fail("--name needs exactly one FILE");
  for (const std::string& f : flags.files)
    if (!is_importable_file(f))
      fail("{}: unknown format (expected .v, .blif, .npy, .bin, .tbl, .u16 or .i16)", f);

  const bool existing = file_exists(flags.into + "/index.json");
  Library lib = existing ? Library::load(flags.into, /*with_netlists=*/true) : Library();
  nlohmann::json report = nlohmann::json::array();
  std::vector<std::string> notes;
  Progress progress("importing", static_cast<int64_t>(flags.files.size()), "files");
  for (const std::string& path : flags.files) {
    ImportedMultiplier in = import_multiplier(path, flags.import);
    if (in.netlist && flags.energy_fj >= 0)
      fail("{}: --energy-fj is for tables; a circuit's energy comes from its gates", path);
    const std::string name = flags.name.empty() ? in.name : flags.name;
    const std::string format = in.format;
    const int64_t gates = in.netlist ? in.netlist->gate_count() : 0;
    std::string note;
    AppMul m = to_appmul(std::move(in), path, name, flags, lib, &note);
    if (!note.empty()) notes.push_back(note);
    nlohmann::json entry = appmul_json(m);
    entry["format"] = format;
    entry["file"] = path;
    entry["gates"] = gates;
    entry["energy_known"] = note.empty();
    report.push_back(entry);
    lib.add(std::move(m));
    progress.advance(1, name);
  }
  progress.finish();
  lib.save(flags.into);

  if (flags.json) {
    fmt::print("{}\n", report.dump(2));
  } else {
    fmt::print("{:<28} {:<9} {:<8} {:>6} {:>9} {:>9} {:>10}\n", "name", "signature", "format",
               "gates", "MRED %", "WCE", "energy fJ");
    for (const auto& e : report) {
      const Signature s{e["bw"].get<int>(), e["ba"].get<int>(), e["signed_w"].get<bool>(),
                        e["signed_a"].get<bool>()};
      fmt::print("{:<28} {:<9} {:<8} {:>6} {:>9.3f} {:>9.0f} {:>9.1f}{}\n",
                 e["name"].get<std::string>(), s.key(), e["format"].get<std::string>(),
                 e["gates"].get<int64_t>(), 100 * e["mred"].get<double>(), e["wce"].get<double>(),
                 e["energy_fj"].get<double>(), e["energy_known"].get<bool>() ? " " : "*");
    }
    for (const std::string& n : notes) fmt::print("* {}\n", n);
    fmt::print("{} {} AppMul(s) to {}, which now holds {}\n",
               existing ? "added" : "created the library and added", report.size(), flags.into,
               lib.size());
  }
}

void setup_lib_import(CLI::App& root) {
  auto& lib =
      fames::cli::command_group(root, "lib", "Build, inspect, import and export AppMul libraries");
  auto* cmd = lib.add_subcommand("import",
                                 "Add multipliers from Verilog, BLIF or table files to a library");
  cmd->footer(
      "The format follows the extension: .v structural Verilog, .blif BLIF, .npy NumPy table,\n"
      ".bin/.tbl/.u16/.i16 raw 16-bit table (docs/formats.md). Circuits are simulated, measured\n"
      "and costed; tables get their error metrics, and energy from --energy-fj (else assumed\n"
      "equal to the exact multiplier's, and the command says so). The library folder is created\n"
      "if missing; if any file fails, nothing is added.\n"
      "Example: fames lib import mul8u_1DMU.v mul8u_FTA.v --into lib/evo");
  auto flags = std::make_shared<ImportFlags>();
  cmd->add_option("files", flags->files, "Files to import")->required();
  cmd->add_option("--into", flags->into, "Library folder to add to (created if missing)")
      ->required();
  cmd->add_option(
      "--bits", flags->bits,
      "Operand widths WxA (weight x activation), e.g. 4x4: needed for raw tables other than "
      "256x256; checked against circuits and .npy shapes");
  cmd->add_flag("--signed-w", flags->import.signed_w, "The weight operand (B) is two's complement");
  cmd->add_flag("--signed-a", flags->import.signed_a,
                "The activation operand (A) is two's complement");
  cmd->add_option("--name", flags->name,
                  "Name of the AppMul (one FILE only; default: the file name's stem)");
  cmd->add_option("--layout", flags->layout,
                  "Tables: wa = rows are weights (default), aw = rows are activations")
      ->check(CLI::IsMember({"wa", "aw"}));
  cmd->add_option("--energy-fj", flags->energy_fj, "Tables: energy per multiplication in fJ")
      ->check(fames::cli::at_least(0));
  cmd->add_option("--a-port", flags->import.a_port,
                  "Verilog/BLIF: the activation operand's port (default: first input)");
  cmd->add_option("--b-port", flags->import.b_port,
                  "Verilog/BLIF: the weight operand's port (default: second input)");
  cmd->add_option("--out-port", flags->import.out_port,
                  "Verilog/BLIF: the product port (default: the only output)");
  cmd->add_option("--top", flags->import.top,
                  "Verilog: the top module (default: the one no module instantiates)");
  cmd->add_flag("--json", flags->json, "Print the imported AppMuls as a JSON array");
  cmd->callback([flags] { run_import(*flags); });
}

}  // namespace
FAMES_REGISTER_COMMAND("lib import", setup_lib_import);
