// The header of a NumPy .npy file (format versions 1.0, 2.0, 3.0): magic, version, and the
// dictionary {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }.
//
// parse_npy_header checks the magic and version, parses the dictionary and says where the data
// starts. It does not look at the data. Throws fames::Error "<name>: ..." for a file that is not
// .npy, a header that is truncated or malformed, or an unknown key. Thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fames {

struct NpyHeader {
  std::string descr;           // NumPy type string, e.g. "<f4", "<i2", "|u1"
  bool fortran_order = false;  // column-major data when true
  std::vector<int64_t> shape;  // () for a scalar
  size_t data_offset = 0;      // first data byte in the file
};

NpyHeader parse_npy_header(const std::vector<unsigned char>& bytes, const std::string& name);

// Reads `bytes` little-endian bytes as an unsigned integer.
uint64_t load_le(const unsigned char* p, int bytes);

}  // namespace fames
