// HAWQ's trace estimate (models/bit_allocation.h) on an untrained LeNet-5 with random images: the
// Hutchinson probes come from the seed alone, so the traces repeat whatever LibTorch's global
// generator did in between, and another seed gives other probes.
#include "models/bit_allocation.h"

#include <gtest/gtest.h>

#include <random>

#include "models/zoo.h"
#include "quant/quant_layer.h"

namespace fames::models {
namespace {

Dataset random_fashion_images(int64_t n) {
  Dataset data;
  data.channels = 1;
  data.height = data.width = 28;
  data.classes = std::vector<std::string>(10, "c");
  std::mt19937_64 rng(5);
  for (int64_t i = 0; i < n * 28 * 28; ++i) data.pixels.push_back(static_cast<uint8_t>(rng() & 255));
  for (int64_t i = 0; i < n; ++i) data.labels.push_back(static_cast<int32_t>(rng() % 10));
  return data;
}

TEST(BitAllocation, HessianTracesDependOnTheSeedAlone) {
  torch::manual_seed(3);
  ModelSpec spec;
  spec.arch = "lenet5";
  spec.in_channels = 1;
  spec.image_size = 28;
  spec.num_classes = 10;
  auto model = build_model(spec);
  const Dataset data = random_fashion_images(64);
  AllocationOptions options;
  options.batches = 1;
  options.hutchinson_samples = 2;
  options.batch_size = 32;
  const auto first = weight_hessian_traces(*model, data, options);
  torch::rand({1000});  // moves LibTorch's global generator
  const auto again = weight_hessian_traces(*model, data, options);
  options.seed = 2;
  const auto other = weight_hessian_traces(*model, data, options);
  ASSERT_EQ(first.size(), quant::quant_layers(*model).size());
  bool any_differs = false;
  for (size_t k = 0; k < first.size(); ++k) {
    EXPECT_EQ(first[k].first, again[k].first);
    EXPECT_EQ(first[k].second, again[k].second) << first[k].first;
    any_differs |= first[k].second != other[k].second;
  }
  EXPECT_TRUE(any_differs) << "another seed, other probes";
}

}  // namespace
}  // namespace fames::models
