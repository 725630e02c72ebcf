// Puts AppMuls into a model's layers: an Assignment (layer -> AppMul name) resolved in a Library.
// Layers the assignment does not name keep the exact multiplier (fake-quant path, equal to the
// exact product table up to float rounding).
#pragma once
#include <torch/torch.h>

#include "appmul/library.h"
#include "select/assignment.h"

namespace fames::quant {

// Throws fames::Error naming the layer or AppMul if the model has no such layer, the library has no
// such AppMul, or its signature does not fit the layer.
void apply_assignment(torch::nn::Module& model, const Assignment& assignment, const Library& library);

// Removes every layer's multiplier (back to exact).
void clear_multipliers(torch::nn::Module& model);

}  // namespace fames::quant
