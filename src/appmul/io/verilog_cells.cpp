#include "appmul/io/verilog_cells.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <map>
#include <regex>
#include <set>

namespace fames::verilog {
namespace {

using Kind = CellFunction::Kind;

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Function names as libraries spell them (NanGate, OSU/EvoApprox, TSMC-style, sky130, ASAP7).
const std::map<std::string, Kind>& function_names() {
  static const std::map<std::string, Kind> names = {
      {"AND", Kind::kAnd},      {"AN", Kind::kAnd},         {"OR", Kind::kOr},
      {"NAND", Kind::kNand},    {"ND", Kind::kNand},        {"NOR", Kind::kNor},
      {"NR", Kind::kNor},       {"XOR", Kind::kXor},        {"XNOR", Kind::kXnor},
      {"XNR", Kind::kXnor},     {"INV", Kind::kInv},        {"NOT", Kind::kInv},
      {"CLKINV", Kind::kInv},   {"INVERTER", Kind::kInv},   {"BUF", Kind::kBuf},
      {"BUFF", Kind::kBuf},     {"CLKBUF", Kind::kBuf},     {"BUFFER", Kind::kBuf},
      {"AOI", Kind::kAoi},      {"OAI", Kind::kOai},        {"AO", Kind::kAo},
      {"OA", Kind::kOa},        {"MUX", Kind::kMux2},       {"MX", Kind::kMux2},
      {"HA", Kind::kHalfAdder}, {"ADDH", Kind::kHalfAdder}, {"HADD", Kind::kHalfAdder},
      {"FA", Kind::kFullAdder}, {"ADDF", Kind::kFullAdder}, {"FADD", Kind::kFullAdder},
      {"TIELO", Kind::kTie0},   {"TIEL", Kind::kTie0},      {"TIE0", Kind::kTie0},
      {"LOGIC0", Kind::kTie0},  {"TIEHI", Kind::kTie1},     {"TIEH", Kind::kTie1},
      {"TIE1", Kind::kTie1},    {"LOGIC1", Kind::kTie1}};
  return names;
}

// "NAND3" -> NAND with 3 inputs, "AOI211" -> groups {2,1,1}. False if the base is unknown.
bool decode_base(const std::string& base, CellFunction* f) {
  const auto& names = function_names();
  if (auto it = names.find(base); it != names.end()) {  // no digits (or TIE0/TIE1, LOGIC0/1)
    f->kind = it->second;
    f->inputs = 0;
    if (f->kind == Kind::kInv || f->kind == Kind::kBuf) f->inputs = 1;
    if (f->kind == Kind::kMux2) f->inputs = 3;
    if (f->kind == Kind::kHalfAdder) f->inputs = 2;
    if (f->kind == Kind::kFullAdder) f->inputs = 3;
    if (f->kind == Kind::kTie0 || f->kind == Kind::kTie1) f->inputs = -1;  // no inputs
    const bool grouped = f->kind == Kind::kAoi || f->kind == Kind::kOai || f->kind == Kind::kAo ||
                         f->kind == Kind::kOa;
    return !grouped;  // AOI etc. need their group digits
  }
  size_t digits_at = base.size();
  while (digits_at > 0 && std::isdigit(static_cast<unsigned char>(base[digits_at - 1])))
    --digits_at;
  if (digits_at == 0 || digits_at == base.size()) return false;
  const auto it = names.find(base.substr(0, digits_at));
  if (it == names.end()) return false;
  const std::string digits = base.substr(digits_at);
  f->kind = it->second;
  switch (f->kind) {
    case Kind::kAnd:
    case Kind::kOr:
    case Kind::kXor:
    case Kind::kNand:
    case Kind::kNor:
    case Kind::kXnor:
      if (digits.size() > 1) return false;  // 2..8 inputs
      f->inputs = digits[0] - '0';
      return f->inputs >= 2 && f->inputs <= 8;
    case Kind::kInv:
    case Kind::kBuf:  // "INV1"? treat trailing digits as a drive strength
      f->inputs = 1;
      return true;
    case Kind::kMux2:
      f->inputs = 3;
      return digits == "2" || digits == "21";
    case Kind::kAoi:
    case Kind::kOai:
    case Kind::kAo:
    case Kind::kOa:
      f->groups.clear();
      f->inputs = 0;
      for (char d : digits) {
        if (d < '1' || d > '4') return false;
        f->groups.push_back(d - '0');
        f->inputs += d - '0';
      }
      return f->groups.size() >= 2;
    default:
      return false;
  }
}

// Splits "B12" into ("B", 12) for natural ordering of pin names; names without digits get -1.
std::pair<std::string, int> split_pin(const std::string& pin) {
  size_t at = pin.size();
  while (at > 0 && std::isdigit(static_cast<unsigned char>(pin[at - 1]))) --at;
  if (at == pin.size() || at == 0 || pin.size() - at > 6) return {pin, -1};
  return {pin.substr(0, at), std::stoi(pin.substr(at))};
}

bool natural_less(const std::string& a, const std::string& b) {
  return split_pin(a) < split_pin(b);
}

bool in(const std::string& name, std::initializer_list<const char*> set) {
  for (const char* s : set)
    if (name == s) return true;
  return false;
}

int32_t reduce(GateType type, const std::vector<int32_t>& xs, GateSink& sink) {
  int32_t acc = xs[0];
  for (size_t i = 1; i < xs.size(); ++i) acc = sink.gate(type, acc, xs[i]);
  return acc;
}

}  // namespace

int CellFunction::outputs() const {
  return kind == Kind::kHalfAdder || kind == Kind::kFullAdder ? 2 : 1;
}

bool lookup_cell(const std::string& cell_name, CellFunction* function) {
  std::string name = upper(cell_name);
  if (const size_t lib = name.rfind("__"); lib != std::string::npos) name = name.substr(lib + 2);
  // Candidates, most literal first: the name; up to its first '_' (AND2_X1, NAND2XP33_ASAP7_75T_R);
  // each with a drive-strength suffix removed (X1, X2, XP33, X1P5, D1).
  static const std::regex drive(R"(^(.*?[A-Z0-9])(X\d+(P\d+)?|XP\d+|D\d+)$)");
  std::vector<std::string> candidates = {name};
  if (const size_t us = name.find('_'); us != std::string::npos && us > 0)
    candidates.push_back(name.substr(0, us));
  for (size_t i = 0, n = candidates.size(); i < n; ++i) {
    std::smatch m;
    if (std::regex_match(candidates[i], m, drive)) candidates.push_back(m[1]);
  }
  // sky130 spells AOI21 as A21OI, OAI21 as O21AI, AO21 as A21O, OA21 as O21A.
  static const std::regex sky130_complex(R"(^([AO])(\d+)(OI|AI|O|A)$)");
  for (size_t i = 0, n = candidates.size(); i < n; ++i) {
    std::smatch m;
    if (std::regex_match(candidates[i], m, sky130_complex))
      candidates.push_back(std::string(m[1]) + std::string(m[3]) + std::string(m[2]));
  }
  for (const std::string& c : candidates) {
    CellFunction f;
    if (decode_base(c, &f)) {
      *function = f;
      return true;
    }
  }
  return false;
}

std::string order_named_pins(const CellFunction& f, const std::vector<std::string>& pins,
                             std::vector<int>* inputs, std::vector<int>* outputs) {
  std::vector<std::string> names;
  for (const std::string& p : pins) names.push_back(upper(p));
  inputs->clear();
  outputs->clear();
  const bool adder = f.kind == Kind::kHalfAdder || f.kind == Kind::kFullAdder;
  int carry = -1, sum = -1;
  std::vector<int> in_pins;
  for (int i = 0; i < static_cast<int>(names.size()); ++i) {
    const std::string& n = names[i];
    if (adder && in(n, {"S", "SUM", "YS", "SO", "S0"})) {
      sum = i;
    } else if (adder && (in(n, {"CO", "COUT", "YC", "C0", "CY", "CARRY", "C_OUT"}) ||
                         (f.kind == Kind::kHalfAdder && n == "C"))) {
      carry = i;
    } else if (!adder && in(n, {"Y", "Z", "ZN", "X", "O", "OUT", "Q", "QN", "YN"})) {
      if (!outputs->empty()) return "it has two output pins";
      outputs->push_back(i);
    } else {
      in_pins.push_back(i);
    }
  }
  if (adder) {
    if (carry < 0 || sum < 0)
      return "an adder needs a carry pin (CO/COUT/YC) and a sum pin (S/SUM/YS)";
    *outputs = {carry, sum};
  } else if (outputs->empty()) {
    return "no output pin (expected one of Y, Z, ZN, X, O, OUT, Q, QN)";
  }
  const auto by_name = [&](int a, int b) { return natural_less(names[a], names[b]); };
  std::sort(in_pins.begin(), in_pins.end(), by_name);
  const int expected = f.inputs < 0 ? 0 : f.inputs;
  if (f.inputs != 0 && static_cast<int>(in_pins.size()) != expected)
    return fmt::format("it expects {} input pins, {} are connected", expected, in_pins.size());
  if (f.kind == Kind::kMux2) {
    auto sel = std::find_if(in_pins.begin(), in_pins.end(), [&](int i) {
      return in(names[i], {"S", "S0", "SEL", "SL", "SE"});
    });
    if (sel == in_pins.end()) return "a multiplexer needs a select pin (S, S0 or SEL)";
    const int s = *sel;
    in_pins.erase(sel);
    in_pins.push_back(s);  // data0, data1 (natural order), select
  }
  if (!f.groups.empty()) {
    // Pins with digits (A1 A2 B1) group by letter; single letters (A B C) are read in order.
    std::map<std::string, std::vector<int>> by_prefix;
    bool digits = false;
    for (int i : in_pins) {
      by_prefix[split_pin(names[i]).first].push_back(i);
      digits |= split_pin(names[i]).second >= 0;
    }
    if (digits) {
      std::vector<int> ordered;
      std::set<std::string> used;
      for (int size : f.groups) {
        bool found = false;
        for (auto& [prefix, group] : by_prefix) {
          if (used.count(prefix) || static_cast<int>(group.size()) != size) continue;
          used.insert(prefix);
          ordered.insert(ordered.end(), group.begin(), group.end());
          found = true;
          break;
        }
        if (!found) return "its pin names do not match the groups its name implies";
      }
      in_pins = ordered;
    }
  }
  *inputs = in_pins;
  return "";
}

int32_t build_primitive(GateType type, const std::vector<int32_t>& inputs, GateSink& sink) {
  assert(!inputs.empty());
  GateType base = type;
  bool invert = false;
  if (type == GateType::kNand) base = GateType::kAnd, invert = true;
  if (type == GateType::kNor) base = GateType::kOr, invert = true;
  if (type == GateType::kXnor) base = GateType::kXor, invert = true;
  if (inputs.size() == 1) return sink.gate(invert ? GateType::kNot : GateType::kBuf, inputs[0]);
  // Chain all but the last input with the base gate; the last 2-input gate carries the inversion.
  std::vector<int32_t> head(inputs.begin(), inputs.end() - 1);
  return sink.gate(type, reduce(base, head, sink), inputs.back());
}

std::vector<int32_t> build_cell(const CellFunction& f, const std::vector<int32_t>& in,
                                GateSink& sink) {
  switch (f.kind) {
    case Kind::kAnd:
      return {build_primitive(GateType::kAnd, in, sink)};
    case Kind::kOr:
      return {build_primitive(GateType::kOr, in, sink)};
    case Kind::kXor:
      return {build_primitive(GateType::kXor, in, sink)};
    case Kind::kNand:
      return {build_primitive(GateType::kNand, in, sink)};
    case Kind::kNor:
      return {build_primitive(GateType::kNor, in, sink)};
    case Kind::kXnor:
      return {build_primitive(GateType::kXnor, in, sink)};
    case Kind::kInv:
      return {sink.gate(GateType::kNot, in[0])};
    case Kind::kBuf:
      return {sink.gate(GateType::kBuf, in[0])};
    case Kind::kTie0:
      return {sink.constant(false)};
    case Kind::kTie1:
      return {sink.constant(true)};
    case Kind::kMux2: {  // S ? data1 : data0
      const int32_t not_s = sink.gate(GateType::kNot, in[2]);
      return {sink.gate(GateType::kOr, sink.gate(GateType::kAnd, in[0], not_s),
                        sink.gate(GateType::kAnd, in[1], in[2]))};
    }
    case Kind::kHalfAdder:
      return {sink.gate(GateType::kAnd, in[0], in[1]), sink.gate(GateType::kXor, in[0], in[1])};
    case Kind::kFullAdder: {
      const int32_t half = sink.gate(GateType::kXor, in[0], in[1]);
      const int32_t carry = sink.gate(GateType::kOr, sink.gate(GateType::kAnd, in[0], in[1]),
                                      sink.gate(GateType::kAnd, half, in[2]));
      return {carry, sink.gate(GateType::kXor, half, in[2])};
    }
    case Kind::kAoi:
    case Kind::kOai:
    case Kind::kAo:
    case Kind::kOa: {
      // AO*: OR of ANDed groups; OA*: AND of ORed groups; the I forms invert the result.
      const bool and_inside = f.kind == Kind::kAoi || f.kind == Kind::kAo;
      const bool invert = f.kind == Kind::kAoi || f.kind == Kind::kOai;
      std::vector<int32_t> terms;
      size_t next = 0;
      for (int size : f.groups) {
        std::vector<int32_t> group(in.begin() + next, in.begin() + next + size);
        next += size;
        terms.push_back(reduce(and_inside ? GateType::kAnd : GateType::kOr, group, sink));
      }
      const GateType outer = and_inside ? (invert ? GateType::kNor : GateType::kOr)
                                        : (invert ? GateType::kNand : GateType::kAnd);
      return {build_primitive(outer, terms, sink)};
    }
  }
  return {};
}

}  // namespace fames::verilog
