// Multiplier generators: exact and approximate multiplier circuits for any signature with
// bw, ba in 1..8, built from 2-input gates (half and full adders are XOR/AND/OR compositions) and
// structurally hashed. Operand B of the circuit is the weight, A the activation (netlist.h).
//
// Signed operands use the Baugh-Wooley scheme: a partial-product term w_i*a_j*2^(i+j) whose weight
// is negative (exactly one of w_i, a_j is a signed operand's MSB) is realised as NAND(w_i, a_j)
// plus a constant -2^(i+j) folded into one constant row. All families are defined on these signed
// terms:
//   exact_array     rows added one after another by ripple-carry adders
//   exact_dadda     Dadda tree plus a ripple-carry adder
//   trunc  (k)      terms with i+j < k dropped (Dadda)
//   truncc (k)      as trunc, plus the rounded expected value of the dropped terms for uniform
//                   operands: floor((sum_dropped sign*2^(i+j) + 2) / 4)
//   bam    (h, v)   broken array: terms with j < h (horizontal break) or i+j < v (vertical) dropped
//   perf   (s, m)   partial-product perforation: activation rows s .. s+m-1 dropped
//   loa    (l)      array whose row additions use a lower-part OR adder in columns < l (carry into
//                   column l = AND of the two column l-1 bits)
//   afa    (l)      array whose full adders in columns < l are approximate:
//                   sum = (x ^ y) | carry_in, carry_out = x & y (x = running sum, y = row bit)
//   drum   (k)      DRUM: each operand's magnitude truncated to k bits below its leading one with
//                   the dropped part replaced by a set LSB, k x k product shifted back; with a
//                   signed operand the magnitude saturates at 2^(bw+ba-1) - 1 (DRUM rounds up)
//   mitchell (f)    Mitchell's logarithmic multiplier with f fraction bits
//                   (f = max(bw, ba) - 1: exact fractions)
// DRUM and Mitchell work on magnitudes and negate the product when the operand signs differ.
// The product wraps modulo 2^(bw+ba) and is read as netlist.h says.
#pragma once
#include <string>
#include <vector>

#include "appmul/netlist/netlist.h"

namespace fames {

enum class Family {
  kExactArray,
  kExactDadda,
  kTrunc,
  kTruncCorrected,
  kBrokenArray,
  kPerforation,
  kLowerOr,
  kApproxFullAdder,
  kDrum,
  kMitchell
};

struct GeneratorSpec {
  Family family = Family::kExactDadda;
  int p = 0;  // k (trunc, truncc, drum), h (bam), s (perf), l (loa, afa), f (mitchell)
  int q = 0;  // v (bam), m (perf); unused otherwise
};

// Stable descriptive name, e.g. "trunc_k3_w8s_a8u", "bam_h1v4_w4s_a4u", "exact_dadda_w8s_a8u".
std::string generator_name(const GeneratorSpec& spec, const Signature& sig);
// "exact:array", "exact:dadda" or "family:<family>" (e.g. "family:trunc").
std::string generator_source(const GeneratorSpec& spec);
const char* family_name(Family family);

// Builds the circuit (strashed, no dead logic) named generator_name(). Throws fames::Error for
// parameters out of range (e.g. trunc k > bw+ba).
Netlist generate_multiplier(const Signature& sig, const GeneratorSpec& spec);

// The default parameter sweep of every family for `sig`: exact circuits first, then approximate
// members from small to large error (roughly). Some members may coincide for small widths.
std::vector<GeneratorSpec> default_family_specs(const Signature& sig);

}  // namespace fames
