#include "appmul/io/blif.h"

#include <algorithm>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>

#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

const char* cover_rows(GateType type) {
  switch (type) {
    case GateType::kConst0:
      return "";
    case GateType::kConst1:
      return "1\n";
    case GateType::kBuf:
      return "1 1\n";
    case GateType::kNot:
      return "0 1\n";
    case GateType::kAnd:
      return "11 1\n";
    case GateType::kOr:
      return "1- 1\n-1 1\n";
    case GateType::kXor:
      return "10 1\n01 1\n";
    case GateType::kNand:
      return "0- 1\n-0 1\n";
    case GateType::kNor:
      return "00 1\n";
    case GateType::kXnor:
      return "11 1\n00 1\n";
    default:
      return "";
  }
}

}  // namespace

void write_blif(const Netlist& net, std::ostream& out) {
  const Signature& sig = net.signature();
  std::vector<std::string> names(net.nodes().size());
  for (size_t id = 0; id < names.size(); ++id) names[id] = "n" + std::to_string(id);
  for (int i = 0; i < sig.ba; ++i) names[net.inputs_a()[i]] = fmt::format("A[{}]", i);
  for (int i = 0; i < sig.bw; ++i) names[net.inputs_b()[i]] = fmt::format("B[{}]", i);
  out << "# fames AppMul netlist: A = activation, B = weight, O = product (LSB first)\n";
  out << "# fames signature: " << sig.key() << "\n";
  out << ".model " << (net.name().empty() ? "appmul" : net.name()) << "\n.inputs";
  for (int i = 0; i < sig.ba; ++i) out << " A[" << i << "]";
  for (int i = 0; i < sig.bw; ++i) out << " B[" << i << "]";
  out << "\n.outputs";
  for (size_t j = 0; j < net.outputs().size(); ++j) out << " O[" << j << "]";
  out << "\n";
  for (int32_t id : net.topological_order(true)) {
    const Gate& g = net.nodes()[id];
    if (g.type == GateType::kInput) continue;
    out << ".names";
    if (g.in0 >= 0) out << ' ' << names[g.in0];
    if (g.in1 >= 0) out << ' ' << names[g.in1];
    out << ' ' << names[id] << "\n" << cover_rows(g.type);
  }
  for (size_t j = 0; j < net.outputs().size(); ++j)
    out << ".names " << names[net.outputs()[j]] << " O[" << j << "]\n1 1\n";
  out << ".end\n";
}

std::string to_blif(const Netlist& net) {
  std::ostringstream s;
  write_blif(net, s);
  return s.str();
}

void write_blif_file(const Netlist& net, const std::string& path) {
  write_file_atomic(path, [&](std::ostream& out) { write_blif(net, out); });
}

namespace {

struct Cover {
  std::vector<std::string> inputs;
  std::vector<std::pair<std::string, char>> rows;  // input pattern, output value
  int line = 0;
};

struct PortBit {
  std::string port;
  int index = 0;
};

PortBit split_port_bit(const std::string& name) {
  const size_t open = name.rfind('[');
  if (open != std::string::npos && open > 0 && name.back() == ']') {
    const std::string digits = name.substr(open + 1, name.size() - open - 2);
    // At most 9 digits: an index that fits an int (a longer one makes the whole name a port).
    if (!digits.empty() && digits.size() <= 9 &&
        std::all_of(digits.begin(), digits.end(), ::isdigit))
      return {name.substr(0, open), std::stoi(digits)};
  }
  return {name, 0};
}

class BlifReader {
 public:
  BlifReader(const std::string& file, const BlifReadOptions& options)
      : file_(file), options_(options) {}

  Netlist read(const std::string& text) {
    parse(text);
    if (!ended_)
      fail("{}: the model has no .end: the file is truncated (or not BLIF)", file_);
    return build();
  }

 private:
  [[noreturn]] void error(int line, const std::string& what) const {
    fail("{}:{}: {}", file_, line, what);
  }

