// Data-movement and shape operators: Identity, Dropout, Flatten, Reshape, Transpose, Concat, Split,
// Slice, Squeeze, Unsqueeze, Pad, Shape, Gather, Cast.
#include <numeric>

#include "models/onnx/ops.h"
#include "models/onnx/ops_table.h"
#include "util/error.h"

namespace fames::models::onnx {
namespace {

using Tensors = std::vector<torch::Tensor>;

Tensors identity(const OpCall& c) { return {c.in(0)}; }

// Inference form only: the output is the input, the optional mask all true.
Tensors dropout(const OpCall& c) {
  const torch::Tensor training = c.in(2);
  if (training.defined() && training.item<bool>()) fail("{} runs in training mode, which is not supported", c.node.describe());
  const torch::Tensor x = c.in(0);
  if (c.node.outputs.size() > 1 && !c.node.outputs[1].empty()) return {x, torch::ones(x.sizes(), torch::kBool)};
  return {x};
}

Tensors flatten(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  const int64_t rank = x.dim();
  int64_t axis = c.node.attr_int("axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) fail("{} has axis {} outside a rank-{} tensor", c.node.describe(), axis, rank);
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.size(i);
  return {x.reshape({outer, outer == 0 ? 0 : x.numel() / std::max<int64_t>(outer, 1)})};
}

Tensors reshape(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  std::vector<int64_t> shape = tensor_ints(c.in(1));
  const bool allow_zero = c.node.attr_int("allowzero", 0) != 0;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allow_zero) {
      if (static_cast<int64_t>(i) >= x.dim()) fail("{} copies dimension {} of a rank-{} tensor", c.node.describe(), i, x.dim());
      shape[i] = x.size(static_cast<int64_t>(i));
    }
  }
  return {x.reshape(shape)};
}

Tensors transpose(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  std::vector<int64_t> reversed(x.dim());
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  return {x.permute(c.node.attr_ints("perm", reversed))};
}

Tensors concat(const OpCall& c) {
  Tensors parts;
  for (const auto& t : c.inputs)
    if (t.defined()) parts.push_back(t);
  if (parts.empty()) fail("{} has no inputs", c.node.describe());
  const int64_t axis = normalize_axis(c.node.attr_int("axis", 0), parts[0].dim(), c.node);
  return {torch::cat(parts, axis)};
}

Tensors split(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  const int64_t axis = normalize_axis(c.node.attr_int("axis", 0), x.dim(), c.node);
  std::vector<int64_t> sizes = c.opset >= 13 ? (c.in(1).defined() ? tensor_ints(c.in(1)) : std::vector<int64_t>{})
                                             : c.node.attr_ints("split");
  const auto parts = static_cast<int64_t>(c.node.outputs.size());
  if (sizes.empty()) {
    if (x.size(axis) % parts != 0)
      fail("{} splits a dimension of {} into {} unequal parts, which is not supported", c.node.describe(), x.size(axis), parts);
    sizes.assign(parts, x.size(axis) / parts);
  }
  const auto pieces = x.split_with_sizes(sizes, axis);
  return Tensors(pieces.begin(), pieces.end());
}

// ONNX Slice: per axis, clamp start and end by the rules of the specification, then take
// start, start + step, ... (negative steps included) with an index_select.
// Opset < 10 gives starts, ends and axes as attributes.
Tensors slice(const OpCall& c) {
  torch::Tensor x = c.in(0);
  const bool attributes = c.opset < 10;
  const auto starts = attributes ? c.node.attr_ints("starts") : tensor_ints(c.in(1));
  const auto ends = attributes ? c.node.attr_ints("ends") : tensor_ints(c.in(2));
  std::vector<int64_t> axes(starts.size()), steps(starts.size(), 1);
  std::iota(axes.begin(), axes.end(), 0);
  if (attributes && c.node.has_attr("axes")) axes = c.node.attr_ints("axes");
  if (!attributes && c.in(3).defined()) axes = tensor_ints(c.in(3));
  if (!attributes && c.in(4).defined()) steps = tensor_ints(c.in(4));
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    fail("{} has starts, ends, axes and steps of different lengths", c.node.describe());
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t axis = normalize_axis(axes[i], x.dim(), c.node), dim = x.size(axis), step = steps[i];
    if (step == 0) fail("{} has a step of 0", c.node.describe());
    int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t end = ends[i] < 0 ? std::max<int64_t>(ends[i], INT64_MIN + dim) + dim : ends[i];
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
    }
    const torch::Tensor index = torch::arange(start, end, step, torch::kLong);
    x = x.index_select(axis, index);
  }
  return {x};
}

