// Per-output-channel AppMul bias correction (METHOD.md §4; derivation in docs/estimator.md).
//
// A layer that uses an approximate multiplier with error matrix E subtracts, per output channel o,
// its mean output error over a set of images and all output positions:
//     correction_o = mean_{x, pos} (Y_table - Y_exact)_o = s_w(o) s_a <Cbar_o, E>,
// Cbar_o being the mean counting matrix of channel o. It is computed exactly from the histogram of
// the activation patterns each weight tap sees (counting.h: tap_histogram, mean_counting), without
// a second forward pass. One definition serves `fames estimate --bias-correction` (which predicts
// the loss change after the correction), `fames validate --bias-correction` and `fames calibrate`.
// The correction is applied as y = table_forward - correction (QuantLayer::set_output_correction).
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/product_table.h"
#include "data/dataset.h"
#include "quant/quant_layer.h"

namespace fames::measure {

// One pass over `images` (eval mode, no gradients) with the model as it is: the tap histogram
// (counting.h) of the input of every layer named in `layers` (every quantized layer when empty).
// Shows a progress bar. Throws fames::Error naming a layer the model does not have.
std::map<std::string, torch::Tensor> input_histograms(torch::nn::Module& model, const Dataset& images,
                                                      const std::vector<std::string>& layers = {},
                                                      int64_t batch_size = 128);

// The correction [O] (float) of `layer` using `table` (the layer's signature), from the histogram
// of its input. Throws fames::Error if the table's signature does not fit.
torch::Tensor output_correction(const quant::QuantLayer& layer, const torch::Tensor& hist, const ProductTable& table);

// For every layer of `model` that has a multiplier: its correction, from the inputs it sees in the
// model with every layer exact, over `images` (training images) in one pass. Exact upstream, as the
// estimator assumes: histograms taken behind uncorrected upstream AppMuls describe inputs that the
// corrected model never sees (on ResNet-20 they cost 1.2 points of held-out top-1 against exact
// upstream). First clears every layer's output correction; sets none (the caller does, e.g. with
// QuantLayer::set_output_correction). Returns (layer name, correction [O] float) in model order.
std::vector<std::pair<std::string, torch::Tensor>> bias_corrections(torch::nn::Module& model, const Dataset& images,
                                                                    int64_t batch_size = 128);

// bias_corrections(), set on their layers for good (calibration; a view: AssignedModel::correct_bias).
void set_bias_corrections(torch::nn::Module& model, const Dataset& images, int64_t batch_size = 128);

}  // namespace fames::measure
