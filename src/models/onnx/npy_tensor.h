// NumPy .npy arrays as tensors, for checking an import against a framework's outputs.
//
// read_npy_tensor reads a little-endian float32 or float64 array of any shape, C or Fortran order,
// and returns it as a contiguous float32 tensor of that shape. Throws fames::Error naming the file
// if it is missing, not .npy, truncated, or of another element type.
#pragma once
#include <torch/torch.h>

#include <string>

namespace fames::models::onnx {

torch::Tensor read_npy_tensor(const std::string& path);

}  // namespace fames::models::onnx
