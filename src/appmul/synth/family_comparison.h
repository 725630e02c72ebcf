// `fames lib compare` as a library call: does the ALS front of one signature dominate the classic
// families (dominance.h)? For every family member of the chosen families whose error lies in
// [min_error, max_error], the cheapest ALS front member with no more error, and whether it is
// cheaper. The ALS members come from a library folder (members with source "als:*") or are built on
// the spot (als_library.h). With operand histograms every error, ALS and family members alike, is
// measured under the signature's pair frequencies (and ALS built here uses them too).
// Energies are fJ per multiplication; errors are the chosen metric's values (mred: a fraction).
// Errors throw fames::Error naming the flag (--families, --lib, --histogram) that caused them.
#pragma once
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "appmul/synth/als_library.h"
#include "appmul/synth/dominance.h"

namespace fames {

struct FamilyComparisonOptions {
  Signature signature{8, 8, true, false};
  std::set<std::string> families;  // rival family names (family_name()); parse_family_names()
  std::string library;             // take the ALS members from this folder; empty: build them
  // ALS settings (metric, max_error, seed, cost, members kept, seed steps); the metric is also the
  // comparison's, and with histograms set every error is weighted by the signature's histogram.
  AlsLibraryOptions als;
  std::string histogram;  // the file als.histograms came from, for the report; empty: uniform
  double min_error = 0.005, max_error = 0.2;
};

struct FamilyComparison {
  Signature signature;
  std::string metric;             // als_metric_name()
  std::string library;            // where the ALS members came from (empty: built)
  std::string histogram;          // empty: uniform operands
  bool weighted = false;          // errors are under the histogram
  AppMul exact;                   // the exact Dadda multiplier, for scale
  std::vector<AppMul> als, front; // the ALS members and their (energy, error) front
  double als_seconds = 0;         // building (or loading) the ALS members
  DominanceReport report;

  // {signature, metric, histogram, exact_energy_fj, als_members, als_seconds, rows, front,
  //  dominated, all_dominated}, as `fames lib compare --json` prints it.
  nlohmann::json to_json() const;
};

// Throws fames::Error naming --lib if that library has no ALS members of the signature, and
// --histogram if the histograms lack the signature.
FamilyComparison compare_with_families(const FamilyComparisonOptions& options);

// "trunc,bam,perf" or "all" -> family names. Throws fames::Error naming --families for an unknown
// name or an empty list.
std::set<std::string> parse_family_names(const std::string& text);

}  // namespace fames
