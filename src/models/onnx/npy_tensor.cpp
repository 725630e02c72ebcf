#include "models/onnx/npy_tensor.h"

#include <cstring>

#include "util/error.h"
#include "util/files.h"
#include "util/npy.h"

namespace fames::models::onnx {

torch::Tensor read_npy_tensor(const std::string& path) {
  if (!file_exists(path)) fail("NumPy file '{}' does not exist", path);
  const std::vector<unsigned char> bytes = read_file_bytes(path);
  const NpyHeader h = parse_npy_header(bytes, path);
  torch::ScalarType type;
  if (h.descr == "<f4") type = torch::kFloat;
  else if (h.descr == "<f8") type = torch::kDouble;
  else fail("'{}' holds '{}' elements; fames reads float32 or float64 (<f4, <f8)", path, h.descr);
  int64_t n = 1;
  for (int64_t d : h.shape) n *= d;
  torch::Tensor t = torch::empty({n}, type);
  const size_t need = static_cast<size_t>(n) * t.element_size();
  if (bytes.size() - h.data_offset < need) fail("'{}' ends before its {} elements", path, n);
  if (n > 0) std::memcpy(t.data_ptr(), bytes.data() + h.data_offset, need);
  if (h.fortran_order) {
    std::vector<int64_t> reversed(h.shape.rbegin(), h.shape.rend());
    std::vector<int64_t> order(h.shape.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(order.size() - 1 - i);
    t = t.reshape(reversed).permute(order);
  } else {
    t = t.reshape(h.shape);
  }
  return t.to(torch::kFloat).contiguous();
}

}  // namespace fames::models::onnx
