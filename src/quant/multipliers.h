// Puts AppMuls into a model's layers: an Assignment (layer -> AppMul name) resolved in a Library.
// Layers the assignment does not name keep the exact multiplier (fake-quant path, equal to the
// exact product table up to float rounding).
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "appmul/library/library.h"
#include "core/assignment.h"

namespace fames::quant {

// Throws fames::Error naming the layer or AppMul if the model has no such layer, the library has no
// such AppMul, or its signature does not fit the layer.
void apply_assignment(torch::nn::Module& model, const Assignment& assignment,
                      const Library& library);

// Removes every layer's multiplier (back to exact) and output correction.
void clear_multipliers(torch::nn::Module& model);
// Removes every layer's output correction only.
void clear_output_corrections(torch::nn::Module& model);

// Per-layer output corrections (bias correction, calibrate/) as saved in a checkpoint's meta
// ("output_corrections": {layer: [value per output channel]}): read from the layers that have one,
// and set on them. set_ throws fames::Error naming a layer the model does not have or a correction
// whose length is not that layer's number of output channels.
nlohmann::json output_corrections(torch::nn::Module& model);
void set_output_corrections(torch::nn::Module& model, const nlohmann::json& corrections);

}  // namespace fames::quant
