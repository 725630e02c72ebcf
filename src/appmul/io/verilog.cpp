// Public entry points of verilog.h: reading (parser + elaborator) and the assign-statement writer.
#include "appmul/io/verilog.h"

#include <cctype>
#include <ostream>
#include <sstream>

#include "appmul/io/verilog_ast.h"
#include "util/files.h"

namespace fames {

Netlist parse_verilog(const std::string& text, const std::string& file_name,
                      const VerilogReadOptions& options) {
  return verilog::elaborate_verilog(verilog::parse_verilog_source(text, file_name), file_name,
                                    options);
}

Netlist read_verilog(const std::string& path, const VerilogReadOptions& options) {
  return parse_verilog(read_file(path), path, options);
}

namespace {

// A legal, non-keyword Verilog identifier made from `name`.
std::string module_identifier(const std::string& name) {
  std::string id;
  for (char c : name) id += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  if (id.empty()) return "appmul";
  if (std::isdigit(static_cast<unsigned char>(id[0]))) id = "m_" + id;
  static const char* const keywords[] = {"module", "input", "output", "wire",     "assign",
                                         "and",    "or",    "xor",    "nand",     "nor",
                                         "xnor",   "not",   "buf",    "endmodule"};
  for (const char* k : keywords)
    if (id == k) return id + "_m";
  return id;
}

}  // namespace

void write_verilog(const Netlist& netlist, std::ostream& out, const std::string& module_name) {
  const Signature& sig = netlist.signature();
  const std::string name = module_identifier(module_name.empty() ? netlist.name() : module_name);
  const std::vector<Gate>& nodes = netlist.nodes();
  std::vector<std::string> ref(nodes.size());  // how each node is spelled in an expression
  for (int i = 0; i < sig.ba; ++i) ref[netlist.inputs_a()[i]] = fmt::format("A[{}]", i);
  for (int i = 0; i < sig.bw; ++i) ref[netlist.inputs_b()[i]] = fmt::format("B[{}]", i);
  for (size_t id = 0; id < nodes.size(); ++id) {
    if (nodes[id].type == GateType::kConst0) ref[id] = "1'b0";
    if (nodes[id].type == GateType::kConst1) ref[id] = "1'b1";
  }
  const std::vector<int32_t> order = netlist.topological_order(/*reachable_only=*/true);
  std::vector<int32_t> gates;
  for (int32_t id : order) {
    const GateType t = nodes[id].type;
    if (t != GateType::kConst0 && t != GateType::kConst1 && t != GateType::kInput) {
      ref[id] = fmt::format("n{}", id);
      gates.push_back(id);
    }
  }

  out << fmt::format("// {}: {} gates, written by fames. A = activation operand ({} bits, {}),\n",
                     name, gates.size(), sig.ba, sig.signed_a ? "signed" : "unsigned");
  out << fmt::format("// B = weight operand ({} bits, {}), O = product ({} bits{}).\n", sig.bw,
                     sig.signed_w ? "signed" : "unsigned", sig.ba + sig.bw,
                     sig.signed_a || sig.signed_w ? ", two's complement" : "");
  out << fmt::format("module {} (A, B, O);\n", name);
  out << fmt::format("  input {}[{}:0] A;\n", sig.signed_a ? "signed " : "", sig.ba - 1);
  out << fmt::format("  input {}[{}:0] B;\n", sig.signed_w ? "signed " : "", sig.bw - 1);
  out << fmt::format("  output [{}:0] O;\n", sig.ba + sig.bw - 1);
  for (size_t i = 0; i < gates.size(); i += 16) {
    out << "  wire ";
    for (size_t j = i; j < std::min(gates.size(), i + 16); ++j)
      out << (j > i ? ", " : "") << ref[gates[j]];
    out << ";\n";
  }
  for (int32_t id : gates) {
    const Gate& g = nodes[id];
    const std::string& a = ref[g.in0];
    const std::string b = g.in1 >= 0 ? ref[g.in1] : "";
    std::string rhs;
    switch (g.type) {
      case GateType::kBuf:  // a primitive, so that reading it back keeps the buffer gate
        out << "  buf (" << ref[id] << ", " << a << ");\n";
        continue;
      case GateType::kNot:
        rhs = "~" + a;
        break;
      case GateType::kAnd:
        rhs = a + " & " + b;
        break;
      case GateType::kOr:
        rhs = a + " | " + b;
        break;
      case GateType::kXor:
        rhs = a + " ^ " + b;
        break;
      case GateType::kNand:
        rhs = "~(" + a + " & " + b + ")";
        break;
      case GateType::kNor:
        rhs = "~(" + a + " | " + b + ")";
        break;
      case GateType::kXnor:
        rhs = "~(" + a + " ^ " + b + ")";
        break;
      default:
        break;  // inputs and constants are not gates
    }
    out << "  assign " << ref[id] << " = " << rhs << ";\n";
  }
  const std::vector<int32_t>& outputs = netlist.outputs();
  for (size_t k = 0; k < outputs.size(); ++k)
    out << fmt::format("  assign O[{}] = {};\n", k, ref[outputs[k]]);
  out << "endmodule\n";
}

std::string to_verilog(const Netlist& netlist, const std::string& module_name) {
  std::ostringstream s;
  write_verilog(netlist, s, module_name);
  return s.str();
}

void write_verilog_file(const Netlist& netlist, const std::string& path,
                        const std::string& module_name) {
  write_file_atomic(path, [&](std::ostream& out) { write_verilog(netlist, out, module_name); });
}

}  // namespace fames
