// AppMul and Library: the characterised multipliers downstream stages choose from.
//
// An AppMul is a name, its ProductTable (which fixes the signature), optionally the netlist it came
// from, its error metrics (uniform operands) and hardware cost. A Library is a set of AppMuls with
// unique names, stored as a folder (docs/formats.md, "AppMul library"):
//   index.json       one entry per AppMul with every metric and cost, and its file names
//   <name>.tbl       product table (table_file.h)
//   <name>.blif      netlist (blif.h), when the AppMul has one
// Every file is written atomically, index.json last, so a crash leaves the previous index valid.
// Names are file names: letters, digits, '_', '-', '.'. Not thread-safe for concurrent mutation.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "appmul/netlist/cost.h"
#include "appmul/library/metrics.h"
#include "appmul/netlist/netlist.h"
#include "core/product_table.h"

namespace fames {

struct AppMul {
  std::string name;
  ProductTable table;
  std::optional<Netlist> netlist;
  ErrorMetrics metrics;
  double area_um2 = 0;
  double energy_fj = 0;  // per multiplication (cost.h)
  int depth = 0;
  bool exact = false;  // table == w * a on every pair
  std::string source;  // "exact:array", "family:trunc", "import:file.v", ...

  const Signature& signature() const { return table.signature(); }
};

// Simulates the netlist, computes metrics and cost; the AppMul keeps the netlist.
AppMul characterize(Netlist netlist, std::string source,
                    const CellLibrary& cells = CellLibrary::builtin_45nm(),
                    const CostOptions& cost = {});

// Flat JSON object: name, bw, ba, signed_w, signed_a, exact, er, med, nmed, mred, wce, mse, bias,
// area_um2, energy_fj, depth, source (the library index entry minus file names).
nlohmann::json appmul_json(const AppMul& m);

class Library {
 public:
  // Reads index.json and every table (and netlist when `with_netlists`). Throws fames::Error naming
  // the file for a missing or malformed index, a missing/truncated table, or a table whose
  // signature disagrees with its index entry.
  static Library load(const std::string& dir, bool with_netlists = false);
  // Writes every file atomically, index.json last. Creates `dir`.
  void save(const std::string& dir) const;

  // Adds an AppMul. Throws fames::Error on a duplicate or unusable name.
  void add(AppMul m);
  const std::vector<AppMul>& all() const { return appmuls_; }
  size_t size() const { return appmuls_.size(); }

  // nullptr when absent. Pointers stay valid until the next add().
  const AppMul* find(const std::string& name) const;
  std::vector<const AppMul*> of_signature(const Signature& sig) const;
  // The exact AppMul of `sig` with the lowest energy, or nullptr.
  const AppMul* exact(const Signature& sig) const;
  std::vector<Signature> signatures() const;  // sorted, unique

 private:
  std::vector<AppMul> appmuls_;
};

}  // namespace fames
