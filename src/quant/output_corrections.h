// Per-layer output corrections (bias correction, measure/bias_correction.h) as a checkpoint keeps
// them: read from a model's quantized layers, set on them, cleared. Which AppMuls a model's layers
// use is not decided here (measure/assigned_model.h puts an assignment into a model).
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>

namespace fames::quant {

// Removes every layer's output correction.
void clear_output_corrections(torch::nn::Module& model);

// The corrections as saved in a checkpoint's meta ("output_corrections": {layer: [value per output
// channel]}): read from the layers that have one, and set on them. set_ throws fames::Error naming a
// layer the model does not have or a correction whose length is not that layer's number of output
// channels; layers it does not name keep theirs.
nlohmann::json output_corrections(torch::nn::Module& model);
void set_output_corrections(torch::nn::Module& model, const nlohmann::json& corrections);

}  // namespace fames::quant
