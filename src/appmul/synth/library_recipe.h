// `fames lib build` as a library call: the recipe of a library folder (which signatures, families,
// ALS settings, cell figures) and building it, or restoring it from the library cache
// (library_cache.h) when the same recipe was built before by the same executable. Per signature
// the families come from build_family_library() (library_build.h) and, unless recipe.als is off,
// ALS members from add_als_members() (als_library.h).
//
// Signatures: every bw x ba pair of `widths` (signed weights, unsigned activations), plus signed
// activations for 8x8 (layers whose inputs are not post-ReLU) or for every pair with `signed_a`;
// the models' signatures come first (in their order) and are added if missing, and their ALS runs
// before all others. Energies are fJ; errors are fractions. Errors throw fames::Error naming the
// flag or file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "appmul/synth/library_build.h"

namespace fames {

struct LibraryRecipe {
  std::vector<int> widths{2, 3, 4, 5, 6, 7, 8};  // operand widths, 1..8
  bool signed_a = false;
  std::vector<Signature> model_signatures;  // the models' layer signatures (models/layer_signatures.h)
  // Families: members kept per signature, MRED bound; cost.pairs and cost.seed for the energy.
  FamilyBuildOptions families;
  std::string liberty;  // Liberty file for the cell figures; empty: the built-in NanGate 45 nm
  bool als = true;
  std::string metric = "mred";  // ALS error metric and its bound
  double max_error = 0.2;
  int als_per_signature = 24, seed_steps = 30;
  // Operand histogram file: ALS of the signatures it covers measures its error under their pair
  // frequencies, the others' uniformly. Empty: uniform everywhere.
  std::string histogram;
  bool use_cache = true;  // read and write the library cache
};

struct LibraryBuildReport {
  size_t appmuls = 0, signatures = 0;
  double seconds = 0;  // wall-clock, building or restoring
  std::string how;     // "built", "built, cached as KEY" or "cache KEY"
};

// The signatures the recipe builds, in build order, and how many of them come from the models.
std::vector<Signature> recipe_signatures(const LibraryRecipe& recipe, size_t* model_count = nullptr);

// Builds (or restores) the recipe's library into folder `out`, replacing what is there. Shows
// progress bars; notes on stderr which signatures ALS weights by the histogram.
LibraryBuildReport build_library(const LibraryRecipe& recipe, const std::string& out);

// "2..8", "4", "2,4,8" -> sorted distinct widths in 1..8. Throws fames::Error naming --bits.
std::vector<int> parse_bit_widths(const std::string& text);

}  // namespace fames
