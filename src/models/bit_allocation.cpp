#include "models/bit_allocation.h"

#include <chrono>
#include <numeric>
#include <random>

#include "models/batches.h"
#include "models/zoo.h"
#include "quant/fake_quant.h"
#include "quant/quant_layer.h"
#include "select/mckp.h"
#include "util/error.h"
#include "util/progress.h"

namespace fames::models {
namespace {

// A tensor of +-1 entries drawn from `rng`, so that the traces depend on the seed alone (not on how
// much of LibTorch's global generator earlier work consumed).
torch::Tensor rademacher(at::IntArrayRef sizes, std::mt19937_64& rng) {
  torch::Tensor t = torch::empty(sizes, torch::kFloat);
  float* values = t.data_ptr<float>();
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; i += 64) {
    const uint64_t bits = rng();
    for (int64_t j = 0; j < 64 && i + j < n; ++j) values[i + j] = (bits >> j) & 1 ? 1.0f : -1.0f;
  }
  return t;
}

// Hutchinson estimate of tr(H_k) for every layer's weight tensor, averaged over probes and batches.
std::vector<double> hessian_traces(torch::nn::Module& model, const std::vector<torch::Tensor>& weights,
                                   const Dataset& data, const AllocationOptions& options) {
  std::vector<double> traces(weights.size(), 0.0);
  std::mt19937_64 rng(options.seed);
  std::vector<int64_t> order(static_cast<size_t>(data.size()));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  Progress bar("hessian trace", int64_t{options.batches} * options.hutchinson_samples, "probe");
  int probes = 0;
  for (int b = 0; b < options.batches; ++b) {
    const int64_t begin = b * options.batch_size;
    if (begin >= data.size()) break;
    const std::vector<int64_t> idx(order.begin() + begin,
                                   order.begin() + std::min<int64_t>(data.size(), begin + options.batch_size));
    models::Batch batch = models::make_batch(data, idx, false, rng);
    torch::Tensor loss = torch::cross_entropy_loss(models::run_model(model, batch.images), batch.labels);
    auto grads = torch::autograd::grad({loss}, weights, {}, true, true);
    for (int s = 0; s < options.hutchinson_samples; ++s) {
      std::vector<torch::Tensor> probes_v;
      torch::Tensor dot = torch::zeros({});
      for (size_t k = 0; k < weights.size(); ++k) {
        probes_v.push_back(rademacher(weights[k].sizes(), rng));
        dot = dot + (grads[k] * probes_v[k]).sum();
      }
      auto hv = torch::autograd::grad({dot}, weights, {}, true, false);
      for (size_t k = 0; k < weights.size(); ++k) traces[k] += (hv[k] * probes_v[k]).sum().item<double>();
      ++probes;
      bar.advance();
    }
  }
  for (double& t : traces) t /= std::max(1, probes);
  return traces;
}

using QuantLayers = std::vector<std::pair<std::string, std::shared_ptr<quant::QuantLayer>>>;

// Float forward passes for as long as it lives (traces and perturbations are of the float weights);
// each layer's own quantization state comes back after.
class QuantizationOff {
 public:
  explicit QuantizationOff(const QuantLayers& layers) : layers_(layers) {
    for (auto& [name, layer] : layers_) {
      was_quantized_.push_back(layer->quantized());
      layer->set_quantized(false);
    }
  }
  ~QuantizationOff() {
    for (size_t k = 0; k < layers_.size(); ++k) layers_[k].second->set_quantized(was_quantized_[k]);
  }
  QuantizationOff(const QuantizationOff&) = delete;
  QuantizationOff& operator=(const QuantizationOff&) = delete;

 private:
  const QuantLayers& layers_;
  std::vector<bool> was_quantized_;
};

}  // namespace

std::vector<std::pair<std::string, double>> weight_hessian_traces(torch::nn::Module& model, const Dataset& data,
                                                                  const AllocationOptions& options) {
  const QuantLayers layers = quant::quant_layers(model);
  const QuantizationOff float_weights(layers);
  std::vector<torch::Tensor> weights;
  for (auto& [name, layer] : layers) weights.push_back(layer->weight);
  model.eval();  // BN in inference mode: the trace of the deployed network
  const std::vector<double> traces = hessian_traces(model, weights, data, options);
  std::vector<std::pair<std::string, double>> result;
  for (size_t k = 0; k < layers.size(); ++k) {
    result.emplace_back(layers[k].first, traces[k] / static_cast<double>(layers[k].second->weight.numel()));
  }
  return result;
}

Allocation allocate_bits(torch::nn::Module& model, const Dataset& train_set, const AllocationOptions& options) {
  if (options.min_bits < 2 || options.max_bits > 8 || options.min_bits > options.max_bits)
    fail("--min-bits/--max-bits must satisfy 2 <= min <= max <= 8 (got {}..{})", options.min_bits, options.max_bits);
  if (options.avg_bits < options.min_bits)
    fail("--avg-bits {} is infeasible: every layer needs at least --min-bits {}", options.avg_bits, options.min_bits);
  const auto start = std::chrono::steady_clock::now();
  const QuantLayers layers = quant::quant_layers(model);
  const auto traces = weight_hessian_traces(model, train_set, options);
  const QuantizationOff float_weights(layers);
  {
    torch::NoGradGuard no_grad;  // one forward to know every layer's multiplications
    models::run_model(model, models::make_batch(train_set, 0, 1).images);
  }
  Allocation result;
  MckpProblem problem;
  double total_macs = 0;
  for (size_t k = 0; k < layers.size(); ++k) {
    auto& layer = layers[k].second;
    LayerSensitivity s;
    s.name = layers[k].first;
    s.macs = layer->macs_per_image();
    s.trace_per_weight = traces[k].second;
    total_macs += static_cast<double>(s.macs);
    std::vector<Option> group;
    torch::NoGradGuard no_grad;
    const torch::Tensor w = layer->weight.detach().reshape({layer->out_channels(), -1});
    for (int b = options.min_bits; b <= options.max_bits; ++b) {
      // Perturbation at the MSE-optimal per-channel clip (what QAT starts from).
      layer->set_bits(b, b);
      layer->init_weight_clipping();
      // The layer's own quantizer: symmetric, or asymmetric with its min/max zero points.
      const torch::Tensor fq = layer->fake_quant_weight().reshape({layer->out_channels(), -1});
      const double perturbation = (fq - w).pow(2).sum().item<double>();
      s.perturbation.push_back(perturbation);
      group.push_back({std::max(0.0, s.trace_per_weight) * perturbation, static_cast<double>(s.macs) * b});
    }
    problem.groups.push_back(group);
    result.layers.push_back(std::move(s));
  }
  problem.capacity = options.avg_bits * total_macs;
  const MckpSolution solution = solve_mckp_cbc(problem);
  if (!solution.feasible) fail("--avg-bits {} is infeasible for this model", options.avg_bits);
  double weighted = 0;
  for (size_t k = 0; k < layers.size(); ++k) {
    const int b = options.min_bits + solution.choice[k];
    result.bits[layers[k].first] = {b, b};
    layers[k].second->set_bits(b, b);
    weighted += static_cast<double>(result.layers[k].macs) * b;
  }
  result.avg_bits = weighted / total_macs;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace fames::models
