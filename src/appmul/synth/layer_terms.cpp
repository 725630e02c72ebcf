#include "appmul/synth/layer_terms.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <ostream>

#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

constexpr char kMagic[8] = {'F', 'A', 'M', 'E', 'S', 'T', 'R', 'M'};

const char* form_name(TermsLayer::Form f) {
  switch (f) {
    case TermsLayer::Form::kNone: return "none";
    case TermsLayer::Form::kDense: return "dense";
    case TermsLayer::Form::kFactor: return "factor";
    case TermsLayer::Form::kProjected: return "projected";
  }
  return "?";
}

// The host is little-endian (x86-64, the only target): arrays are written as they lie in memory.
static_assert(sizeof(double) == 8 && sizeof(float) == 4, "terms file: IEEE float sizes");

template <typename T>
void put(std::ostream& out, const T* data, size_t count) {
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(T)));
}

template <typename T>
std::vector<T> take(const std::vector<unsigned char>& bytes, size_t begin, size_t offset,
                    size_t count, const std::string& path, const std::string& what) {
  const size_t at = begin + offset;
  if (offset > bytes.size() || count > (bytes.size() - at) / sizeof(T) || at > bytes.size())
    fail("{}: truncated payload ({} of layer data past the end of the file)", path, what);
  std::vector<T> v(count);
  if (count) std::memcpy(v.data(), bytes.data() + at, count * sizeof(T));
  return v;
}

// The quadratic model positioned at an error vector e: its value (predict_loss_change) and
// lin = g + He, the gradient that prices a change of a few entries.
class DlEval : public AlsObjectiveEval {
 public:
  DlEval(const TermsLayer& layer, const TermsView& view, const std::vector<double>& diag,
         const std::vector<int32_t>& column_of, const std::vector<int32_t>& errors)
      : l_(layer), diag_(diag), column_of_(column_of), e_(errors.begin(), errors.end()) {
    s_ = static_cast<double>(std::max<int64_t>(1, l_.samples));
    value_ = predict_loss_change(view, errors);
    lin_ = l_.g;
    const size_t t = l_.g.size();
    if (l_.form == TermsLayer::Form::kDense) {
      for (size_t p = 0; p < t; ++p) {
        if (e_[p] == 0) continue;
        const double* row = l_.h.data() + p * t;  // H symmetric: column p = row p
        for (size_t r = 0; r < t; ++r) lin_[r] += row[r] * e_[p];
      }
    } else if (l_.form == TermsLayer::Form::kFactor) {
      const size_t n = l_.support.size();
      for (int64_t r = 0; r < l_.rows; ++r) {
        const float* row = l_.factor.data() + r * n;
        double fe = 0;
        for (size_t c = 0; c < n; ++c) fe += double(row[c]) * e_[l_.support[c]];
        if (fe == 0) continue;
        for (size_t c = 0; c < n; ++c) lin_[l_.support[c]] += double(row[c]) * fe;
      }
    }
  }

  double value() const override { return value_; }

  double candidate(const std::vector<int64_t>& pairs, const std::vector<int32_t>& new_errors,
                   bool exact) override {
    double change = 0, quad = 0;
    for (size_t i = 0; i < pairs.size(); ++i) {
      const double d = new_errors[i] - e_[pairs[i]];
      change += lin_[pairs[i]] * d;
      if (!exact) quad += diag_[pairs[i]] * d * d;
    }
    if (exact && l_.form == TermsLayer::Form::kDense) {
      const size_t t = l_.g.size();
      for (size_t i = 0; i < pairs.size(); ++i) {
        const double di = new_errors[i] - e_[pairs[i]];
        const double* row = l_.h.data() + pairs[i] * t;
        for (size_t j = 0; j < pairs.size(); ++j) quad += di * row[pairs[j]] * (new_errors[j] - e_[pairs[j]]);
      }
    } else if (exact && l_.form == TermsLayer::Form::kFactor) {
      fd_.assign(static_cast<size_t>(l_.rows), 0);
      const size_t n = l_.support.size();
      for (size_t i = 0; i < pairs.size(); ++i) {
        const int32_t c = column_of_[pairs[i]];
        if (c < 0) continue;
        const double d = new_errors[i] - e_[pairs[i]];
        for (int64_t r = 0; r < l_.rows; ++r) fd_[r] += double(l_.factor[r * n + c]) * d;
      }
      for (double v : fd_) quad += v * v;
    }
    return value_ + (change + 0.5 * quad) / s_;
  }