// Axes from the attribute (opset < 13) or the second input (13+); empty if neither.
std::vector<int64_t> axes_of(const OpCall& c) {
  if (c.opset >= 13) return c.in(1).defined() ? tensor_ints(c.in(1)) : std::vector<int64_t>{};
  return c.node.attr_ints("axes");
}

Tensors squeeze(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  std::vector<int64_t> axes = axes_of(c);
  if (axes.empty()) return {x.squeeze()};
  for (auto& a : axes) a = normalize_axis(a, x.dim(), c.node);
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (std::find(axes.begin(), axes.end(), d) == axes.end()) shape.push_back(x.size(d));
    else if (x.size(d) != 1) fail("{} squeezes axis {} of size {}", c.node.describe(), d, x.size(d));
  }
  return {x.reshape(shape)};
}

Tensors unsqueeze(const OpCall& c) {
  torch::Tensor x = c.in(0);
  std::vector<int64_t> axes = axes_of(c);
  const int64_t rank = x.dim() + static_cast<int64_t>(axes.size());
  for (auto& a : axes) a = normalize_axis(a, rank, c.node);
  std::sort(axes.begin(), axes.end());
  for (int64_t a : axes) x = x.unsqueeze(a);
  return {x};
}

Tensors pad(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  const std::string mode = c.node.attr_string("mode", "constant");
  if (mode != "constant") fail("{} pads in mode '{}', which is not supported (only constant)", c.node.describe(), mode);
  const std::vector<int64_t> pads = c.opset < 11 ? c.node.attr_ints("pads") : tensor_ints(c.in(1));
  const int64_t rank = x.dim();
  if (static_cast<int64_t>(pads.size()) != 2 * rank) fail("{} has {} pads for a rank-{} tensor", c.node.describe(), pads.size(), rank);
  std::vector<int64_t> torch_pads;  // last dimension first: (begin, end) pairs
  for (int64_t d = rank - 1; d >= 0; --d) {
    torch_pads.push_back(pads[d]);
    torch_pads.push_back(pads[d + rank]);
  }
  const double value = c.opset < 11                               ? c.node.attr_float("value", 0.0)
                       : c.in(2).defined() && c.in(2).numel() > 0 ? c.in(2).item<double>()
                                                                   : 0.0;
  return {torch::constant_pad_nd(x, torch_pads, value)};
}

Tensors shape(const OpCall& c) {
  const torch::Tensor x = c.in(0);
  const int64_t rank = x.dim();
  int64_t start = c.node.attr_int("start", 0), end = c.node.attr_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims(x.sizes().begin() + start, x.sizes().begin() + end);
  return {torch::tensor(dims, torch::kLong)};
}

Tensors gather(const OpCall& c) {
  const torch::Tensor data = c.in(0), indices = c.in(1).to(torch::kLong);
  const int64_t axis = normalize_axis(c.node.attr_int("axis", 0), data.dim(), c.node);
  const torch::Tensor index = torch::where(indices < 0, indices + data.size(axis), indices);
  std::vector<int64_t> shape(data.sizes().begin(), data.sizes().begin() + axis);
  shape.insert(shape.end(), index.sizes().begin(), index.sizes().end());
  shape.insert(shape.end(), data.sizes().begin() + axis + 1, data.sizes().end());
  return {data.index_select(axis, index.reshape({-1})).reshape(shape)};
}

Tensors cast(const OpCall& c) {
  // TensorProto.DataType codes of the types fames handles.
  static const std::map<int64_t, torch::ScalarType> types = {
      {1, torch::kFloat}, {2, torch::kByte}, {3, torch::kChar}, {5, torch::kShort}, {6, torch::kInt},
      {7, torch::kLong}, {9, torch::kBool}, {11, torch::kDouble}};
  const int64_t to = c.node.attr_int("to", 0);
  const auto it = types.find(to);
  if (it == types.end()) fail("{} casts to ONNX type {}, which is not supported", c.node.describe(), to);
  return {c.in(0).to(it->second)};
}

}  // namespace

void add_tensor_ops(OpTable& table) {
  table["Identity"] = identity;
  table["Dropout"] = dropout;
  table["Flatten"] = flatten;
  table["Reshape"] = reshape;
  table["Transpose"] = transpose;
  table["Concat"] = concat;
  table["Split"] = split;
  table["Slice"] = slice;
  table["Squeeze"] = squeeze;
  table["Unsqueeze"] = unsqueeze;
  table["Pad"] = pad;
  table["Shape"] = shape;
  table["Gather"] = gather;
  table["Cast"] = cast;
}

}  // namespace fames::models::onnx
