// Per-layer bit assignments: read, apply and write {layer name: [bw, ba]}.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>

namespace fames::quant {

using BitMap = std::map<std::string, std::pair<int, int>>;  // layer -> (bw, ba)

// `spec` is either one integer 2..8 (every layer, both operands) or the path of a JSON file
// {"layer": [bw, ba] or b, ...}; a file may name a subset of layers. Throws fames::Error naming the
// flag value or file on a bad number, an unknown layer or bits out of range.
void apply_bits(torch::nn::Module& model, const std::string& spec);
void apply_bits(torch::nn::Module& model, const BitMap& bits);

BitMap read_bits_file(const std::string& path);
BitMap current_bits(torch::nn::Module& model);

}  // namespace fames::quant
