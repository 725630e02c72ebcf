// Stable, unique module paths for the quantized layers of an imported graph.
//
// claim(node, weight_name) returns a dotted path made of [A-Za-z0-9_] segments:
// - from the weight's name when it ends in ".weight" and is not an exporter's generated name
//   ("layer1.0.conv1.weight" -> "layer1.0.conv1");
// - else from the node's name read as a module path, PyTorch style ("/layer1/layer1.0/conv1/Conv"
//   -> "layer1.0.conv1", "/features/features.0/Conv" -> "features.0");
// - else "<op>_<n>" (op in lower case, n counting layers).
// A path already taken, one that is a prefix of a taken path or has a taken prefix, or a reserved
// top-level name (the model's own buffers) gets "_2", "_3", ... appended to its last segment.
#pragma once
#include <set>
#include <string>

#include "models/onnx/graph.h"

namespace fames::models::onnx {

class LayerNames {
 public:
  std::string claim(const Node& node, const std::string& weight_name);

 private:
  bool free(const std::string& path) const;
  std::set<std::string> taken_;
  int count_ = 0;
};

}  // namespace fames::models::onnx