 private:
  const TermsLayer& l_;
  const std::vector<double>& diag_;
  const std::vector<int32_t>& column_of_;
  std::vector<double> e_, lin_, fd_;
  double s_ = 1, value_ = 0;
};

class DlObjective : public AlsObjective {
 public:
  explicit DlObjective(const TermsLayer& layer) : l_(layer), view_(layer.view()) {
    const size_t t = l_.g.size();
    diag_.assign(t, 0);
    column_of_.assign(t, -1);
    if (l_.form == TermsLayer::Form::kDense) {
      for (size_t p = 0; p < t; ++p) diag_[p] = l_.h[p * t + p];
    } else if (l_.form == TermsLayer::Form::kFactor) {
      const size_t n = l_.support.size();
      for (size_t c = 0; c < n; ++c) column_of_[l_.support[c]] = static_cast<int32_t>(c);
      for (int64_t r = 0; r < l_.rows; ++r)
        for (size_t c = 0; c < n; ++c) {
          const double f = l_.factor[r * n + c];
          diag_[l_.support[c]] += f * f;
        }
    }
  }

  std::unique_ptr<AlsObjectiveEval> start(const std::vector<int32_t>& errors) const override {
    if (errors.size() != l_.g.size())
      fail("layer {}: error vector of {} entries, the terms have {}", l_.name, errors.size(),
           l_.g.size());
    return std::make_unique<DlEval>(l_, view_, diag_, column_of_, errors);
  }

 private:
  const TermsLayer& l_;
  TermsView view_;
  std::vector<double> diag_;       // H_pp
  std::vector<int32_t> column_of_;  // table index -> factor column, -1 outside the support
};

}  // namespace

void TermsLayer::validate(const std::string& source) const {
  const int64_t t = signature.table_size();
  if (!signature.valid()) fail("{}: layer '{}': invalid signature", source, name);
  if (static_cast<int64_t>(g.size()) != t)
    fail("{}: layer '{}': g has {} entries, the table {}", source, name, g.size(), t);
  if (samples < 0 || macs < 0) fail("{}: layer '{}': negative samples or macs", source, name);
  if (form == Form::kProjected)
    fail("{}: layer '{}': projected terms predict only the tables they were projected onto", source, name);
  if (form == Form::kDense && static_cast<int64_t>(h.size()) != t * t)
    fail("{}: layer '{}': dense H has {} entries, expected {}", source, name, h.size(), t * t);
  if (form == Form::kFactor) {
    if (rows < 0 || factor.size() != static_cast<size_t>(rows) * support.size())
      fail("{}: layer '{}': factor of {} entries does not match {} rows x {} columns", source, name,
           factor.size(), rows, support.size());
    for (size_t i = 0; i < support.size(); ++i)
      if (support[i] < 0 || support[i] >= t || (i > 0 && support[i] <= support[i - 1]))
        fail("{}: layer '{}': support must be increasing table indices below {}", source, name, t);
  }
}

TermsView TermsLayer::view() const {
  TermsView v;
  v.name = name;
  v.signature = signature;
  v.samples = samples;
  v.g = g.data();
  v.form = form;
  v.h = h.data();
  v.rows = rows;
  v.columns = static_cast<int64_t>(support.size());
  v.support = support.data();
  v.factor = factor.data();
  return v;
}

double TermsLayer::predict(const ProductTable& table) const {
  return predict_loss_change(view(), {&table}).front();
}

