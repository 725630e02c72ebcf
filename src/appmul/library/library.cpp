#include "appmul/library/library.h"

#include <algorithm>
#include <set>

#include "appmul/io/blif.h"
#include "appmul/library/library_index.h"
#include "appmul/netlist/simulate.h"
#include "appmul/io/table_file.h"
#include "core/json_fields.h"
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

namespace {

// A number >= 0 (finite, as JsonFields::number guarantees).
double non_negative(const detail::JsonFields& f, const char* key) {
  const double v = f.number(key);
  if (v < 0) f.fail_here(fmt::format("\"{}\" is {}; it must be >= 0", key, v));
  return v;
}

bool boolean(const detail::JsonFields& f, const char* key) {
  const nlohmann::json& v = f.raw(key);
  if (!v.is_boolean()) f.fail_here(fmt::format("\"{}\" must be true or false", key));
  return v.get<bool>();
}

// A file name inside the library folder: no path separator, no leading dot (so no "../").
std::string file_in_folder(const detail::JsonFields& f, const char* key) {
  const std::string name = f.string(key);
  if (!usable_name(name))
    f.fail_here(fmt::format("\"{}\" is '{}'; it must name a file inside the library folder "
                            "(letters, digits, '_', '-', '.', no leading '.')",
                            key, name));
  return name;
}

LibraryIndexEntry parse_entry(const detail::JsonFields& f) {
  LibraryIndexEntry entry;
  AppMul& m = entry.appmul;
  m.name = f.string("name");
  if (!usable_name(m.name))
    f.fail_here(fmt::format("AppMul name '{}' is not usable as a file name", m.name));
  const int64_t bw = f.integer("bw"), ba = f.integer("ba");
  if (bw < 1 || bw > 8 || ba < 1 || ba > 8)
    f.fail_here(fmt::format("operand widths {}x{} are outside 1..8", bw, ba));
  entry.signature = Signature{static_cast<int>(bw), static_cast<int>(ba), boolean(f, "signed_w"),
                              boolean(f, "signed_a")};
  m.metrics = ErrorMetrics{non_negative(f, "er"),   non_negative(f, "med"),
                           non_negative(f, "nmed"), non_negative(f, "mred"),
                           non_negative(f, "wce"),  non_negative(f, "mse"),
                           f.number("bias")};
  m.exact = boolean(f, "exact");
  m.area_um2 = non_negative(f, "area_um2");
  m.energy_fj = non_negative(f, "energy_fj");
  const int64_t depth = f.integer("depth");
  if (depth < 0 || depth > (int64_t{1} << 30))
    f.fail_here(fmt::format("\"depth\" is {}; it must be 0..2^30", depth));
  m.depth = static_cast<int>(depth);
  m.source = f.string("source");
  entry.table_file = file_in_folder(f, "table");
  if (f.has("netlist") && !f.raw("netlist").is_null())
    entry.netlist_file = file_in_folder(f, "netlist");
  return entry;
}

}  // namespace

std::vector<LibraryIndexEntry> parse_library_index(const std::string& text,
                                                   const std::string& index_path) {
  const nlohmann::json index = detail::parse_json_file_text(text, index_path);
  if (!index.is_object() || !index.contains("format") || index["format"] != kIndexFormat)
    fail("{} is not an AppMul library index (format is not '{}')", index_path, kIndexFormat);
  const detail::JsonFields root(index, index_path, "");
  const int64_t version = root.integer("version");
  if (version != kIndexVersion)
    fail("{} has version {}, this build reads {}", index_path, version, kIndexVersion);
  const nlohmann::json& appmuls = root.array("appmuls");
  std::vector<LibraryIndexEntry> entries;
  std::set<std::string> names;
  for (size_t i = 0; i < appmuls.size(); ++i) {
    const detail::JsonFields f = root.element("appmuls", i);
    entries.push_back(parse_entry(f));
    if (!names.insert(entries.back().appmul.name).second)
      f.fail_here(fmt::format("AppMul '{}' is listed twice", entries.back().appmul.name));
  }
  return entries;
}

void check_index_entry(const LibraryIndexEntry& entry, const ProductTable& table,
                       const std::string& table_path) {
  const std::string& name = entry.appmul.name;
  if (table.signature() != entry.signature)
    fail("{} holds a {} table but index.json says {} for '{}'", table_path,
         table.signature().key(), entry.signature.key(), name);
  if (entry.appmul.exact != table.is_exact())
    fail("{}: index.json says '{}' is {}exact, but its table is {}", table_path, name,
         entry.appmul.exact ? "" : "not ", entry.appmul.exact ? "not" : "exact");
}

Library Library::load(const std::string& dir, bool with_netlists) {
  const std::string index_path = join(dir, "index.json");
  if (!file_exists(index_path)) fail("{} is not an AppMul library: {} is missing", dir, index_path);
  Library lib;
  for (LibraryIndexEntry& entry : parse_library_index(read_file(index_path), index_path)) {
    AppMul m = std::move(entry.appmul);
    const std::string table_path = join(dir, entry.table_file);
    m.table = read_table_file(table_path);
    check_index_entry(entry, m.table, table_path);
    if (with_netlists && !entry.netlist_file.empty()) {
      BlifReadOptions opt;
      opt.signed_w = entry.signature.signed_w;
      opt.signed_a = entry.signature.signed_a;
      m.netlist = read_blif(join(dir, entry.netlist_file), opt);
    }
    lib.add(std::move(m));
  }
  return lib;
}

}  // namespace fames
