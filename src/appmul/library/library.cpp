#include "appmul/library/library.h"

#include <algorithm>
#include <set>

#include "appmul/io/blif.h"
#include "appmul/netlist/simulate.h"
#include "appmul/io/table_file.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

constexpr const char* kIndexFormat = "fames-appmul-library";
constexpr int kIndexVersion = 1;

bool usable_name(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

std::string join(const std::string& dir, const std::string& file) {
  return dir.empty() || dir.back() == '/' ? dir + file : dir + "/" + file;
}

}  // namespace

AppMul characterize(Netlist netlist, std::string source, const CellLibrary& cells,
                    const CostOptions& cost) {
  AppMul m;
  m.name = netlist.name();
  m.table = simulate_table(netlist);
  m.metrics = error_metrics(m.table);
  m.exact = m.table.is_exact();
  const CircuitCost c = circuit_cost(netlist, cells, cost);
  m.area_um2 = c.area_um2;
  m.energy_fj = c.energy_fj;
  m.depth = c.depth;
  m.source = std::move(source);
  m.netlist = std::move(netlist);
  return m;
}

nlohmann::json appmul_json(const AppMul& m) {
  const Signature& s = m.signature();
  const ErrorMetrics& e = m.metrics;
  return {{"name", m.name},
          {"bw", s.bw},
          {"ba", s.ba},
          {"signed_w", s.signed_w},
          {"signed_a", s.signed_a},
          {"exact", m.exact},
          {"er", e.er},
          {"med", e.med},
          {"nmed", e.nmed},
          {"mred", e.mred},
          {"wce", e.wce},
          {"mse", e.mse},
          {"bias", e.bias},
          {"area_um2", m.area_um2},
          {"energy_fj", m.energy_fj},
          {"depth", m.depth},
          {"source", m.source}};
}

void Library::add(AppMul m) {
  if (!usable_name(m.name))
    fail("AppMul name '{}' is not usable as a file name (letters, digits, '_', '-', '.')", m.name);
  if (find(m.name)) fail("the library already has an AppMul named '{}'", m.name);
  appmuls_.push_back(std::move(m));
}

const AppMul* Library::find(const std::string& name) const {
  for (const AppMul& m : appmuls_)
    if (m.name == name) return &m;
  return nullptr;
}

std::vector<const AppMul*> Library::of_signature(const Signature& sig) const {
  std::vector<const AppMul*> out;
  for (const AppMul& m : appmuls_)
    if (m.signature() == sig) out.push_back(&m);
  return out;
}

const AppMul* Library::exact(const Signature& sig) const {
  const AppMul* best = nullptr;
  for (const AppMul* m : of_signature(sig))
    if (m->exact && (!best || m->energy_fj < best->energy_fj)) best = m;
  return best;
}

std::vector<Signature> Library::signatures() const {
  std::set<Signature> sigs;
  for (const AppMul& m : appmuls_) sigs.insert(m.signature());
  return {sigs.begin(), sigs.end()};
}

void Library::save(const std::string& dir) const {
  nlohmann::json entries = nlohmann::json::array();
  for (const AppMul& m : appmuls_) {
    nlohmann::json e = appmul_json(m);
    e["table"] = m.name + ".tbl";
    write_table_file(m.table, join(dir, m.name + ".tbl"));
    if (m.netlist) {
      e["netlist"] = m.name + ".blif";
      write_blif_file(*m.netlist, join(dir, m.name + ".blif"));
    } else {
      e["netlist"] = nullptr;
    }
    entries.push_back(std::move(e));
  }
  const nlohmann::json index{
      {"format", kIndexFormat}, {"version", kIndexVersion}, {"appmuls", entries}};
  write_file_atomic(join(dir, "index.json"), index.dump(1) + "\n");
}

Library Library::load(const std::string& dir, bool with_netlists) {
  const std::string index_path = join(dir, "index.json");
  if (!file_exists(index_path)) fail("{} is not an AppMul library: {} is missing", dir, index_path);
  nlohmann::json index;
  try {
    index = nlohmann::json::parse(read_file(index_path));
  } catch (const nlohmann::json::exception& e) {
    fail("{} is not valid JSON: {}", index_path, e.what());
  }
  if (!index.is_object() || index.value("format", "") != kIndexFormat)
    fail("{} is not an AppMul library index (format is not '{}')", index_path, kIndexFormat);
  if (index.value("version", 0) != kIndexVersion)
    fail("{} has version {}, this build reads {}", index_path, index.value("version", 0),
         kIndexVersion);
  Library lib;
  try {
    for (const nlohmann::json& e : index.at("appmuls")) {
      AppMul m;
      m.name = e.at("name").get<std::string>();
      const Signature sig{e.at("bw").get<int>(), e.at("ba").get<int>(),
                          e.at("signed_w").get<bool>(), e.at("signed_a").get<bool>()};
      const std::string table_path = join(dir, e.at("table").get<std::string>());
      m.table = read_table_file(table_path);
      if (m.table.signature() != sig)
        fail("{} holds a {} table but index.json says {} for '{}'", table_path,
             m.table.signature().key(), sig.key(), m.name);
      m.metrics = ErrorMetrics{e.at("er").get<double>(),   e.at("med").get<double>(),
                               e.at("nmed").get<double>(), e.at("mred").get<double>(),
                               e.at("wce").get<double>(),  e.at("mse").get<double>(),
                               e.at("bias").get<double>()};
      m.exact = e.at("exact").get<bool>();
      m.area_um2 = e.at("area_um2").get<double>();
      m.energy_fj = e.at("energy_fj").get<double>();
      m.depth = e.at("depth").get<int>();
      m.source = e.at("source").get<std::string>();
      if (with_netlists && e.contains("netlist") && e["netlist"].is_string()) {
        BlifReadOptions opt;
        opt.signed_w = sig.signed_w;
        opt.signed_a = sig.signed_a;
        m.netlist = read_blif(join(dir, e["netlist"].get<std::string>()), opt);
      }
      lib.add(std::move(m));
    }
  } catch (const nlohmann::json::exception& e) {
    fail("{} has a malformed entry: {}", index_path, e.what());
  }
  return lib;
}

}  // namespace fames
