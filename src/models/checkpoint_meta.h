// The "fames_meta" record of a model checkpoint (docs/formats.md, "Model checkpoint"): the JSON
// that says how to rebuild the network. Torch-free, so it is tested and fuzzed without LibTorch;
// checkpoint.h reads the archive around it and checks the tensors against the rebuilt network.
//
// Fields and ranges: "format" "fames-model", "format_version" 1, "arch" a non-empty name,
// "num_classes" 2..kMaxClasses, "in_channels" 1..kMaxInChannels, "image_size"
// 1..kMaxImageSize, "width" in (0, kMaxWidth], optional "quantized" (bool), optional "classes"
// (num_classes distinct class names, in label order), optional "dataset" (a string: the --data spec
// it was trained on), optional "asymmetric_weights" (distinct layer names: the layers whose weights
// are unsigned codes with zero points; absent = every layer symmetric). Everything else in the record is kept as is. Errors are fames::Error naming
// the file.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fames::models {

constexpr const char* kCheckpointFormat = "fames-model";
constexpr int kCheckpointFormatVersion = 1;
constexpr int64_t kMaxClasses = 100000;
constexpr int64_t kMaxInChannels = 16;
constexpr int64_t kMaxImageSize = 4096;
constexpr double kMaxWidth = 2;  // parameters grow with width^2: VGG-19 at 2 is 80M floats

struct CheckpointMeta {
  std::string arch;
  int64_t num_classes = 0, in_channels = 0, image_size = 0;
  double width = 1;
  bool quantized = true;
  std::vector<std::string> classes;  // label -> name; empty when the checkpoint does not say
  std::vector<std::string> asymmetric_layers;  // layers with zero-point weights; empty: none
  nlohmann::json record;             // the whole record
};

// Parses and checks the record `text` of the checkpoint `path`.
CheckpointMeta parse_checkpoint_meta(const std::string& text, const std::string& path);

}  // namespace fames::models
