#include "core/operand_histogram.h"

#include <cmath>

#include "core/json_fields.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

constexpr const char* kFormat = "fames-operand-histogram";
constexpr int kVersion = 1;

// A JSON array of `size` non-negative finite numbers; `what` names it in errors.
std::vector<double> read_numbers(const nlohmann::json& j, size_t size, const std::string& what) {
  if (!j.is_array() || j.size() != size)
    fail("{} must be an array of {} numbers", what, size);
  std::vector<double> out;
  out.reserve(size);
  for (const auto& v : j) {
    if (!v.is_number()) fail("{} must be an array of {} numbers", what, size);
    const double x = v.get<double>();
    if (!(x >= 0) || !std::isfinite(x)) fail("{} has a negative or non-finite entry", what);
    out.push_back(x);
  }
  return out;
}

std::vector<double> read_entry(const Signature& sig, const nlohmann::json& entry,
                               const std::string& what) {
  if (!entry.is_object()) fail("{} must be an object", what);
  const bool full = entry.contains("counts");
  const bool marginals = entry.contains("weight_counts") || entry.contains("activation_counts");
  if (full == marginals)
    fail("{} needs either \"counts\" or both \"weight_counts\" and \"activation_counts\"", what);
  const size_t rows = static_cast<size_t>(sig.weight_levels());
  const size_t cols = static_cast<size_t>(sig.act_levels());
  std::vector<double> weights;
  weights.reserve(rows * cols);
  if (full) {
    const nlohmann::json& table = entry["counts"];
    if (!table.is_array() || table.size() != rows)
      fail("{}: \"counts\" must have {} rows (one per raw weight code)", what, rows);
    for (size_t w = 0; w < rows; ++w) {
      const auto row = read_numbers(table[w], cols, fmt::format("{}: \"counts\" row {}", what, w));
      weights.insert(weights.end(), row.begin(), row.end());
    }
  } else {
    if (!entry.contains("weight_counts") || !entry.contains("activation_counts"))
      fail("{} needs both \"weight_counts\" and \"activation_counts\"", what);
    const auto wc = read_numbers(entry["weight_counts"], rows, what + ": \"weight_counts\"");
    const auto ac = read_numbers(entry["activation_counts"], cols, what + ": \"activation_counts\"");
    for (double w : wc)
      for (double a : ac) weights.push_back(w * a);
  }
  check_pair_weights(sig, weights, what);
  return weights;
}

}  // namespace

void check_pair_weights(const Signature& sig, const std::vector<double>& weights,
                        const std::string& what) {
  if (static_cast<int64_t>(weights.size()) != sig.table_size())
    fail("{} has {} entries, expected {}", what, weights.size(), sig.table_size());
  double sum = 0;
  for (double p : weights) {
    if (!(p >= 0) || !std::isfinite(p)) fail("{} has a negative or non-finite weight", what);
    sum += p;
  }
  if (!(sum > 0) || !std::isfinite(sum)) fail("{} is all zero (or overflows)", what);
}

OperandHistograms OperandHistograms::load(const std::string& path) {
  return from_json(detail::parse_json_file_text(read_file(path), "operand histogram " + path),
                   "operand histogram " + path);
}

OperandHistograms OperandHistograms::from_json(const nlohmann::json& doc, const std::string& origin) {
  if (!doc.is_object() || !doc.contains("format") || doc["format"] != kFormat)
    fail("{} is not a fames operand histogram (\"format\": \"{}\" missing)", origin, kFormat);
  if (!doc.contains("version") || doc["version"] != kVersion)
    fail("{} has an unsupported version (expected {})", origin, kVersion);
  if (!doc.contains("signatures") || !doc["signatures"].is_object() || doc["signatures"].empty())
    fail("{} has no \"signatures\" object", origin);
  OperandHistograms h;
  if (doc.contains("source")) h.source = doc["source"];
  for (const auto& [key, entry] : doc["signatures"].items()) {
    Signature sig;
    try {
      sig = Signature::parse(key);
    } catch (const Error& e) {
      fail("{}: {}", origin, e.what());
    }
    if (h.weights_.count(sig)) fail("{} lists {} twice", origin, sig.key());
    h.weights_[sig] = read_entry(sig, entry, fmt::format("{} for {}", origin, key));
  }
  return h;
}

nlohmann::json OperandHistograms::to_json() const {
  nlohmann::json sigs = nlohmann::json::object();
  for (const auto& [sig, weights] : weights_) {
    nlohmann::json rows = nlohmann::json::array();
    const size_t cols = static_cast<size_t>(sig.act_levels());
    for (size_t begin = 0; begin < weights.size(); begin += cols)
      rows.push_back(std::vector<double>(weights.begin() + begin, weights.begin() + begin + cols));
    sigs[sig.key()] = {{"counts", rows}};
  }
  return {{"format", kFormat}, {"version", kVersion}, {"source", source}, {"signatures", sigs}};
}

void OperandHistograms::save(const std::string& path) const {
  write_file_atomic(path, to_json().dump() + "\n");
}

void OperandHistograms::add_counts(const Signature& sig, const std::vector<double>& counts) {
  if (static_cast<int64_t>(counts.size()) != sig.table_size())
    fail("operand counts for {} have {} entries, expected {}", sig.key(), counts.size(), sig.table_size());
  std::vector<double>& weights = weights_[sig];
  weights.resize(counts.size(), 0.0);
  for (size_t p = 0; p < counts.size(); ++p) {
    if (!(counts[p] >= 0) || !std::isfinite(counts[p]))
      fail("operand counts for {} have a negative or non-finite entry", sig.key());
    weights[p] += counts[p];
  }
}

const std::vector<double>* OperandHistograms::find(const Signature& sig) const {
  const auto it = weights_.find(sig);
  return it == weights_.end() ? nullptr : &it->second;
}

std::vector<Signature> OperandHistograms::signatures() const {
  std::vector<Signature> out;
  for (const auto& entry : weights_) out.push_back(entry.first);
  return out;
}

}  // namespace fames