void TermsFile::save(const std::string& path) const {
  nlohmann::json header = {{"format", "fames-layer-terms"}, {"model", model}, {"hessian", hessian}};
  nlohmann::json layers_json = nlohmann::json::array();
  uint64_t offset = 0;
  for (const TermsLayer& l : layers) {
    l.validate(path);
    nlohmann::json j = {{"name", l.name},        {"signature", l.signature.key()},
                        {"macs", l.macs},        {"samples", l.samples},
                        {"table_size", l.g.size()}, {"h", form_name(l.form)},
                        {"g_offset", offset}};
    offset += l.g.size() * sizeof(double);
    if (l.form == TermsLayer::Form::kDense) {
      j["h_offset"] = offset;
      offset += l.h.size() * sizeof(double);
    } else if (l.form == TermsLayer::Form::kFactor) {
      j["rows"] = l.rows;
      j["support_size"] = l.support.size();
      j["support_offset"] = offset;
      offset += l.support.size() * sizeof(int64_t);
      j["factor_offset"] = offset;
      offset += l.factor.size() * sizeof(float);
    }
    layers_json.push_back(std::move(j));
  }
  header["layers"] = std::move(layers_json);
  header["payload_bytes"] = offset;
  const std::string text = header.dump();
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(kMagic, sizeof(kMagic));
    const uint32_t version = kVersion;
    const uint64_t length = text.size();
    put(out, &version, 1);
    put(out, &length, 1);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const TermsLayer& l : layers) {
      put(out, l.g.data(), l.g.size());
      if (l.form == TermsLayer::Form::kDense) put(out, l.h.data(), l.h.size());
      if (l.form == TermsLayer::Form::kFactor) {
        put(out, l.support.data(), l.support.size());
        put(out, l.factor.data(), l.factor.size());
      }
    }
  });
}

TermsFile TermsFile::load(const std::string& path) {
  const std::vector<unsigned char> bytes = read_file_bytes(path);
  constexpr size_t kFixed = sizeof(kMagic) + sizeof(uint32_t) + sizeof(uint64_t);
  if (bytes.size() < kFixed || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    fail("{}: not a layer terms file (no FAMESTRM magic)", path);
  uint32_t version = 0;
  uint64_t length = 0;
  std::memcpy(&version, bytes.data() + 8, sizeof(version));
  std::memcpy(&length, bytes.data() + 12, sizeof(length));
  if (version != kVersion) fail("{}: layer terms version {} (this fames reads {})", path, version, kVersion);
  if (length > bytes.size() - kFixed) fail("{}: truncated header", path);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + kFixed, bytes.begin() + kFixed + length);
  } catch (const std::exception& e) {
    fail("{}: malformed JSON header: {}", path, e.what());
  }
  const size_t begin = kFixed + length;
  TermsFile file;
  try {
    file.model = header.value("model", "");
    file.hessian = header.value("hessian", "");
    for (const auto& j : header.at("layers")) {
      TermsLayer l;
      l.name = j.at("name").get<std::string>();
      l.signature = Signature::parse(j.at("signature").get<std::string>());
      l.macs = j.at("macs").get<int64_t>();
      l.samples = j.at("samples").get<int64_t>();
      const size_t t = j.at("table_size").get<size_t>();
      if (static_cast<int64_t>(t) != l.signature.table_size())
        fail("{}: layer '{}': table_size {} does not match {}", path, l.name, t, l.signature.key());
      l.g = take<double>(bytes, begin, j.at("g_offset").get<size_t>(), t, path, "g");
      const std::string form = j.at("h").get<std::string>();
      if (form == "dense") {
        l.form = TermsLayer::Form::kDense;
        l.h = take<double>(bytes, begin, j.at("h_offset").get<size_t>(), t * t, path, "H");
      } else if (form == "factor") {
        l.form = TermsLayer::Form::kFactor;
        l.rows = j.at("rows").get<int64_t>();
        const size_t n = j.at("support_size").get<size_t>();
        if (l.rows < 0 || n > t) fail("{}: layer '{}': bad factor shape", path, l.name);
        l.support = take<int64_t>(bytes, begin, j.at("support_offset").get<size_t>(), n, path, "support");
        l.factor = take<float>(bytes, begin, j.at("factor_offset").get<size_t>(),
                               static_cast<size_t>(l.rows) * n, path, "factor");
      } else if (form != "none") {
        fail("{}: layer '{}': unknown H form '{}' (none, dense, factor)", path, l.name, form);
      }
      l.validate(path);
      file.layers.push_back(std::move(l));
    }
  } catch (const nlohmann::json::exception& e) {
    fail("{}: malformed header: {}", path, e.what());
  }
  return file;
}

const TermsLayer* TermsFile::find(const std::string& name) const {
  for (const TermsLayer& l : layers)
    if (l.name == name) return &l;
  return nullptr;
}

std::unique_ptr<AlsObjective> make_dl_objective(const TermsLayer& layer) {
  return std::make_unique<DlObjective>(layer);
}

}  // namespace fames
