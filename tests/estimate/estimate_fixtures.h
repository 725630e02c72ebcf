// Shared fixtures of the estimate tests: random approximate tables and a tiny LeNet-5 with data.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "appmul/library/library.h"
#include "core/product_table.h"
#include "data/dataset.h"
#include "models/zoo.h"

namespace fames::estimate::testing {

// The exact table plus uniform noise in [-spread, spread] (biased by `bias`) on every entry.
inline ProductTable random_approximate(Signature sig, uint64_t seed, int spread = 3, int bias = 0) {
  ProductTable t = ProductTable::exact(sig);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> noise(-spread, spread);
  for (auto& v : t.data()) v += noise(rng) + bias;
  return t;
}

// A library entry around a bare table (no netlist): energy 100 fJ if exact, else 50 fJ.
inline AppMul table_appmul(std::string name, ProductTable table, bool exact) {
  AppMul m;
  m.name = std::move(name);
  m.table = std::move(table);
  m.exact = exact;
  m.energy_fj = exact ? 100 : 50;
  m.source = exact ? "exact:test" : "test";
  return m;
}

// n random 28x28 grey images with random labels of 10 classes.
inline Dataset random_images(int64_t n, uint64_t seed) {
  Dataset data;
  data.channels = 1;
  data.height = data.width = 28;
  data.classes = std::vector<std::string>(10, "c");
  data.pixels.resize(n * 28 * 28);
  std::mt19937_64 rng(seed);
  for (auto& p : data.pixels) p = static_cast<uint8_t>(rng() & 255);
  for (int64_t i = 0; i < n; ++i) data.labels.push_back(static_cast<int32_t>(rng() % 10));
  data.mean = {0.5f, 0, 0};
  data.stddev = {0.25f, 1, 1};
  return data;
}

inline std::shared_ptr<torch::nn::Module> tiny_lenet() {
  models::ModelSpec spec;
  spec.arch = "lenet5";
  spec.in_channels = 1;
  spec.image_size = 28;
  return models::build_model(spec);
}

}  // namespace fames::estimate::testing
