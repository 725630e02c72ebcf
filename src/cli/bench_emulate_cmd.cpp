// fames bench emulate: throughput of a model in float LibTorch, through exact product tables, and
// with every layer on a non-exact AppMul, measured side by side in one run (medians of --reps).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "appmul/library/library.h"
#include "cli/command.h"
#include "cli/common.h"
#include "emulate/simd_level.h"
#include "models/checkpoint.h"
#include "models/zoo.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::cli {
namespace {

struct BenchArgs {
  std::string model, library;
  int64_t batch = 256;
  int reps = 5;
  bool json = false;
};

// Images per second of one forward pass over `images`, median of `reps` after one warm-up.
double throughput(torch::nn::Module& model, const torch::Tensor& images, int reps) {
  torch::NoGradGuard no_grad;
  model.eval();
  models::run_model(model, images);
  std::vector<double> rates;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    models::run_model(model, images);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rates.push_back(images.size(0) / s);
  }
  std::nth_element(rates.begin(), rates.begin() + reps / 2, rates.end());
  return rates[reps / 2];
}

void run_bench(const BenchArgs& args) {
  auto loaded = models::load_model(args.model);
  auto& model = *loaded.module;
  models::use_channels_last(model);
  const auto& spec = loaded.spec;
  const torch::Tensor images =
      torch::randn({args.batch, spec.in_channels, spec.image_size, spec.image_size}).contiguous(at::MemoryFormat::ChannelsLast);
  const Library library = args.library.empty() ? Library() : Library::load(args.library);
  auto layers = quant::quant_layers(model);

  for (auto& [name, layer] : layers) layer->set_quantized(false);
  const double float_rate = throughput(model, images, args.reps);
  for (auto& [name, layer] : layers) layer->set_quantized(true);
  {
    torch::NoGradGuard no_grad;  // clipping must be ready before tables are attached
    models::run_model(model, images.slice(0, 0, 2));
  }
  for (auto& [name, layer] : layers) layer->set_multiplier(std::make_shared<const ProductTable>(ProductTable::exact(layer->signature())));
  const double exact_rate = throughput(model, images, args.reps);

  nlohmann::json chosen = nlohmann::json::object();
  for (auto& [name, layer] : layers) {
    const Signature sig = layer->signature();
    std::shared_ptr<const ProductTable> table;
    for (const AppMul* m : library.of_signature(sig))
      if (!m->exact) {
        table = std::make_shared<const ProductTable>(m->table);
        chosen[name] = m->name;
        break;
      }
    if (!table) {
      // No library (or no approximate member): a synthetic non-exact table of the same signature.
      ProductTable t = ProductTable::exact(sig);
      for (size_t i = 0; i < t.data().size(); i += 3) t.data()[i] += 1;
      table = std::make_shared<const ProductTable>(std::move(t));
      chosen[name] = "synthetic";
    }
    layer->set_multiplier(table);
  }
  const double approx_rate = throughput(model, images, args.reps);
  const KernelReport kernel = last_kernel_report();
  // Which kernel served each layer, and each signature (a signature may use several read modes).
  nlohmann::json layer_kernels = nlohmann::json::object();
  std::map<std::string, std::set<std::string>> by_signature;
  for (auto& [name, layer] : layers) {
    const std::string served = layer->emulation_kernel(), key = layer->signature().key();
    layer_kernels[name] = {{"signature", key}, {"kernel", served}};
    by_signature[key].insert(served);
  }
  nlohmann::json signature_kernels = nlohmann::json::object();
  for (const auto& [key, names] : by_signature)
    signature_kernels[key] = fmt::format("{}", fmt::join(names, ", "));
  nlohmann::json out = {{"model", args.model},
                        {"batch", args.batch},
                        {"reps", args.reps},
                        {"threads", torch::get_num_threads()},
                        {"float_img_s", float_rate},
                        {"exact_table_img_s", exact_rate},
                        {"approx_img_s", approx_rate},
                        {"approx_over_float", approx_rate / float_rate},
                        {"exact_table_over_float", exact_rate / float_rate},
                        {"last_kernel", kernel.kernel},
                        {"kernels_by_signature", signature_kernels},
                        {"layer_kernels", layer_kernels},
                        {"appmuls", chosen}};
  if (args.json) {
    print_json(out);
  } else {
    fmt::print("float {:.1f} img/s, exact tables {:.1f} img/s ({:.2f}x), approximate {:.1f} img/s ({:.2f}x)\n",
               float_rate, exact_rate, exact_rate / float_rate, approx_rate, approx_rate / float_rate);
    for (const auto& [key, served] : signature_kernels.items())
      fmt::print("  {:<10} {}\n", key, served.get<std::string>());
  }
}

void setup_bench_emulate(CLI::App& root) {
  auto args = std::make_shared<BenchArgs>();
  auto& group = command_group(root, "bench", "Measured claims: emulation speed, selection against GA, ...");
  auto* cmd = group.add_subcommand("emulate", "Throughput: float LibTorch vs exact-table vs approximate emulation");
  cmd->footer("Example: fames bench emulate --model models/resnet20-cifar10-mp.pt --lib lib/ --batch 256 --json\n"
              "Without --lib every layer gets a synthetic non-exact table of its signature.\n"
              "Set OMP_WAIT_POLICY=PASSIVE on a shared machine: LibTorch's spinning threads otherwise slow down.");
  cmd->add_option("--model", args->model, "Model checkpoint")->required();
  cmd->add_option("--lib", args->library, "AppMul library to draw the non-exact multipliers from");
  cmd->add_option("--batch", args->batch, "Batch size")->capture_default_str()->check(positive());
  cmd->add_option("--reps", args->reps, "Timed repetitions (the median is reported)")->capture_default_str()->check(positive());
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->callback([args] { run_bench(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("bench emulate", fames::cli::setup_bench_emulate);
