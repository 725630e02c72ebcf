// Weighted counting (measure/counting.h): the scatter walk against the transposed-convolution
// method on the ResNet-20 (CIFAR-10) 3x3 layer shapes, for several weight widths. The ratio decides
// CountingMethod::kAuto (conv_is_faster in counting.cpp).
//
// Usage: estimate_counting_torch_bench [--reps N] [--batch N] [--vectors V]
//   defaults: 3 repetitions (median), batch 32, 1 weighting vector.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "measure/counting.h"
#include "quant/quant_layer.h"

namespace {

double median_seconds(int reps, const std::function<void()>& run) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 3;
  int64_t batch = 32, vectors = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--vectors")) vectors = std::atoll(argv[i + 1]);
  }
  using fames::measure::CountingMethod;
  struct Shape {
    int64_t c, hw;
  };
  torch::manual_seed(1);
  std::printf("%-10s %3s %3s %12s %10s %10s %8s\n", "shape", "bw", "ba", "MACs/img", "scatter_s", "conv_s", "conv/sc");
  for (const Shape shape : {Shape{16, 32}, Shape{32, 16}, Shape{64, 8}}) {
    for (const auto& [bw, ba] : {std::pair{2, 4}, std::pair{3, 4}, std::pair{4, 4}, std::pair{6, 4}, std::pair{8, 4},
                                std::pair{7, 7}, std::pair{8, 8}}) {
      fames::quant::QuantLayer layer(shape.c, shape.c, {3, 1, 1, 1}, false, false, false);
      layer.set_bits(bw, ba);
      const torch::Tensor x = torch::relu(torch::randn({batch, shape.c, shape.hw, shape.hw}));
      torch::Tensor y;
      {
        torch::NoGradGuard no_grad;
        y = layer.forward(x);
      }
      std::vector<torch::Tensor> u;
      for (int64_t v = 0; v < vectors; ++v) u.push_back(torch::randn(y.sizes()));
      const double scatter = median_seconds(reps, [&] { fames::measure::weighted_counting(layer, x, u, CountingMethod::kScatter); });
      const double conv = median_seconds(reps, [&] { fames::measure::weighted_counting(layer, x, u, CountingMethod::kConv); });
      std::printf("%3ldx%-6ld %3d %3d %12ld %10.4f %10.4f %8.2f\n", static_cast<long>(shape.c), static_cast<long>(shape.hw),
                  bw, ba, static_cast<long>(layer.macs_per_image()), scatter, conv, conv / scatter);
    }
  }
  return 0;
}
