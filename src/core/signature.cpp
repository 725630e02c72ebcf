#include "core/signature.h"

#include <regex>
#include <tuple>

#include "util/error.h"

namespace fames {

std::string Signature::key() const {
  return fmt::format("w{}{}_a{}{}", bw, signed_w ? 's' : 'u', ba, signed_a ? 's' : 'u');
}

Signature Signature::parse(const std::string& text) {
  static const std::regex full(R"(w([1-8])([su])_a([1-8])([su]))");
  static const std::regex short_form(R"(([1-8])x([1-8]))");
  std::smatch m;
  Signature s;
  if (std::regex_match(text, m, full)) {
    s.bw = std::stoi(m[1]);
    s.signed_w = m[2] == "s";
    s.ba = std::stoi(m[3]);
    s.signed_a = m[4] == "s";
  } else if (std::regex_match(text, m, short_form)) {
    s.bw = std::stoi(m[1]);
    s.ba = std::stoi(m[2]);
  } else {
    fail("bad signature '{}': expected e.g. 'w4s_a4u' or '4x4' (weight bits x activation bits, 1..8)", text);
  }
  return s;
}

bool Signature::operator<(const Signature& o) const {
  return std::tie(bw, ba, signed_w, signed_a) < std::tie(o.bw, o.ba, o.signed_w, o.signed_a);
}

}  // namespace fames
