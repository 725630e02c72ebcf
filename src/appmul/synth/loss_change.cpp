#include "appmul/synth/loss_change.h"

#include <algorithm>

#include "util/error.h"

namespace fames {
namespace {

// sum_i a[i] * b[i] in four interleaved partial sums (a dependency chain per sum, not one for all).
template <typename A>
double dot(const A* a, const double* b, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += double(a[i]) * b[i];
    s1 += double(a[i + 1]) * b[i + 1];
    s2 += double(a[i + 2]) * b[i + 2];
    s3 += double(a[i + 3]) * b[i + 3];
  }
  for (; i < n; ++i) s0 += double(a[i]) * b[i];
  return (s0 + s1) + (s2 + s3);
}

// q(e_j) of every error vector (columns: for kProjected, the column of P each one stands for).
std::vector<double> curvature(const TermsView& v, const std::vector<std::vector<double>>& e,
                              const std::vector<int64_t>& columns) {
  const size_t m = e.size();
  std::vector<double> q(m, 0.0);
  const int64_t t = v.signature.table_size();
  if (v.form == TermsForm::kDense) {
    for (int64_t p = 0; p < t; ++p) {  // row p of H once for every vector
      const double* row = v.h + p * t;
      for (size_t j = 0; j < m; ++j)
        if (e[j][p] != 0) q[j] += e[j][p] * dot(row, e[j].data(), t);
    }
  } else if (v.form == TermsForm::kFactor) {
    const int64_t n = v.columns;
    std::vector<std::vector<double>> on_support(m, std::vector<double>(static_cast<size_t>(n)));
    for (size_t j = 0; j < m; ++j)
      for (int64_t c = 0; c < n; ++c) on_support[j][c] = e[j][v.support[c]];
    for (int64_t r = 0; r < v.rows; ++r)
      for (size_t j = 0; j < m; ++j) {
        const double fe = dot(v.factor + r * n, on_support[j].data(), n);
        q[j] += fe * fe;
      }
  } else if (v.form == TermsForm::kProjected) {
    for (int64_t r = 0; r < v.rows; ++r)
      for (size_t j = 0; j < m; ++j) {
        const double pe = v.factor[r * v.columns + columns[j]];
        q[j] += pe * pe;
      }
  }
  return q;
}

std::vector<double> predict(const TermsView& v, const std::vector<std::vector<double>>& e,
                            const std::vector<int64_t>& columns) {
  const double s = static_cast<double>(std::max<int64_t>(1, v.samples));
  const int64_t t = v.signature.table_size();
  const std::vector<double> q = curvature(v, e, columns);
  std::vector<double> dl(e.size());
  for (size_t j = 0; j < e.size(); ++j) {
    const double first = v.g ? dot(v.g, e[j].data(), t) : 0.0;
    dl[j] = (first + 0.5 * q[j]) / s;
  }
  return dl;
}

std::vector<double> as_double(const std::vector<int32_t>& errors) {
  return std::vector<double>(errors.begin(), errors.end());
}

}  // namespace

std::vector<double> predict_loss_change(const TermsView& terms,
                                        const std::vector<const ProductTable*>& tables) {
  std::vector<std::vector<double>> e;
  std::vector<int64_t> columns;
  for (const ProductTable* table : tables) {
    if (table->signature() != terms.signature)
      fail("layer {}: table of {} does not fit the layer's {}", terms.name, table->signature().key(),
           terms.signature.key());
    if (terms.form == TermsForm::kProjected) {
      const auto at = std::find(terms.projected->begin(), terms.projected->end(), table);
      if (at == terms.projected->end())
        fail("predict: layer {}'s terms were projected onto the library's {} multipliers, not onto this table",
             terms.name, table->signature().key());
      columns.push_back(at - terms.projected->begin());
    }
    e.push_back(as_double(table->errors()));
  }
  return predict(terms, e, columns);
}

double predict_loss_change(const TermsView& terms, const std::vector<int32_t>& errors) {
  if (static_cast<int64_t>(errors.size()) != terms.signature.table_size())
    fail("layer {}: error vector of {} entries, the terms have {}", terms.name, errors.size(),
         terms.signature.table_size());
  if (terms.form == TermsForm::kProjected)
    fail("predict: layer {}'s terms were projected onto the library's multipliers; they predict only those",
         terms.name);
  return predict(terms, {as_double(errors)}, {}).front();
}

}  // namespace fames
