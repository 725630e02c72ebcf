// fames import: an ONNX model as a fames checkpoint (float, or quantized when the model is QDQ),
// checked against the framework's outputs.
#include <torch/torch.h>

#include "cli/command.h"
#include "cli/common.h"
#include "models/checkpoint.h"
#include "models/onnx/npy_tensor.h"
#include "models/onnx/onnx_import.h"
#include "models/onnx/ops.h"
#include "models/trainer.h"
#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::cli {
namespace {

struct ImportArgs {
  std::string model, out, check_input, check_output;
  std::vector<float> mean, stddev;
  DataOptions data;
  int64_t batch = 256;
  bool json = false;
};

// [C, H, W] of the graph's image input, from its declared shape or else from the dataset.
std::array<int64_t, 3> input_chw(const models::onnx::Graph& graph, const ImportArgs& args, const Dataset* data) {
  if (graph.inputs.size() != 1)
    fail("'{}' has {} dynamic inputs; fames models take one image batch", args.model, graph.inputs.size());
  const auto& shape = graph.inputs[0].shape;
  if (shape.size() == 4 && shape[1] > 0 && shape[2] > 0 && shape[3] > 0) return {shape[1], shape[2], shape[3]};
  if (data) return {data->channels, data->height, data->width};
  fail("'{}' does not declare the size of its input '{}'; give --data so the images' size can be used", args.model,
       graph.inputs[0].name);
}

// The per-channel map from the dataset's normalization to the graph's (--mean/--std, 0..1 units).
void set_normalization(models::onnx::GraphModel& model, const ImportArgs& args, const Dataset& data) {
  const auto c = static_cast<size_t>(data.channels);
  auto per_channel = [&](const std::vector<float>& v, const char* flag) {
    if (v.size() == 1) return std::vector<float>(c, v[0]);
    if (v.size() != c) fail("{} has {} values but the --data images have {} channels", flag, v.size(), c);
    return v;
  };
  const auto mean = per_channel(args.mean, "--mean"), stddev = per_channel(args.stddev, "--std");
  torch::Tensor scale = torch::empty({data.channels}), shift = torch::empty({data.channels});
  for (size_t i = 0; i < c; ++i) {
    if (stddev[i] <= 0) fail("--std values must be positive");
    scale[i] = data.stddev[i] / stddev[i];
    shift[i] = (data.mean[i] - mean[i]) / stddev[i];
  }
  model.set_input_affine(scale, shift);
}

// max |y - ref| and that divided by max |ref|, on the graph itself (no input map).
nlohmann::json check_outputs(models::onnx::GraphModel& model, const ImportArgs& args) {
  const torch::Tensor x = models::onnx::read_npy_tensor(args.check_input);
  const torch::Tensor ref = models::onnx::read_npy_tensor(args.check_output);
  const torch::Tensor y = model.run({x}).at(0).to(torch::kFloat).contiguous();
  if (y.sizes() != ref.sizes())
    fail("--check-output '{}' has shape {} but the model gives {} for --check-input", args.check_output,
         models::onnx::shape_string(ref), models::onnx::shape_string(y));
  const double max_abs = (y - ref).abs().max().item<double>();
  const double range = ref.abs().max().item<double>();
  return {{"max_abs_diff", max_abs}, {"max_rel_diff", range > 0 ? max_abs / range : max_abs}, {"images", x.size(0)}};
}

void run_import(const ImportArgs& args) {
  if ((args.mean.empty() != args.stddev.empty())) fail("--mean and --std go together");
  if (!args.mean.empty() && args.data.spec.empty()) fail("--mean/--std need --data: they replace that dataset's normalization");
  if (args.check_input.empty() != args.check_output.empty()) fail("--check-input and --check-output go together");
  auto imported = models::onnx::import_onnx(args.model);
  auto& model = *imported.model;
  std::unique_ptr<Dataset> data;
  if (!args.data.spec.empty()) data = std::make_unique<Dataset>(load_data(args.data));
  const auto [c, h, w] = input_chw(model.graph(), args, data.get());
  if (data && (data->channels != c || data->height != h || data->width != w))
    fail("--data images are {}x{}x{} but '{}' takes {}x{}x{}", data->channels, data->height, data->width, args.model, c, h, w);
  model.eval();
  nlohmann::json report = {{"model", args.model}, {"out", args.out}, {"opset", model.graph().opset}};
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    try {
      logits = model.run({torch::zeros({1, c, h, w})}).at(0);  // also records each layer's macs
    } catch (const Error& e) {
      fail("--model '{}' does not run on a {}x{}x{} input: {}", args.model, c, h, w, e.what());
    }
  }
  int64_t macs = 0;
  const auto layers = quant::quant_layers(model);
  for (const auto& [name, layer] : layers) macs += layer->macs_per_image();
  report["layers"] = layers.size();
  size_t quantized = 0;
  for (const auto& [name, layer] : layers) quantized += layer->quantized() ? 1 : 0;
  report["quantized_layers"] = quantized;
  report["macs"] = macs;
  if (!args.check_input.empty()) {
    torch::NoGradGuard no_grad;
    report.update(check_outputs(model, args));
  }
  nlohmann::json meta = {{"onnx", {{"source", args.model}, {"opset", model.graph().opset}, {"producer", imported.producer}}}};
  if (data) {
    if (!args.mean.empty()) {
      set_normalization(model, args, *data);
      meta["input_normalization"] = {{"mean", args.mean}, {"std", args.stddev}};
    }
    meta["dataset"] = args.data.spec;
    const auto result = models::evaluate(model, *data, args.batch, "import");
    report["top1"] = result.top1;
    report["samples"] = result.samples;
  }
  models::ModelSpec spec;
  spec.arch = models::onnx::kArch;
  spec.in_channels = c;
  spec.image_size = h;
  spec.num_classes = logits.dim() >= 2 ? logits.size(1) : logits.numel();
  models::save_model(args.out, model, spec, meta);
  if (args.json) return print_json(report);
  fmt::print("imported {} (opset {}): {} quantizable layers ({} quantized by QDQ), {} multiplications per image\n",
             args.model, model.graph().opset, layers.size(), quantized, macs);
  if (report.contains("max_abs_diff"))
    fmt::print("against --check-output: max |diff| {:.3g}, relative to max |output| {:.3g}\n",
               report["max_abs_diff"].get<double>(), report["max_rel_diff"].get<double>());
  if (report.contains("top1"))
    fmt::print("{} top-1 {:.2f}% on {} {} images\n", quantized > 0 ? "quantized" : "float", 100 * report["top1"].get<double>(),
               report["samples"].get<int64_t>(), args.data.split);
  fmt::print("saved {}\n", args.out);
}

