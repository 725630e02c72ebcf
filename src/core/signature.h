// Signature: the operand widths and signedness a multiplier serves. It decides which AppMuls fit
// which layer. Operand codes are integers; a code's "raw" form is its bit pattern (two's complement
// for signed operands), 0 .. 2^bits - 1, and that is how tables are indexed.
#pragma once
#include <cstdint>
#include <string>

namespace fames {

struct Signature {
  int bw = 8;             // weight bits, 2..8 (operand B of the circuit)
  int ba = 8;             // activation bits, 2..8 (operand A of the circuit)
  bool signed_w = true;   // weights are two's complement
  bool signed_a = false;  // activations are unsigned (after ReLU) unless the layer says otherwise

  int64_t weight_levels() const { return int64_t{1} << bw; }
  int64_t act_levels() const { return int64_t{1} << ba; }
  int64_t table_size() const { return weight_levels() * act_levels(); }

  // Smallest and largest code value of each operand.
  int w_min() const { return signed_w ? -(1 << (bw - 1)) : 0; }
  int w_max() const { return signed_w ? (1 << (bw - 1)) - 1 : (1 << bw) - 1; }
  int a_min() const { return signed_a ? -(1 << (ba - 1)) : 0; }
  int a_max() const { return signed_a ? (1 << (ba - 1)) - 1 : (1 << ba) - 1; }

  // Raw bit pattern <-> code value.
  uint32_t w_raw(int w) const { return static_cast<uint32_t>(w) & (weight_levels() - 1); }
  uint32_t a_raw(int a) const { return static_cast<uint32_t>(a) & (act_levels() - 1); }
  int w_value(uint32_t raw) const { return sign_extend(raw, bw, signed_w); }
  int a_value(uint32_t raw) const { return sign_extend(raw, ba, signed_a); }

  // "w4a4" / "w8sa8s" style key: weights then activations, 's' marks a signed operand,
  // 'u' an unsigned one. Example: Signature{4, 3, true, false}.key() == "w4s_a3u".
  std::string key() const;
  // Parses key() output; also accepts "4x3" (bw x ba, signed weights, unsigned activations).
  // Throws fames::Error on malformed text.
  static Signature parse(const std::string& text);

  bool valid() const { return bw >= 1 && bw <= 8 && ba >= 1 && ba <= 8; }
  bool operator==(const Signature& o) const {
    return bw == o.bw && ba == o.ba && signed_w == o.signed_w && signed_a == o.signed_a;
  }
  bool operator!=(const Signature& o) const { return !(*this == o); }
  bool operator<(const Signature& o) const;

 private:
  static int sign_extend(uint32_t raw, int bits, bool is_signed) {
    if (!is_signed || !(raw & (1u << (bits - 1)))) return static_cast<int>(raw);
    return static_cast<int>(raw) - (1 << bits);
  }
};

}  // namespace fames
