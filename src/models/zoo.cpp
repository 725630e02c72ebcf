#include "models/zoo.h"

#include <cmath>

#include "quant/quant_layer.h"
#include "util/error.h"

namespace fames::models {
namespace {
using quant::ConvGeometry;
using quant::QuantLayer;

std::shared_ptr<QuantLayer> conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad,
                                 bool signed_input = false, int64_t groups = 1, bool bias = false) {
  return std::make_shared<QuantLayer>(in, out, ConvGeometry{k, stride, pad, groups}, false, bias, signed_input);
}
std::shared_ptr<QuantLayer> linear(int64_t in, int64_t out) {
  return std::make_shared<QuantLayer>(in, out, ConvGeometry{}, true, true, false);
}
int64_t scaled(int64_t channels, double width) {
  return std::max<int64_t>(4, static_cast<int64_t>(std::lround(channels * width)));
}

// Basic residual block (two 3x3 convs). Shortcut: option A (strided identity, zero channel padding,
// no multiplications) for the CIFAR ResNet-20, option B (1x1 conv + BN) for ResNet-18.
struct BasicBlock : torch::nn::Module {
  BasicBlock(int64_t in, int64_t out, int64_t stride, bool conv_shortcut)
      : in_(in), out_(out), stride_(stride) {
    conv1 = register_module("conv1", conv(in, out, 3, stride, 1));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(out));
    conv2 = register_module("conv2", conv(out, out, 3, 1, 1));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(out));
    if (conv_shortcut && (stride != 1 || in != out)) {
      shortcut_conv = register_module("shortcut", conv(in, out, 1, stride, 0));
      shortcut_bn = register_module("shortcut_bn", torch::nn::BatchNorm2d(out));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1(conv1->forward(x)));
    y = bn2(conv2->forward(y));
    torch::Tensor s = x;
    if (shortcut_conv) {
      s = shortcut_bn(shortcut_conv->forward(x));
    } else if (stride_ != 1 || in_ != out_) {
      s = x.index({torch::indexing::Slice(), torch::indexing::Slice(),
                   torch::indexing::Slice(torch::indexing::None, torch::indexing::None, stride_),
                   torch::indexing::Slice(torch::indexing::None, torch::indexing::None, stride_)});
      s = torch::constant_pad_nd(s, {0, 0, 0, 0, 0, out_ - in_});
    }
    return torch::relu(y + s);
  }
  int64_t in_, out_, stride_;
  std::shared_ptr<QuantLayer> conv1, conv2, shortcut_conv;
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, shortcut_bn{nullptr};
};

