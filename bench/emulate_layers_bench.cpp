// TableLayer::forward (quantize, table GEMM, epilogue) on every conv layer of the mixed-precision
// ResNet-20 CIFAR-10 zoo model, at batch 256, with the first non-exact AppMul of each layer's
// signature from a library (the tables `fames bench emulate` uses). Reports per-layer and total
// thread CPU time, the minimum over repetitions: on a shared machine the minimum of CPU time is far
// steadier than wall-clock throughput, so kernel changes can be compared while other jobs run.
//
// Usage: OMP_NUM_THREADS=1 emulate_layers_bench LIBRARY_DIR [--reps N] [--batch N]
// (only the calling thread's CPU time is counted, so run it on one thread).
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "appmul/library/library.h"
#include "emulate/table_layer.h"

namespace {

using namespace fames;

struct LayerSpec {
  const char* name;
  int64_t c, o, hw;
  int stride;
  int bw, ba;
  bool signed_act;
};

// The zoo model's layers and signatures (as `fames bench emulate --json` lists them).
const LayerSpec kLayers[] = {
    {"conv1", 3, 16, 32, 1, 6, 6, true},
    {"layer1.0.conv1", 16, 16, 32, 1, 5, 5, false}, {"layer1.0.conv2", 16, 16, 32, 1, 4, 4, false},
    {"layer1.1.conv1", 16, 16, 32, 1, 4, 4, false}, {"layer1.1.conv2", 16, 16, 32, 1, 3, 3, false},
    {"layer1.2.conv1", 16, 16, 32, 1, 5, 5, false}, {"layer1.2.conv2", 16, 16, 32, 1, 4, 4, false},
    {"layer2.0.conv1", 16, 32, 32, 2, 6, 6, false}, {"layer2.0.conv2", 32, 32, 16, 1, 5, 5, false},
    {"layer2.1.conv1", 32, 32, 16, 1, 5, 5, false}, {"layer2.1.conv2", 32, 32, 16, 1, 3, 3, false},
    {"layer2.2.conv1", 32, 32, 16, 1, 4, 4, false}, {"layer2.2.conv2", 32, 32, 16, 1, 2, 2, false},
    {"layer3.0.conv1", 32, 64, 16, 2, 5, 5, false}, {"layer3.0.conv2", 64, 64, 8, 1, 4, 4, false},
    {"layer3.1.conv1", 64, 64, 8, 1, 4, 4, false},  {"layer3.1.conv2", 64, 64, 8, 1, 4, 4, false},
    {"layer3.2.conv1", 64, 64, 8, 1, 4, 4, false},  {"layer3.2.conv2", 64, 64, 8, 1, 2, 2, false},
};

double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s LIBRARY_DIR [--reps N] [--batch N]\n", argv[0]);
    return 2;
  }
  int reps = 7;
  int64_t batch = 256;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(argv[i + 1]);
  }
  const Library library = Library::load(argv[1]);
  std::mt19937 rng(5);
  double total = 0;
  for (const LayerSpec& l : kLayers) {
    const Signature sig{l.bw, l.ba, true, l.signed_act};
    std::shared_ptr<const ProductTable> table;
    for (const AppMul* m : library.of_signature(sig))
      if (!m->exact) {
        table = std::make_shared<const ProductTable>(m->table);
        break;
      }
    if (!table) table = std::make_shared<const ProductTable>(ProductTable::exact(sig));
    TableLayerParams p;
    p.shape.c = l.c, p.shape.o = l.o, p.shape.kh = p.shape.kw = 3;
    p.shape.stride_h = p.shape.stride_w = l.stride;
    p.shape.pad_h = p.shape.pad_w = 1;
    p.act_step = 0.05f;
    p.signed_act = l.signed_act;
    p.weight_raw.resize(static_cast<size_t>(l.o * l.c * 9));
    for (uint8_t& w : p.weight_raw) w = static_cast<uint8_t>(rng() & ((1u << l.bw) - 1));
    p.scale.assign(static_cast<size_t>(l.o), 1e-3f);
    p.bias.assign(static_cast<size_t>(l.o), 0.5f);
    const TableLayer layer(std::move(p), table);
    // Channels-last input, like the model's; ReLU outputs are mostly small and non-negative.
    std::vector<float> x(static_cast<size_t>(batch * l.c * l.hw * l.hw));
    std::exponential_distribution<float> act(4.0f);
    for (float& v : x) v = l.signed_act ? act(rng) - 0.25f : act(rng);
    const int64_t strides[4] = {l.c * l.hw * l.hw, 1, l.hw * l.c, l.c};
    const int64_t ohw = l.hw / l.stride;
    std::vector<float> y(static_cast<size_t>(batch * l.o * ohw * ohw));
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
      const double t0 = thread_seconds();
      layer.forward(x.data(), batch, l.hw, l.hw, strides, y.data());
      best = std::min(best, thread_seconds() - t0);
    }
    total += best;
    std::printf("%-16s w%d a%d%s  %-28s %8.2f ms\n", l.name, l.bw, l.ba, l.signed_act ? "s" : "u",
                layer.kernel(l.hw, l.hw).c_str(), best * 1e3);
  }
  std::printf("total %.2f ms\n", total * 1e3);
}