void setup_import(CLI::App& root) {
  auto args = std::make_shared<ImportArgs>();
  auto* cmd = root.add_subcommand("import", "Import an ONNX model (float or QDQ-quantized) as a fames checkpoint");
  cmd->footer(
      "Example: fames import --model net.onnx --out net.pt --data cifar10:/tmp/c10 --check-input x.npy --check-output y.npy\n"
      "Conv, Gemm and MatMul with stored weights become quantizable layers; `fames quantize` takes the result.\n"
      "A QDQ model (QuantizeLinear/DequantizeLinear) imports quantized, with its own bit widths and scales.\n"
      "Without --mean/--std the graph is fed the dataset's own normalized images (docs/onnx.md).");
  cmd->add_option("model,--model", args->model, "ONNX model file (ai.onnx opsets 6-17)")->required();
  cmd->add_option("--out", args->out, "Where to write the fames checkpoint")->required();
  cmd->add_option("--mean", args->mean, "Per-channel mean the graph was trained with (0..1 units); needs --data");
  cmd->add_option("--std", args->stddev, "Per-channel std the graph was trained with (0..1 units); needs --data");
  cmd->add_option("--check-input", args->check_input, "NumPy float32 batch (NCHW) to check the import with");
  cmd->add_option("--check-output", args->check_output, "NumPy float32: the framework's outputs for --check-input");
  cmd->add_option("--batch", args->batch, "Batch size for --data")->capture_default_str();
  cmd->add_flag("--json", args->json, "Print one JSON object");
  add_data_options(*cmd, args->data, "test");
  cmd->callback([args] { run_import(*args); });
}

}  // namespace
}  // namespace fames::cli
FAMES_REGISTER_COMMAND("import", fames::cli::setup_import);
