// Behavioural (RTL) Verilog to gates with yosys: multipliers written with arithmetic operators
// (`assign O = A * B;`, or partial products summed with `+`) import by synthesis, since fames's
// own Verilog reader takes gate-level operators only (verilog.h).
//
// Contract:
// - synthesize_with_yosys() copies the file into a private temporary folder, runs the yosys on
//   PATH there with the script it returns (read, flatten, synthesize, map to 2-input gates and
//   muxes, write BLIF) and returns the BLIF text; the folder is removed afterwards.
// - The script is deterministic, so the same file gives the same netlist; it is recorded in the
//   imported AppMul's `source` so that the mapping can be redone.
// - Throws fames::Error naming the file when yosys is not installed, fails (its error is quoted),
//   or runs longer than kYosysSeconds.
#pragma once
#include <string>

namespace fames {

inline constexpr int kYosysSeconds = 300;

struct RtlSynthesis {
  std::string blif;    // the synthesized top module (blif.h reads it)
  std::string script;  // the yosys commands, ';'-separated, file names as in the temporary folder
};

// `top`: the top module's name; empty = the one yosys finds (hierarchy -auto-top).
RtlSynthesis synthesize_with_yosys(const std::string& verilog_path, const std::string& top);

}  // namespace fames
