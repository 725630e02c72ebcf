// Building the family library: exact and approximate generated multipliers (generators.h) for a set
// of signatures, characterised (library.h) and thinned to a useful set per signature.
//
// Per signature every default_family_specs() member is generated and characterised; then
//  - exact circuits are always kept;
//  - an approximate member is dropped when its table is exact, its MRED exceeds max_mred, it
//    costs at least as much energy as the cheapest exact circuit, or another member has the same
//    table and no more energy;
//  - if more than max_per_signature remain, members dominated in (energy, MRED, NMED) go first,
//    then members are thinned evenly along the energy axis.
// Signatures are built in parallel with OpenMP; results do not depend on the thread count.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "appmul/library/library.h"

namespace fames {

struct FamilyBuildOptions {
  double max_mred = 0.30;
  int max_per_signature = 30;  // including the exact circuits
  CellLibrary cells = CellLibrary::builtin_45nm();
  CostOptions cost;
};

// The kept members of one signature, exact first, then by increasing energy.
std::vector<AppMul> build_family_members(const Signature& sig, const FamilyBuildOptions& options);

// All signatures; `on_done(sig, members)` runs on the calling thread's side of a critical section
// (one call at a time) after each signature, e.g. to advance a progress bar.
Library build_family_library(const std::vector<Signature>& signatures,
                             const FamilyBuildOptions& options,
                             const std::function<void(const Signature&, size_t)>& on_done = {});

}  // namespace fames
