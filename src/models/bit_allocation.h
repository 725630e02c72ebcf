// Mixed-precision bit allocation as HAWQ does it: per-layer sensitivity = (Hessian trace of the
// loss in the layer's weights, by Hutchinson's method, divided by the weight count) times the
// squared weight quantization perturbation ||Q_b(W) - W||^2 at each candidate bitwidth b. An
// integer program (CBC) then picks one b per layer minimising total sensitivity subject to the
// multiplication-weighted average bitwidth <= avg_bits. Each layer gets bw = ba = b.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "data/dataset.h"
#include "quant/bits.h"

namespace fames::models {

struct AllocationOptions {
  double avg_bits = 4.0;      // bound on sum_k macs_k * b_k / sum_k macs_k
  int min_bits = 2, max_bits = 8;
  int hutchinson_samples = 8; // Rademacher probes per batch
  int batches = 2;            // training batches used for the trace
  int64_t batch_size = 128;
  uint64_t seed = 1;
};

struct LayerSensitivity {
  std::string name;
  int64_t macs = 0;
  double trace_per_weight = 0;
  std::vector<double> perturbation;  // ||Q_b(W)-W||^2 for b = min_bits..max_bits
};

struct Allocation {
  quant::BitMap bits;
  std::vector<LayerSensitivity> layers;
  double avg_bits = 0;       // achieved weighted average
  double seconds = 0;
};

// HAWQ's sensitivity measure alone: every quantized layer's Hessian trace in its weights divided by
// the weight count (Hutchinson, options' probes/batches/seed), in the model's layer order. The
// network is evaluated in float mode with BN in inference mode; each layer's quantization switch is
// as before afterwards. Also the control `fames validate` ranks AppMuls by (MSE x macs x trace).
std::vector<std::pair<std::string, double>> weight_hessian_traces(torch::nn::Module& model, const Dataset& data,
                                                                  const AllocationOptions& options);

// REQUIRES: `model` is a zoo network; it is evaluated in float mode (quantization temporarily
// off). Throws fames::Error if the bound is infeasible (avg_bits < min_bits) or options are out of range.
Allocation allocate_bits(torch::nn::Module& model, const Dataset& train_set, const AllocationOptions& options);

}  // namespace fames::models
