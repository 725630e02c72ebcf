// Operand histograms: how often each (weight code, activation code) pair is multiplied, per
// signature. ALS (als.h, AlsOptions::pair_weights) measures its error under them instead of under
// the uniform distribution; `fames lib histogram` counts them from a model's quantized layers.
//
// Weights are in ProductTable layout (index w_raw * 2^ba + a_raw, raw = the code's bit pattern,
// two's complement for signed operands), non-negative, finite, not all zero, of any scale (counts
// or probabilities: only ratios matter).
//
// File (JSON, docs/appmul-library.md "Operand histograms"):
//   {"format": "fames-operand-histogram", "version": 1, "source": {...free-form provenance...},
//    "signatures": {"w4s_a4u": {"counts": [[c(w_raw=0, a_raw=0), c(0, 1), ...], ...]}, ...}}
// with "counts" a full table: 2^bw rows (row = raw weight code) of 2^ba numbers (column = raw
// activation code). Instead of "counts" an entry may give "weight_counts" [2^bw] and
// "activation_counts" [2^ba] (raw-code order): the pair weight is then their product (operands
// taken as independent). save() always writes full tables.
#pragma once
#include <nlohmann/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "core/signature.h"

namespace fames {

// Throws fames::Error (message starting with `what`, e.g. "operand histogram F for w4s_a4u")
// unless `weights` has sig.table_size() entries, all finite and >= 0, with a positive finite sum.
void check_pair_weights(const Signature& sig, const std::vector<double>& weights,
                        const std::string& what);

class OperandHistograms {
 public:
  // Reads and checks a file. Throws fames::Error naming the file for unreadable or malformed
  // JSON, a wrong format tag or version, an unknown signature key, a table or marginal of the
  // wrong shape, negative or non-finite entries, an all-zero entry, or both or neither forms.
  static OperandHistograms load(const std::string& path);
  // `origin` names the document in error messages.
  static OperandHistograms from_json(const nlohmann::json& doc, const std::string& origin);
  nlohmann::json to_json() const;
  // Writes atomically (full tables).
  void save(const std::string& path) const;

  // Adds `counts` (table layout) to the signature's weights (created if absent). Throws
  // fames::Error on a size mismatch or a negative or non-finite entry.
  void add_counts(const Signature& sig, const std::vector<double>& counts);

  // The signature's pair weights, or nullptr when the histogram does not cover it.
  const std::vector<double>* find(const Signature& sig) const;
  std::vector<Signature> signatures() const;  // sorted
  bool empty() const { return weights_.empty(); }

  nlohmann::json source = nlohmann::json::object();  // provenance (model, samples, ...)

 private:
  std::map<Signature, std::vector<double>> weights_;
};

}  // namespace fames
