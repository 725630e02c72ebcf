// Loading a hostile checkpoint (LibTorch part): tensors that do not fit the architecture, bit widths
// outside 2..8, and datasets whose classes differ from the model's. Each is one fames::Error
// naming the file or flag, before any forward pass could fail or divide by zero.
#include <gtest/gtest.h>

#include <functional>

#include "models/checkpoint.h"
#include "quant/quant_layer.h"
#include "error_message.h"
#include "util/error.h"

namespace fames::models {
namespace {

using fames::testing::error_message;

ModelSpec lenet_spec() {
  ModelSpec spec;
  spec.arch = "lenet5";
  spec.in_channels = 1;
  spec.image_size = 28;
  spec.num_classes = 10;
  return spec;
}

// Saves a LeNet-5 after `edit` changed it, and returns the path.
std::string saved_lenet(const std::string& name,
                        const std::function<void(torch::nn::Module&)>& edit,
                        ModelSpec spec = lenet_spec(), nlohmann::json meta = {}) {
  auto model = build_model(spec);
  edit(*model);
  const std::string path = ::testing::TempDir() + name;
  save_model(path, *model, spec, meta);
  return path;
}

TEST(CheckpointLoad, BitWidthsOutsideTwoToEightAreRejected) {
  for (int bits : {0, 1, 99}) {
    const std::string path = saved_lenet("bits.pt", [&](torch::nn::Module& m) {
      quant::quant_layers(m).begin()->second->bits.fill_(bits);
    });
    const std::string e = error_message([&] { load_model(path); });
    EXPECT_NE(e.find("model '" + path + "': layer "), std::string::npos) << e;
    EXPECT_NE(e.find("both must be 2..8"), std::string::npos) << e;
  }
}

TEST(CheckpointLoad, TensorsMustHaveTheArchitecturesShapes) {
  const std::string path = saved_lenet("shape.pt", [](torch::nn::Module& m) {
    torch::NoGradGuard no_grad;
    m.named_parameters()["fc3.weight"].set_(torch::zeros({3, 3}));
  });
  const std::string e = error_message([&] { load_model(path); });
  EXPECT_NE(e.find("tensor fc3.weight is Float [3, 3], but lenet5 needs Float [10, 84]"),
            std::string::npos)
      << e;
}

TEST(CheckpointLoad, ClassCountBelowTwoIsRejected) {
  ModelSpec one_class = lenet_spec();
  one_class.num_classes = 1;
  const std::string path = saved_lenet("one.pt", [](torch::nn::Module&) {}, one_class);
  EXPECT_EQ(error_message([&] { load_model(path); }),
            "model '" + path + "' metadata: \"num_classes\" is 1; it must be 2..100000");
}

Dataset three_class_data() {
  Dataset d;
  d.name = "imagefolder:three";
  d.channels = 1;
  d.height = d.width = 28;
  d.classes = {"Bag", "Coat", "Dress"};
  d.labels = {0, 1, 2, 2};
  d.pixels.assign(4 * 28 * 28, 0);
  return d;
}

TEST(CheckpointLoad, DatasetClassesMustMatchOrBeMappedByName) {
  nlohmann::json meta;
  meta["classes"] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  const LoadedModel model = load_model(saved_lenet("named.pt", [](torch::nn::Module&) {},
                                                   lenet_spec(), meta));
  Dataset data = three_class_data();
  EXPECT_EQ(error_message([&] { check_dataset_fits(data, model, "--data"); }),
            "--data imagefolder:three has 3 classes but the model has 10; pass --classes-by-name "
            "to match them by name");
  match_dataset_classes(data, model, "--data", /*by_name=*/true);
  EXPECT_EQ(data.labels, (std::vector<int32_t>{8, 4, 3, 3}));  // Bag, Coat, Dress, Dress
  EXPECT_EQ(data.classes.size(), 10u);
  Dataset unknown = three_class_data();
  unknown.classes[1] = "Hat";
  const std::string e = error_message([&] { match_dataset_classes(unknown, model, "--data", true); });
  EXPECT_NE(e.find("--data imagefolder:three: class 'Hat' is not one of the model's classes"),
            std::string::npos)
      << e;
  Dataset rgb = three_class_data();
  rgb.channels = 3;
  EXPECT_NE(error_message([&] { check_dataset_fits(rgb, model, "--data"); }).find("3x28x28 images"),
            std::string::npos);
}

}  // namespace
}  // namespace fames::models