  void parse(const std::string& text) {
    std::istringstream in(text);
    std::string raw;
    int line_no = 0;
    Cover* cover = nullptr;
    bool in_model = false;
    while (!ended_ && std::getline(in, raw)) {
      ++line_no;
      const int line = line_no;
      while (!raw.empty() && raw.back() == '\\') {  // continuation
        raw.pop_back();
        std::string more;
        if (!std::getline(in, more)) break;
        ++line_no;
        raw += " " + more;
      }
      const std::string sig_tag = "# fames signature:";
      if (raw.compare(0, sig_tag.size(), sig_tag) == 0) {
        std::istringstream s(raw.substr(sig_tag.size()));
        s >> signature_key_;
        signature_line_ = line;
      }
      const size_t hash = raw.find('#');
      if (hash != std::string::npos) raw.erase(hash);
      std::istringstream tokens(raw);
      std::vector<std::string> t;
      for (std::string w; tokens >> w;) t.push_back(w);
      if (t.empty()) continue;
      if (t[0][0] != '.') {
        if (!cover)
          error(line, fmt::format("'{}' is neither a directive nor a row of a .names cover", raw));
        add_row(*cover, t, line);
        continue;
      }
      cover = nullptr;
      const std::string& d = t[0];
      if (d == ".model") {
        if (in_model) error(line, "a second .model starts before the first one's .end");
        in_model = true;
        model_ = t.size() > 1 ? t[1] : "";
      } else if (d == ".inputs") {
        inputs_.insert(inputs_.end(), t.begin() + 1, t.end());
        for (size_t i = 1; i < t.size(); ++i) input_line_[t[i]] = line;
      } else if (d == ".outputs") {
        outputs_.insert(outputs_.end(), t.begin() + 1, t.end());
        for (size_t i = 1; i < t.size(); ++i) output_line_[t[i]] = line;
      } else if (d == ".names") {
        if (t.size() < 2) error(line, ".names needs at least an output net");
        cover = &define(t.back(), line);
        cover->inputs.assign(t.begin() + 1, t.end() - 1);
      } else if (d == ".conn") {
        if (t.size() != 3) error(line, ".conn needs exactly a source and a destination net");
        Cover& c = define(t[2], line);
        c.inputs = {t[1]};
        c.rows = {{"1", '1'}};
      } else if (d == ".end") {
        ended_ = true;
      } else {
        error(line,
              fmt::format(
                  "unsupported BLIF construct '{}' (only combinational .names logic is read)", d));
      }
    }
  }

  Cover& define(const std::string& net, int line) {
    auto [it, fresh] = covers_.emplace(net, Cover{});
    if (!fresh)
      error(line, fmt::format("net '{}' is driven twice (first at line {})", net, it->second.line));
    it->second.line = line;
    return it->second;
  }

  void add_row(Cover& c, const std::vector<std::string>& t, int line) {
    const size_t k = c.inputs.size();
    std::string pattern, value;
    if (k == 0 && t.size() == 1) {
      value = t[0];
    } else if (t.size() == 2) {
      pattern = t[0];
      value = t[1];
    } else {
      error(line,
            fmt::format("a cover row needs an input pattern of {} characters and an output value",
                        k));
    }
    if (pattern.size() != k)
      error(line, fmt::format("cover row '{}' has {} input columns, the .names has {} inputs",
                              pattern, pattern.size(), k));
    if (pattern.find_first_not_of("01-") != std::string::npos)
      error(line, "cover rows use only 0, 1 and -");
    if (value != "0" && value != "1")
      error(line, fmt::format("cover output value must be 0 or 1, got '{}'", value));
    if (!c.rows.empty() && c.rows.front().second != value[0])
      error(line, "a cover mixes on-set (1) and off-set (0) rows");
    c.rows.push_back({pattern, value[0]});
  }

  // Groups port bits by name, in the order the ports first appear.
  static std::vector<std::pair<std::string, std::vector<std::string>>> ports(
      const std::vector<std::string>& bits) {
    std::vector<std::pair<std::string, std::vector<std::pair<int, std::string>>>> grouped;
    std::map<std::string, size_t> group_of;  // port name -> index into grouped
    for (const std::string& b : bits) {
      const PortBit pb = split_port_bit(b);
      auto [it, fresh] = group_of.emplace(pb.port, grouped.size());
      if (fresh) grouped.push_back({pb.port, {}});
      grouped[it->second].second.push_back({pb.index, b});
    }
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (auto& [name, members] : grouped) {
      std::sort(members.begin(), members.end());
      std::vector<std::string> names;
      for (auto& m : members) names.push_back(m.second);
      out.push_back({name, names});
    }
    return out;
  }