struct ResNet : Network {
  ResNet(const ModelSpec& spec, std::vector<int64_t> widths, int64_t blocks_per_stage, bool conv_shortcut) {
    // ImageNet-sized inputs get the ImageNet stem (7x7 stride 2, then 3x3 max-pooling stride 2):
    // the CIFAR stem would run the first stage at full resolution (16x the work at 224).
    imagenet_stem = spec.image_size >= 128;
    stem = register_module("conv1", imagenet_stem ? conv(spec.in_channels, widths[0], 7, 2, 3, true)
                                                  : conv(spec.in_channels, widths[0], 3, 1, 1, true));
    stem_bn = register_module("bn1", torch::nn::BatchNorm2d(widths[0]));
    int64_t in = widths[0];
    for (size_t stage = 0; stage < widths.size(); ++stage) {
      // Blocks are named "layer<stage>.<index>" as in the reference PyTorch models.
      auto stage_list = register_module(fmt::format("layer{}", stage + 1), torch::nn::ModuleList());
      for (int64_t b = 0; b < blocks_per_stage; ++b) {
        const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
        auto block = std::make_shared<BasicBlock>(in, widths[stage], stride, conv_shortcut);
        stage_list->push_back(block);
        blocks.push_back(block);
        in = widths[stage];
      }
    }
    fc = register_module("fc", linear(in, spec.num_classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::relu(stem_bn(stem->forward(x)));
    if (imagenet_stem) x = torch::max_pool2d(x, 3, 2, 1);
    for (auto& block : blocks) x = block->forward(x);
    x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return fc->forward(x);
  }
  std::shared_ptr<QuantLayer> stem, fc;
  torch::nn::BatchNorm2d stem_bn{nullptr};
  bool imagenet_stem = false;
  std::vector<std::shared_ptr<BasicBlock>> blocks;
};

// VGG-19 with batch norm, CIFAR variant (one linear classifier).
struct Vgg19 : Network {
  explicit Vgg19(const ModelSpec& spec) {
    const std::vector<int64_t> cfg = {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0,
                                      512, 512, 512, 512, 0, 512, 512, 512, 512, 0};
    int64_t in = spec.in_channels, index = 0;
    for (int64_t c : cfg) {
      if (c == 0) {
        pool_after.back() = true;
        continue;
      }
      const int64_t out = scaled(c, spec.width);
      convs.push_back(register_module(fmt::format("conv{}", index), conv(in, out, 3, 1, 1, index == 0)));
      bns.push_back(register_module(fmt::format("bn{}", index), torch::nn::BatchNorm2d(out)));
      pool_after.push_back(false);
      in = out;
      ++index;
    }
    fc = register_module("classifier", linear(in, spec.num_classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    for (size_t i = 0; i < convs.size(); ++i) {
      x = torch::relu(bns[i](convs[i]->forward(x)));
      if (pool_after[i]) x = torch::max_pool2d(x, 2);
    }
    x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return fc->forward(x);
  }
  std::vector<std::shared_ptr<QuantLayer>> convs;
  std::vector<torch::nn::BatchNorm2d> bns;
  std::vector<bool> pool_after;
  std::shared_ptr<QuantLayer> fc;
};

// SqueezeNet 1.1-style fire modules, CIFAR variant (3x3 stem, stride 1).
struct Fire : torch::nn::Module {
  Fire(int64_t in, int64_t squeeze, int64_t expand) {
    squeeze_conv = register_module("squeeze", conv(in, squeeze, 1, 1, 0));
    squeeze_bn = register_module("squeeze_bn", torch::nn::BatchNorm2d(squeeze));
    expand1 = register_module("expand1x1", conv(squeeze, expand, 1, 1, 0));
    expand1_bn = register_module("expand1x1_bn", torch::nn::BatchNorm2d(expand));
    expand3 = register_module("expand3x3", conv(squeeze, expand, 3, 1, 1));
    expand3_bn = register_module("expand3x3_bn", torch::nn::BatchNorm2d(expand));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor s = torch::relu(squeeze_bn(squeeze_conv->forward(x)));
    return torch::cat({torch::relu(expand1_bn(expand1->forward(s))), torch::relu(expand3_bn(expand3->forward(s)))}, 1);
  }
  std::shared_ptr<QuantLayer> squeeze_conv, expand1, expand3;
  torch::nn::BatchNorm2d squeeze_bn{nullptr}, expand1_bn{nullptr}, expand3_bn{nullptr};
};

struct SqueezeNet : Network {
  explicit SqueezeNet(const ModelSpec& spec) {
    auto w = [&](int64_t c) { return scaled(c, spec.width); };
    stem = register_module("conv1", conv(spec.in_channels, w(64), 3, 1, 1, true));
    stem_bn = register_module("bn1", torch::nn::BatchNorm2d(w(64)));
    const std::vector<std::array<int64_t, 2>> fire_cfg = {{16, 64}, {16, 64}, {32, 128}, {32, 128},
                                                          {48, 192}, {48, 192}, {64, 256}, {64, 256}};
    int64_t in = w(64);
    for (size_t i = 0; i < fire_cfg.size(); ++i) {
      fires.push_back(register_module(fmt::format("fire{}", i + 2), std::make_shared<Fire>(in, w(fire_cfg[i][0]), w(fire_cfg[i][1]))));
      in = 2 * w(fire_cfg[i][1]);
    }
    head = register_module("conv10", conv(in, spec.num_classes, 1, 1, 0, false, 1, true));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::relu(stem_bn(stem->forward(x)));
    for (size_t i = 0; i < fires.size(); ++i) {
      x = fires[i]->forward(x);
      if (i == 1 || i == 3) x = torch::max_pool2d(x, 2);
    }
    x = head->forward(x);
    return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  }
  std::shared_ptr<QuantLayer> stem, head;
  torch::nn::BatchNorm2d stem_bn{nullptr};
  std::vector<std::shared_ptr<Fire>> fires;
};

// LeNet-5 (with ReLU and max pooling) for 28x28 or 32x32 inputs.
struct LeNet5 : Network {
  explicit LeNet5(const ModelSpec& spec) {
    c1 = register_module("conv1", conv(spec.in_channels, 6, 5, 1, spec.image_size == 28 ? 2 : 0, true, 1, true));
    c2 = register_module("conv2", conv(6, 16, 5, 1, 0, false, 1, true));
    f1 = register_module("fc1", linear(16 * 5 * 5, 120));
    f2 = register_module("fc2", linear(120, 84));
    f3 = register_module("fc3", linear(84, spec.num_classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::max_pool2d(torch::relu(c1->forward(x)), 2);
    x = torch::max_pool2d(torch::relu(c2->forward(x)), 2).flatten(1);
    x = torch::relu(f1->forward(x));
    x = torch::relu(f2->forward(x));
    return f3->forward(x);
  }
  std::shared_ptr<QuantLayer> c1, c2, f1, f2, f3;
};

}  // namespace

const std::vector<std::string>& known_architectures() {
  static const std::vector<std::string> names = {"resnet20", "resnet18", "vgg19", "squeezenet", "lenet5"};
  return names;
}

std::shared_ptr<torch::nn::Module> build_model(const ModelSpec& spec) {
  if (spec.arch == "resnet20") return std::make_shared<ResNet>(spec, std::vector<int64_t>{16, 32, 64}, 3, false);
  if (spec.arch == "resnet18") {
    std::vector<int64_t> widths;
    for (int64_t c : {64, 128, 256, 512}) widths.push_back(scaled(c, spec.width));
    return std::make_shared<ResNet>(spec, widths, 2, true);
  }
  if (spec.arch == "vgg19") return std::make_shared<Vgg19>(spec);
  if (spec.arch == "squeezenet") return std::make_shared<SqueezeNet>(spec);
  if (spec.arch == "lenet5") return std::make_shared<LeNet5>(spec);
  if (spec.arch == "onnx") fail("architecture 'onnx' comes from `fames import`, not from the zoo");
  fail("unknown architecture '{}' (known: resnet20, resnet18, vgg19, squeezenet, lenet5)", spec.arch);
}

void use_channels_last(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

torch::Tensor run_model(torch::nn::Module& model, const torch::Tensor& images) {
  auto* network = dynamic_cast<Network*>(&model);
  if (!network) fail("model is not a fames network");
  return network->forward(images);
}

}  // namespace fames::models
