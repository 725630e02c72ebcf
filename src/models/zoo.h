// The network architectures of the zoo, all built from quant::QuantLayer conv/linear layers.
//
// build_model(spec) returns a fresh, randomly initialised network. Layers start in 8/8 bits with
// quantization on; call set_quantized(false) on every layer for float pretraining. The first layer
// takes normalised pixels and therefore uses signed activation codes; all others see post-ReLU
// (unsigned) inputs.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace fames::models {

// Base of every fames network (the zoo's and imported ONNX graphs): a virtual forward so that
// run_model can call any of them.
struct Network : torch::nn::Module {
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

struct ModelSpec {
  std::string arch = "resnet20";  // resnet20 | resnet18 | vgg19 | squeezenet | lenet5 | onnx (imported)
  int64_t num_classes = 10;
  int64_t in_channels = 3;
  int64_t image_size = 32;        // square inputs; >= 128: ResNets get the ImageNet stem (7x7/2, max-pool)
  double width = 1.0;             // channel multiplier (vgg19, resnet18, squeezenet)
};

// The architectures build_model knows.
const std::vector<std::string>& known_architectures();

// Throws fames::Error naming the architecture if unknown.
std::shared_ptr<torch::nn::Module> build_model(const ModelSpec& spec);

// Stores every 4-D parameter in channels-last layout: LibTorch's oneDNN convolutions run about 3x
// faster that way on CPU than in NCHW (measured on ResNet-20 shapes). Call after loading.
void use_channels_last(torch::nn::Module& model);

// Runs the model: any Network (zoo or imported), forward(images) -> logits.
torch::Tensor run_model(torch::nn::Module& model, const torch::Tensor& images);

}  // namespace fames::models