  const std::vector<std::string>& pick(
      const std::vector<std::pair<std::string, std::vector<std::string>>>& p,
      const std::string& wanted, size_t position, const char* role) const {
    if (!wanted.empty()) {
      for (const auto& port : p)
        if (port.first == wanted) return port.second;
      fail("{}: no port '{}' for the {}", file_, wanted, role);
    }
    if (position >= p.size()) fail("{}: the model has no port for the {}", file_, role);
    return p[position].second;
  }

  Netlist build() {
    if (model_.empty() && inputs_.empty()) fail("{}: no .model found", file_);
    const auto in_ports = ports(inputs_), out_ports = ports(outputs_);
    const auto& a_bits = pick(in_ports, options_.a_port, 0, "activation operand A");
    const auto& b_bits = pick(in_ports, options_.b_port, 1, "weight operand B");
    if (options_.out_port.empty() && out_ports.size() != 1)
      fail("{}: the model has {} output ports; name the product port", file_, out_ports.size());
    const auto& o_bits = pick(out_ports, options_.out_port, 0, "product");
    Signature sig{static_cast<int>(b_bits.size()), static_cast<int>(a_bits.size()),
                  options_.signed_w, options_.signed_a};
    if (!sig.valid())
      fail("{}: operand widths {} (B) x {} (A) are outside 1..8", file_, sig.bw, sig.ba);
    if (!signature_key_.empty()) {
      Signature tagged;
      try {
        tagged = Signature::parse(signature_key_);
      } catch (const Error& e) {
        error(signature_line_, e.what());
      }
      if (tagged.bw != sig.bw || tagged.ba != sig.ba)
        error(signature_line_, fmt::format("signature {} does not match the port widths {}x{}",
                                           signature_key_, sig.bw, sig.ba));
      sig = tagged;
    }
    if (static_cast<int>(o_bits.size()) != sig.ba + sig.bw)
      error(output_line_[o_bits[0]], fmt::format("the product has {} bits, {}x{} operands need {}",
                                                 o_bits.size(), sig.bw, sig.ba, sig.ba + sig.bw));
    net_ = Netlist(sig, model_);
    for (int i = 0; i < sig.ba; ++i) node_[a_bits[i]] = net_.inputs_a()[i];
    for (int i = 0; i < sig.bw; ++i) node_[b_bits[i]] = net_.inputs_b()[i];
    std::vector<int32_t> outs;
    for (const std::string& o : o_bits) {
      if (!covers_.count(o) && !node_.count(o))
        error(output_line_[o], fmt::format("output '{}' is never driven", o));
      outs.push_back(resolve(o, output_line_[o]));
    }
    net_.set_outputs(outs);
    return std::move(net_);
  }

  // The node of a net that needs no cover built (done before, an operand bit or a constant), or
  // nullopt when its cover is still to be converted. Throws for a net nothing drives.
  std::optional<int32_t> known_node(const std::string& name, int use_line) {
    auto known = node_.find(name);
    if (known != node_.end()) return known->second;
    if (covers_.count(name)) return std::nullopt;
    if (name == "$true") return node_[name] = net_.const1();
    if (name == "$false" || name == "$undef") return node_[name] = net_.const0();
    if (input_line_.count(name))
      error(use_line,
            fmt::format("the product depends on input '{}', which is not an operand", name));
    error(use_line, fmt::format("net '{}' is used but never driven", name));
  }

  // Converts the cover of `root` and, first, every cover it depends on: a depth-first walk with an
  // explicit stack, so a chain of any length cannot overflow the call stack. A net met again while
  // its own cover is open closes a combinational cycle.
  int32_t resolve(const std::string& root, int use_line) {
    if (const auto id = known_node(root, use_line)) return *id;
    struct Frame {
      const std::string* name;
      const Cover* cover;
      std::vector<int32_t> fanins;
    };
    std::vector<Frame> stack;
    const auto open = [&](const std::string& name) {
      const Cover& c = covers_.at(name);
      if (!in_progress_.insert(name).second)
        error(c.line, fmt::format("combinational cycle through net '{}'", name));
      stack.push_back({&name, &c, {}});
    };
    open(root);
    for (;;) {
      Frame& f = stack.back();
      if (f.fanins.size() < f.cover->inputs.size()) {
        const std::string& in = f.cover->inputs[f.fanins.size()];
        if (const auto id = known_node(in, f.cover->line)) {
          f.fanins.push_back(*id);
        } else {
          open(in);  // invalidates f
        }
        continue;
      }
      const int32_t id = convert(*f.cover, f.fanins);
      in_progress_.erase(*f.name);
      node_[*f.name] = id;
      stack.pop_back();
      if (stack.empty()) return id;
      stack.back().fanins.push_back(id);
    }
  }

