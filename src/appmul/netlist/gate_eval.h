// The one gate evaluator: a gate's output over `words` 64-bit words of operand patterns (bit b of
// word k is pattern 64k+b), used by simulation (simulate.h) and by ALS's fanout re-simulation.
//
// out[k] = type(x[k], y[k]) for k < words, then out[words - 1] &= last_mask (the bits past the
// last pattern stay zero). x is read for one- and two-input gates, y for two-input gates only;
// either may be null where it is not read. Constants fill every word (kConst1: all ones). kInput
// has no function: evaluating it is a caller's bug (REQUIRES type != kInput). out may not alias x
// or y. One loop per gate type, so that the compiler vectorises each loop.
#pragma once
#include <cassert>
#include <cstdint>

#include "appmul/netlist/netlist.h"

namespace fames {

// The mask of the valid bits in the last word of `patterns` patterns (all ones when a multiple of 64).
inline uint64_t last_word_mask(int64_t patterns) {
  const int tail = static_cast<int>(patterns % 64);
  return tail == 0 ? ~uint64_t{0} : (uint64_t{1} << tail) - 1;
}

// Always inlined: called once per gate in the simulation and ALS loops (out of line it cost ALS
// several percent).
[[gnu::always_inline]] inline void eval_gate_words(GateType type, const uint64_t* x, const uint64_t* y, uint64_t* out,
                            int64_t words, uint64_t last_mask = ~uint64_t{0}) {
  switch (type) {
    case GateType::kBuf:
      for (int64_t k = 0; k < words; ++k) out[k] = x[k];
      break;
    case GateType::kNot:
      for (int64_t k = 0; k < words; ++k) out[k] = ~x[k];
      break;
    case GateType::kAnd:
      for (int64_t k = 0; k < words; ++k) out[k] = x[k] & y[k];
      break;
    case GateType::kOr:
      for (int64_t k = 0; k < words; ++k) out[k] = x[k] | y[k];
      break;
    case GateType::kXor:
      for (int64_t k = 0; k < words; ++k) out[k] = x[k] ^ y[k];
      break;
    case GateType::kNand:
      for (int64_t k = 0; k < words; ++k) out[k] = ~(x[k] & y[k]);
      break;
    case GateType::kNor:
      for (int64_t k = 0; k < words; ++k) out[k] = ~(x[k] | y[k]);
      break;
    case GateType::kXnor:
      for (int64_t k = 0; k < words; ++k) out[k] = ~(x[k] ^ y[k]);
      break;
    case GateType::kConst0:
      for (int64_t k = 0; k < words; ++k) out[k] = 0;
      break;
    case GateType::kConst1:
      for (int64_t k = 0; k < words; ++k) out[k] = ~uint64_t{0};
      break;
    case GateType::kInput:
      assert(false && "eval_gate_words: an input has no gate function");
      return;
  }
  if (words > 0) out[words - 1] &= last_mask;
}

}  // namespace fames
