// A fames network as a float ONNX graph in fames's graph form (graph.h): "QuantLayer" nodes for
// its quantized layers, ONNX operators for everything else, and the constant tensors they read.
// qdq_export.h turns it into a QDQ ONNX model.
//
// Contract:
// - An imported model (GraphModel) gives its own graph and constants; a per-channel input map
//   (set_input_affine) becomes a Mul and an Add right after the graph input.
// - A zoo network (models/zoo.h: resnet20, resnet18, vgg19, squeezenet, lenet5) gives the graph of
//   its forward(), written from the architecture and read off its modules: Conv layers as
//   QuantLayer nodes, BatchNorm as BatchNormalization (inference form, the module's running
//   statistics), ReLU, MaxPool, GlobalAveragePool + Flatten, Add, Concat, and ResNet-20's
//   option-A shortcut as Slice (stride) + Pad (zero channels). Opset 13; input "input" of shape
//   [batch, in_channels, image_size, image_size], output "logits".
// - QuantLayer nodes carry attrs["layer"] (the module path, as quant::quant_layers names it) and,
//   for imported models, the importer's pads/auto_pad/transpose_input/source_op.
// - Throws fames::Error if the module is not the architecture `spec` names.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>

#include "models/onnx/graph.h"
#include "models/zoo.h"

namespace fames::models::onnx {

struct NetworkGraph {
  Graph graph;  // graph.constants unused: the tensors are in `constants`
  std::map<std::string, torch::Tensor> constants;
};

NetworkGraph network_graph(torch::nn::Module& model, const ModelSpec& spec);

}  // namespace fames::models::onnx
