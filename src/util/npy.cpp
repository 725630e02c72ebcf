#include "util/npy.h"

#include <cctype>
#include <cstring>

#include "util/error.h"

namespace fames {
namespace {

// The header is a Python dict literal: {'descr': '<i2', 'fortran_order': False, 'shape': (256,
// 256), }
class NpyHeaderParser {
 public:
  NpyHeaderParser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (!accept('}')) {
      const std::string key = quoted();
      expect(':');
      if (key == "descr") {
        h.descr = quoted();
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        have_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        have_shape = true;
      } else {
        bad(fmt::format("unknown key '{}'", key));
      }
      if (!accept(',')) {
        expect('}');
        break;
      }
    }
    if (!have_descr || !have_order || !have_shape) bad("it lacks descr, fortran_order or shape");
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& why) const {
    fail("{}: malformed .npy header: {}", name_, why);
  }
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool accept(char c) {
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) bad(fmt::format("expected '{}' at offset {}", c, pos_));
  }
  std::string quoted() {
    skip();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) bad("expected a quoted string");
    const char quote = s_[pos_++];
    const size_t end = s_.find(quote, pos_);
    if (end == std::string::npos) bad("unterminated string");
    std::string v = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return v;
  }
  bool boolean() {
    skip();
    for (const char* word : {"True", "False"})
      if (s_.compare(pos_, std::strlen(word), word) == 0) {
        pos_ += std::strlen(word);
        return word[0] == 'T';
      }
    bad("fortran_order is neither True nor False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (!accept(')')) {
      skip();
      size_t used = 0;
      int64_t d = -1;
      try {
        d = std::stoll(s_.substr(pos_, 20), &used);
      } catch (const std::exception&) {
        bad("a shape entry is not an integer");
      }
      if (d < 0) bad("negative dimension");
      pos_ += used;
      dims.push_back(d);
      if (!accept(',')) {
        expect(')');
        break;
      }
    }
    return dims;
  }

  const std::string& s_;
  const std::string& name_;
  size_t pos_ = 0;
};

}  // namespace

uint64_t load_le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

NpyHeader parse_npy_header(const std::vector<unsigned char>& bytes, const std::string& name) {
  static const unsigned char magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || std::memcmp(bytes.data(), magic, 6) != 0)
    fail("{}: not a .npy file (bad magic)", name);
  const int major = bytes[6];
  if (major < 1 || major > 3)
    fail("{}: unsupported .npy format version {}.{}", name, major, bytes[7]);
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_bytes) fail("{}: truncated .npy header", name);
  const size_t header_len = load_le(bytes.data() + 8, static_cast<int>(len_bytes));
  const size_t data_at = 8 + len_bytes + header_len;
  if (bytes.size() < data_at) fail("{}: truncated .npy header", name);
  const std::string text(bytes.begin() + 8 + len_bytes, bytes.begin() + data_at);
  NpyHeader h = NpyHeaderParser(text, name).parse();
  h.data_offset = data_at;
  return h;
}

}  // namespace fames
