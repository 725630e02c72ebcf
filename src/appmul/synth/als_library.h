// Adds approximate-logic-synthesis results to a library. For every signature ALS (als.h) runs from
// the exact Dadda multiplier and, when seed_steps > 0, for at most seed_steps steps from every
// seed. Seeds come from the "rivals": the approximate members of default_family_specs() (every
// family) whose error is within the bound. A rival that breaks the zero-product guard (e.g. truncc's
// constant) is guarded first, and each gets a compensated twin (seed_circuits.h); the seeds are the
// Pareto front of these. A seeded run stops at the error of the next cheaper seed, which continues
// from there. Everything that dominates a seed also dominates the rivals the seed dominates.
// Where the members of these strict runs leave a guard-breaking rival undominated (guarding costs
// more than the rival saves), the guard-breaking rivals and their twins run unguarded too, each
// run keeping its seed's own zero-product error (inherit_zero_product_error): such members put no
// more on products of 0 than a family member the library holds.
// All steps of all runs are thinned to their front in energy, error, |bias| and MSE, one member per
// product table and none with the exact table; then at most max_per_signature are kept: first, for
// every rival, the cheapest front member that dominates it (lower energy at no more error), then
// members spread evenly along the front. The limit is exceeded only when the dominating members
// alone outnumber it. add_als_members() keeps one member per product table: an ALS member whose
// table the library has already is dropped, unless it is cheaper than that family member, which
// it then replaces (exact circuits always stay).
// Errors (bounds, seeds, fronts, thinning) are als_error: under the signature's operand histogram
// when `histograms` has one, else uniform.
// Runs are parallel (OpenMP); the result does not depend on the thread count.
#pragma once
#include <functional>
#include <vector>

#include "appmul/synth/als.h"
#include "appmul/library/library.h"
#include "core/operand_histogram.h"

namespace fames {

struct AlsLibraryOptions {
  AlsOptions als;
  int max_per_signature = 24;
  int seed_steps = 30;  // steps of each seeded run; 0: start from the exact multiplier only
  int seed_candidates = 0;  // candidates_per_step of seeded runs (0: as options.als)
  int priority_count = 0;  // the first priority_count signatures run before all others
  bool inherit_zero_product_error = true;  // the runs from unguarded rivals above (false: none)
  OperandHistograms histograms;  // pair weights of the signatures it covers; others uniform
};

// options.als with the pair weights of `sig` from options.histograms (none if it has none).
AlsOptions als_options_for(const Signature& sig, const AlsLibraryOptions& options);

// The rivals of `sig`: its approximate family members (every family of default_family_specs())
// whose error is within options.als.max_error, characterised with options.als.cells/cost.
std::vector<AppMul> als_family_rivals(const Signature& sig, const AlsLibraryOptions& options);

// The seed circuits of `sig` (characterised with options.als.cells/cost), cheapest first (their
// Pareto front, so error decreases along the list).
std::vector<AppMul> als_seed_members(const Signature& sig, const AlsLibraryOptions& options);

// Every step of every run (from the exact multiplier and from each seed) of each signature, in
// `signatures` order, unthinned. `on_done(sig, steps)` runs once per signature, one at a time.
std::vector<std::vector<AppMul>> run_seeded_als(
    const std::vector<Signature>& signatures, const AlsLibraryOptions& options,
    const std::function<void(const Signature&, size_t)>& on_done = {});

// The ALS members of each signature, as add_als_members would add them, in `signatures` order.
// `on_done(sig, count)` runs once per signature, one call at a time.
std::vector<std::vector<AppMul>> build_als_members(
    const std::vector<Signature>& signatures, const AlsLibraryOptions& options,
    const std::function<void(const Signature&, size_t)>& on_done = {});

// build_als_members, then adds them (one member per table, as above). Returns the number added.
size_t add_als_members(Library& library, const std::vector<Signature>& signatures,
                       const AlsLibraryOptions& options,
                       const std::function<void(const Signature&, size_t)>& on_done = {});

}  // namespace fames