  int32_t convert(const Cover& c, const std::vector<int32_t>& f) {
    const size_t k = f.size();
    const bool offset = !c.rows.empty() && c.rows.front().second == '0';
    if (k <= 2) {
      unsigned tt = 0;  // bit m = value on minterm m (bit 0 of m = first input)
      for (unsigned m = 0; m < (1u << k); ++m) {
        bool hit = false;
        for (const auto& row : c.rows) {
          bool match = true;
          for (size_t i = 0; i < k; ++i)
            if (row.first[i] != '-' && (row.first[i] == '1') != bool((m >> i) & 1)) match = false;
          hit = hit || match;
        }
        if (hit != offset) tt |= 1u << m;
      }
      return from_truth_table(tt, k, f);
    }
    int32_t sum = -1;
    for (const auto& row : c.rows) {
      int32_t product = -1;
      for (size_t i = 0; i < k; ++i) {
        if (row.first[i] == '-') continue;
        const int32_t lit = row.first[i] == '1' ? f[i] : net_.add_gate(GateType::kNot, f[i]);
        product = product < 0 ? lit : net_.add_gate(GateType::kAnd, product, lit);
      }
      if (product < 0) product = net_.const1();
      sum = sum < 0 ? product : net_.add_gate(GateType::kOr, sum, product);
    }
    if (sum < 0) sum = net_.const0();
    return offset ? net_.add_gate(GateType::kNot, sum) : sum;
  }

  int32_t from_truth_table(unsigned tt, size_t k, const std::vector<int32_t>& f) {
    auto inv = [&](int32_t x) { return net_.add_gate(GateType::kNot, x); };
    if (k == 0) return tt & 1 ? net_.const1() : net_.const0();
    if (k == 1) {
      switch (tt) {
        case 0:
          return net_.const0();
        case 3:
          return net_.const1();
        case 2:
          return f[0];
        default:
          return inv(f[0]);
      }
    }
    const int32_t x = f[0], y = f[1];
    switch (tt) {
      case 0x0:
        return net_.const0();
      case 0xF:
        return net_.const1();
      case 0xA:
        return x;
      case 0xC:
        return y;
      case 0x5:
        return inv(x);
      case 0x3:
        return inv(y);
      case 0x8:
        return net_.add_gate(GateType::kAnd, x, y);
      case 0xE:
        return net_.add_gate(GateType::kOr, x, y);
      case 0x6:
        return net_.add_gate(GateType::kXor, x, y);
      case 0x7:
        return net_.add_gate(GateType::kNand, x, y);
      case 0x1:
        return net_.add_gate(GateType::kNor, x, y);
      case 0x9:
        return net_.add_gate(GateType::kXnor, x, y);
      case 0x2:
        return net_.add_gate(GateType::kAnd, x, inv(y));
      case 0x4:
        return net_.add_gate(GateType::kAnd, inv(x), y);
      case 0xB:
        return net_.add_gate(GateType::kOr, x, inv(y));
      default:
        return net_.add_gate(GateType::kOr, inv(x), y);  // 0xD
    }
  }

  std::string file_;
  BlifReadOptions options_;
  std::string model_, signature_key_;
  int signature_line_ = 0;
  std::vector<std::string> inputs_, outputs_;
  std::map<std::string, int> input_line_, output_line_;
  std::map<std::string, Cover> covers_;
  std::map<std::string, int32_t> node_;
  std::set<std::string> in_progress_;
  Netlist net_;
  bool ended_ = false;
};

}  // namespace

Netlist parse_blif(const std::string& text, const std::string& file_name,
                   const BlifReadOptions& options) {
  return BlifReader(file_name, options).read(text);
}

Netlist read_blif(const std::string& path, const BlifReadOptions& options) {
  return parse_blif(read_file(path), path, options);
}

}  // namespace fames
