// GraphModel: an imported ONNX graph as a fames network. It runs the graph's nodes with LibTorch
// (ops.h) and its Conv/Gemm/MatMul-with-constant-weight nodes as quant::QuantLayers, registered
// at the dotted module paths the importer chose ("layer1.0.conv1"), so quant::quant_layers(),
// checkpoints, quantization, estimation and emulation see it like any zoo network.
//
// Contract:
// - Built from a Graph alone (graph.h): every constant becomes a buffer "constants.c<i>" (empty,
//   of the recorded dtype) and every QuantLayer node a layer of the recorded geometry, randomly
//   initialised. The importer (onnx_import.h) or Module::load then fills in the tensors; loading
//   a checkpoint needs no ONNX file and no libonnx.
// - forward(x) takes a batch for the first graph input, applies the optional per-channel input
//   map (x * input_scale[c] + input_shift[c], see set_input_affine) and returns the first graph
//   output. run() takes every dynamic input, in graph order, and returns every graph output.
// - Runtime failures (a shape the graph cannot take) throw fames::Error or c10::Error naming the
//   node where fames can tell.
// - Not thread-safe (layers record their last input, like every quantized layer).
#pragma once
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/onnx/graph.h"
#include "models/zoo.h"

namespace fames::quant {
class QuantLayer;
}

namespace fames::models::onnx {

// ModelSpec::arch of imported models.
inline constexpr const char* kArch = "onnx";

class GraphModel : public Network {
 public:
  // Throws fames::Error (mentioning `what`) if a QuantLayer node lacks its geometry.
  GraphModel(Graph graph, const std::string& what);

  torch::Tensor forward(torch::Tensor x) override;
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor>& inputs);

  const Graph& graph() const { return graph_; }
  // The buffer of constant i (graph().constants[i]).
  torch::Tensor& constant(size_t i) { return constants_.at(i); }
  // The layer at `path`; throws fames::Error if there is none.
  const std::shared_ptr<quant::QuantLayer>& layer(const std::string& path) const;

  // forward() maps its input channel c to x * scale[c] + shift[c] before the graph (both [C]), so
  // that a graph trained on other normalization constants than the dataset's takes the dataset's
  // batches. Undefined tensors remove the map.
  void set_input_affine(const torch::Tensor& scale, const torch::Tensor& shift);

 private:
  torch::Tensor run_layer(const Node& node, torch::Tensor x);

  Graph graph_;
  std::vector<torch::Tensor> constants_;
  std::map<std::string, std::shared_ptr<quant::QuantLayer>> layers_;
  torch::Tensor input_scale_, input_shift_;
  std::vector<std::vector<std::string>> last_readers_;  // per node: values nobody reads afterwards
};

// "float32", "int64", ... for the dtypes ONNX tensors take in fames; throws fames::Error otherwise.
std::string dtype_name(torch::ScalarType type);
torch::ScalarType dtype_from_name(const std::string& name);

}  // namespace fames::models::onnx
