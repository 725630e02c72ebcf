// fames lib show: lists a library's AppMuls with their error metrics and cost, as an aligned table
// or (--json) a JSON array of objects (library.h, appmul_json).
#include <fmt/core.h>

#include <algorithm>
#include <functional>
#include <map>

#include "appmul/library/library.h"
#include "cli/command.h"
#include "cli/common.h"
#include "util/error.h"

namespace fames::cli {
namespace {

struct LibShowArgs {
  std::string dir, bits, sort = "signature";
  bool json = false;
};

// "8x8" matches every signedness of 8x8; a full key ("w8s_a8u") matches exactly.
bool bits_match(const std::string& filter, const Signature& sig) {
  if (filter.empty()) return true;
  if (filter.find('_') != std::string::npos) return Signature::parse(filter) == sig;
  const Signature f = Signature::parse(filter);
  return f.bw == sig.bw && f.ba == sig.ba;
}

using Key = std::function<double(const AppMul&)>;
const std::map<std::string, Key>& sort_keys() {
  static const std::map<std::string, Key> keys{
      {"energy", [](const AppMul& m) { return m.energy_fj; }},
      {"area", [](const AppMul& m) { return m.area_um2; }},
      {"depth", [](const AppMul& m) { return m.depth; }},
      {"er", [](const AppMul& m) { return m.metrics.er; }},
      {"med", [](const AppMul& m) { return m.metrics.med; }},
      {"nmed", [](const AppMul& m) { return m.metrics.nmed; }},
      {"mred", [](const AppMul& m) { return m.metrics.mred; }},
      {"wce", [](const AppMul& m) { return m.metrics.wce; }},
      {"mse", [](const AppMul& m) { return m.metrics.mse; }},
      {"bias", [](const AppMul& m) { return m.metrics.bias; }}};
  return keys;
}

void run_lib_show(const LibShowArgs& args) {
  const Library lib = Library::load(args.dir);
  if (!args.bits.empty()) Signature::parse(args.bits);  // reject a malformed filter early
  std::vector<const AppMul*> rows;
  for (const AppMul& m : lib.all())
    if (bits_match(args.bits, m.signature())) rows.push_back(&m);
  auto by_signature = [](const AppMul* a, const AppMul* b) {
    if (a->signature() != b->signature()) return a->signature() < b->signature();
    return a->energy_fj > b->energy_fj;  // exact (most energy) first within a signature
  };
  if (args.sort == "signature") {
    std::stable_sort(rows.begin(), rows.end(), by_signature);
  } else if (args.sort == "name") {
    std::stable_sort(rows.begin(), rows.end(),
                     [](const AppMul* a, const AppMul* b) { return a->name < b->name; });
  } else {
    auto it = sort_keys().find(args.sort);
    if (it == sort_keys().end())
      fail(
          "--sort '{}': use signature, name, energy, area, depth, er, med, nmed, mred, wce, mse or "
          "bias",
          args.sort);
    const Key key = it->second;
    std::stable_sort(rows.begin(), rows.end(),
                     [&](const AppMul* a, const AppMul* b) { return key(*a) < key(*b); });
  }
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const AppMul* m : rows) out.push_back(appmul_json(*m));
    print_json(out);
    return;
  }
  size_t name_width = 4;
  for (const AppMul* m : rows) name_width = std::max(name_width, m->name.size());
  fmt::print("{:<{}}  {:<8} {:>5} {:>7} {:>9} {:>8} {:>7} {:>9} {:>8} {:>9} {:>5}  {}\n", "name",
             name_width, "sig", "exact", "er", "nmed", "mred", "wce", "bias", "area", "energy",
             "depth", "source");
  for (const AppMul* m : rows) {
    const ErrorMetrics& e = m->metrics;
    fmt::print(
        "{:<{}}  {:<8} {:>5} {:>7.4f} {:>9.2e} {:>8.4f} {:>7.0f} {:>9.2f} {:>8.1f} {:>9.1f} {:>5}  "
        "{}\n",
        m->name, name_width, m->signature().key(), m->exact ? "yes" : "no", e.er, e.nmed, e.mred,
        e.wce, e.bias, m->area_um2, m->energy_fj, m->depth, m->source);
  }
  fmt::print("{} of {} AppMuls (area um^2, energy fJ per multiplication)\n", rows.size(),
             lib.size());
}

void setup_lib_show(CLI::App& root) {
  auto args = std::make_shared<LibShowArgs>();
  CLI::App& group =
      command_group(root, "lib", "Build, inspect, import and export AppMul libraries");
  auto* cmd = group.add_subcommand("show", "List a library's AppMuls with error metrics and cost");
  cmd->footer("Example: fames lib show libs/default --bits 8x8 --sort energy");
  cmd->add_option("dir", args->dir, "Library folder")->required();
  cmd->add_option("--bits", args->bits,
                  "Only this signature: WxA (any signedness) or a key like w8s_a8u");
  cmd->add_option(
         "--sort", args->sort,
         "Order: signature, name, energy, area, depth, er, med, nmed, mred, wce, mse, bias")
      ->capture_default_str();
  cmd->add_flag("--json", args->json,
                "Print a JSON array of objects (name, bw, ba, ..., energy_fj, source)");
  cmd->callback([args] { run_lib_show(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("lib show", fames::cli::setup_lib_show);
