#include "appmul/io/appmul_import.h"

#include <filesystem>

#include "appmul/io/blif.h"
#include "appmul/io/rtl_synthesis.h"
#include "appmul/netlist/simulate.h"
#include "util/error.h"

namespace fames {
namespace {

// The options Verilog and BLIF readers share (verilog.h, blif.h).
template <typename ReadOptions>
ReadOptions circuit_options(const MultiplierImportOptions& o) {
  ReadOptions r;
  r.signed_w = o.signed_w;
  r.signed_a = o.signed_a;
  r.a_port = o.a_port;
  r.b_port = o.b_port;
  r.out_port = o.out_port;
  return r;
}

// A circuit's operand widths come from its ports; --bits, when given, must agree.
void check_circuit_widths(const Netlist& n, const MultiplierImportOptions& o,
                          const std::string& path) {
  if (o.bw == 0 && o.ba == 0) return;
  const Signature& s = n.signature();
  if (s.bw != o.bw || s.ba != o.ba)
    fail("{}: the circuit multiplies {}-bit weights by {}-bit activations, but --bits says {}x{}",
         path, s.bw, s.ba, o.bw, o.ba);
}

}  // namespace

bool is_importable_file(const std::string& path) {
  const std::string ext = lowercase_extension(path);
  return ext == ".v" || ext == ".blif" || is_table_file(path);
}

ImportedMultiplier import_multiplier(const std::string& path, const MultiplierImportOptions& o) {
  ImportedMultiplier m;
  m.name = std::filesystem::path(path).stem().string();
  const std::string ext = lowercase_extension(path);
  if (ext == ".v") {
    auto v = circuit_options<VerilogReadOptions>(o);
    v.top = o.top;
    m.format = "verilog";
    try {
      m.netlist = read_verilog(path, v);
    } catch (const BehaviouralVerilogError&) {
      // Ports lose their `signed` in BLIF: the options say which operands are signed.
      const RtlSynthesis rtl = synthesize_with_yosys(path, o.top);
      m.netlist = parse_blif(rtl.blif, path + " (as synthesized by yosys)",
                             circuit_options<BlifReadOptions>(o));
      m.synthesis = rtl.script;
    }
  } else if (ext == ".blif") {
    m.format = "blif";
    m.netlist = read_blif(path, circuit_options<BlifReadOptions>(o));
  } else if (is_table_file(path)) {
    TableImportOptions t;
    t.bw = o.bw;
    t.ba = o.ba;
    t.signed_w = o.signed_w;
    t.signed_a = o.signed_a;
    t.layout = o.layout;
    m.format = ext == ".npy" ? "npy" : "raw";
    m.table = import_table_file(path, t);
    return m;
  } else {
    fail("{}: unknown format '{}' (expected .v, .blif, .npy, .bin, .tbl, .u16 or .i16)", path, ext);
  }
  check_circuit_widths(*m.netlist, o, path);
  m.table = simulate_table(*m.netlist);
  return m;
}

}  // namespace fames
