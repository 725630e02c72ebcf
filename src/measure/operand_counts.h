// A model's operand histograms (core/operand_histogram.h): for every quantized layer, how many of
// its multiplications had each (weight code, activation code) pair over `images`, summed per
// signature, so that each layer weighs by its number of multiplications. The model runs as it is
// (eval mode, no gradients): on a freshly loaded checkpoint that is the exact quantized forward.
// One pass: the per-tap activation histograms of input_histograms (bias_correction.h) times the
// per-tap weight-code counts (counting.h pair_counts). Padding counts as activation code 0.
// `source["layers"]` lists each layer's name, signature and multiplications. Shows a progress bar.
#pragma once
#include <torch/torch.h>

#include "core/operand_histogram.h"
#include "data/dataset.h"

namespace fames::measure {

OperandHistograms model_operand_histograms(torch::nn::Module& model, const Dataset& images,
                                           int64_t batch_size = 128);

}  // namespace fames::measure
