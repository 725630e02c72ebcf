// Rank correlations between predicted and measured values (ties get average ranks).
#pragma once
#include <vector>

namespace fames::estimate {

// Spearman's rho: Pearson correlation of the average ranks. NaN if fewer than 2 values or a
// constant input. REQUIRES x.size() == y.size().
double spearman(const std::vector<double>& x, const std::vector<double>& y);
// Kendall's tau-b (tie-corrected). NaN if fewer than 2 values or a constant input.
double kendall(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace fames::estimate
