// Importing an ONNX model (.onnx) as a GraphModel.
//
// What import does, in order (docs/onnx.md has the user's view):
// 1. reads the file (onnx_reader.h: errors for unreadable files, unsupported operators, opsets);
// 2. constant-folds every node whose inputs are all constants (Constant values, initializers,
//    and chains such as Shape -> Gather -> Unsqueeze -> Concat -> Reshape of weights); Shape of an
//    activation stays a node, so the batch size stays free;
// 3. turns each Conv, each Gemm and each MatMul whose weight is constant into a "QuantLayer" node:
//    a quant::QuantLayer (float mode, bits 8/8) holding the ONNX weight (Gemm: alpha folded into
//    the weight, beta * C into the bias when C is a vector), named after the weight
//    ("layer1.0.conv1" from "layer1.0.conv1.weight") or, failing that, the node's module path
//    ("/layer1/layer1.0/conv1/Conv" -> "layer1.0.conv1"). Its activation codes are signed unless
//    the input is provably non-negative (after Relu, Clip(min >= 0), Sigmoid, pooling of those...).
//    QuantLayer node attributes: layer, in, out, kernel, stride, padding, groups, linear, bias,
//    signed, source_op, and for convolutions pads/auto_pad when the padding is not symmetric;
//    transpose_input for Gemm with transA.
// Errors (fames::Error, naming the file and the node): a Conv or Gemm weight (or bias) computed in
// the graph instead of stored in it; convolutions that are not 2-D, kernels that are not square,
// unequal strides, dilations; every reader error. Nothing is written anywhere.
#pragma once
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>

#include "models/onnx/graph_model.h"

namespace fames::models::onnx {

struct ImportOptions {
  // Graph inputs given fixed values: they become constants (ONNX's test data binds weights this
  // way). Names that are not graph inputs are an error.
  std::map<std::string, torch::Tensor> bound_inputs;
};

struct Imported {
  std::shared_ptr<GraphModel> model;  // every layer in float mode (set_quantized(false))
  std::string producer;               // from the file, may be empty
};

Imported import_onnx(const std::string& path, const ImportOptions& options = {});

}  // namespace fames::models::onnx
