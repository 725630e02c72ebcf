#!/usr/bin/python3
"""Exports ONNX fixtures for `fames import` tests: torchvision architectures (random weights,
nothing is downloaded) and their PyTorch outputs on a fixed random batch.

Usage: /usr/bin/python3 scripts/onnx_fixtures.py OUT_DIR [--heavy] [--only NAME ...]

Writes, per network NAME: NAME.onnx, NAME.input.npy (float32 NCHW batch of 2) and NAME.output.npy
(PyTorch's output for it, float32). Batch size is a dynamic axis, so the graphs keep their
Shape/Gather/Reshape chains. BatchNorm statistics are randomized so that BN folding is exercised.
The default set is small enough to commit (tests/fixtures/onnx/); --heavy adds the full-width
networks (ResNet-18, DenseNet-121, EfficientNet-B0, MobileNetV3-small at width 1) for a script run.
Needs Debian's python3-torch, python3-torchvision and python3-onnx.
"""
import argparse
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, ResNet

M = torchvision.models


class CifarCnn(nn.Module):
    """The usual small CIFAR network: three conv-BN-ReLU-pool stages and two linear layers."""

    def __init__(self, num_classes=10):
        super().__init__()
        layers, cin = [], 3
        for cout in (16, 32, 64):
            layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.fc1 = nn.Linear(64 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)  # exported as Shape -> Gather -> Unsqueeze -> Concat -> Reshape
        return self.fc2(torch.relu(self.fc1(x)))


class FmnistCnn(nn.Module):
    """A LeNet-like network for 1x28x28 Fashion-MNIST images (the dataset CI has), for the
    import -> quantize test; ends in Softmax-free logits with a Gemm that has transB and alpha."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5, padding=2)
        self.conv2 = nn.Conv2d(8, 16, 5)
        self.fc = nn.Linear(16 * 5 * 5, num_classes)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.nn.functional.avg_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


class ScaledResNet18(ResNet):
    """torchvision's ResNet-18 (BasicBlock, [2, 2, 2, 2], 7x7 stem, max pool) with its widths 64..512
    divided by `divisor`; forward() is torchvision's."""

    def __init__(self, divisor, num_classes=10):
        nn.Module.__init__(self)
        w = [c // divisor for c in (64, 128, 256, 512)]
        self._norm_layer, self.dilation, self.groups, self.base_width = nn.BatchNorm2d, 1, 1, 64
        self.inplanes = w[0]
        self.conv1 = nn.Conv2d(3, w[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(BasicBlock, w[0], 2)
        self.layer2 = self._make_layer(BasicBlock, w[1], 2, stride=2)
        self.layer3 = self._make_layer(BasicBlock, w[2], 2, stride=2)
        self.layer4 = self._make_layer(BasicBlock, w[3], 2, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(w[3], num_classes)


def vgg11_narrow(divisor, num_classes=10):
    """torchvision's VGG-11 with BN, widths divided by `divisor`, global pooling and a small head
    (the 7x7 adaptive pooling of the original does not fit 32x32 inputs)."""
    cfg = [c if c == "M" else c // divisor for c in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")]
    model = torchvision.models.vgg.VGG(torchvision.models.vgg.make_layers(cfg, batch_norm=True), num_classes=num_classes)
    model.avgpool = nn.AdaptiveAvgPool2d((1, 1))
    model.classifier = nn.Sequential(nn.Linear(512 // divisor, 64), nn.ReLU(True), nn.Dropout(), nn.Linear(64, num_classes))
    return model


def squeezenet1_1_narrow(divisor, num_classes=10):
    """torchvision's SqueezeNet 1.1 (same layers, ceil-mode pooling, Fire modules) with every width
    divided by `divisor`."""
    from torchvision.models.squeezenet import Fire
    d = divisor
    fires = [(64, 16, 64), (128, 16, 64), "M", (128, 32, 128), (256, 32, 128), "M", (256, 48, 192), (384, 48, 192),
             (384, 64, 256), (512, 64, 256)]
    layers = [nn.Conv2d(3, 64 // d, 3, stride=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True)]
    for f in fires:
        layers.append(nn.MaxPool2d(3, 2, ceil_mode=True) if f == "M" else Fire(f[0] // d, f[1] // d, f[2] // d, f[2] // d))
    model = M.squeezenet1_1(num_classes=num_classes)
    model.features = nn.Sequential(*layers)
    model.classifier[1] = nn.Conv2d(512 // d, num_classes, 1)
    return model


def efficientnet_b0(width, depth, num_classes=10):
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
    setting, last = _efficientnet_conf("efficientnet_b0", width_mult=width, depth_mult=depth)
    return EfficientNet(setting, 0.2, num_classes=num_classes, last_channel=last)


# name: (constructor, input size, opset, committed)
NETWORKS = {
    "cifar_cnn": (lambda: CifarCnn(), 32, 13, True),
    "fmnist_cnn": (lambda: FmnistCnn(), 28, 14, True),
    "resnet18_w16": (lambda: ScaledResNet18(16), 32, 17, True),
    "vgg11_w16": (lambda: vgg11_narrow(16), 32, 13, True),
    "squeezenet1_1_w4": (lambda: squeezenet1_1_narrow(4), 64, 13, True),
    "mobilenet_v2_w025": (lambda: M.mobilenet_v2(num_classes=10, width_mult=0.25), 32, 13, True),
    "mobilenet_v3_small_w025": (lambda: M.mobilenet_v3_small(num_classes=10, width_mult=0.25), 32, 17, True),
    "shufflenet_v2_w": (lambda: M.ShuffleNetV2([4, 8, 4], [8, 16, 32, 64, 128], num_classes=10), 32, 13, True),
    "efficientnet_b0_w025": (lambda: efficientnet_b0(0.25, 0.34), 32, 17, True),
    "densenet_g8": (lambda: M.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16,
                                       num_classes=10), 32, 13, True),
    "resnet18": (lambda: M.resnet18(num_classes=10), 32, 13, False),
    "squeezenet1_1": (lambda: M.squeezenet1_1(num_classes=10), 64, 13, False),
    "shufflenet_v2_x0_5": (lambda: M.shufflenet_v2_x0_5(num_classes=10), 32, 13, False),
    "mobilenet_v2": (lambda: M.mobilenet_v2(num_classes=10), 32, 13, False),
    "densenet121": (lambda: M.densenet121(num_classes=10), 32, 13, False),
    "efficientnet_b0": (lambda: M.efficientnet_b0(num_classes=10), 32, 17, False),
    "mobilenet_v3_small": (lambda: M.mobilenet_v3_small(num_classes=10), 32, 17, False),
    # At 224 the features end at 7x7, so the 4096-wide classifier is the original one (530 MB).
    "vgg11_bn": (lambda: M.vgg11_bn(num_classes=10), 224, 13, False),
}


def randomize_batch_norm(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)


def export(name, out_dir):
    make, size, opset, _ = NETWORKS[name]
    torch.manual_seed(0)
    model = make().eval()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        randomize_batch_norm(model, gen)
        x = torch.randn(2, 1 if name == "fmnist_cnn" else 3, size, size, generator=gen)
        y = model(x)
    path = os.path.join(out_dir, name + ".onnx")
    # cifar_cnn keeps its BatchNormalization nodes (TrainingMode.PRESERVE of an eval-mode model);
    # the exporter folds them into the convolutions of the others.
    keep_bn = name == "cifar_cnn"
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=not keep_bn,
                      training=torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL)
    onnx.checker.check_model(onnx.load(path))
    np.save(os.path.join(out_dir, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out_dir, name + ".output.npy"), y.numpy().astype(np.float32))
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print(f"{name}: {os.path.getsize(path) / 1e6:.2f} MB, opset {opset}, input {'x'.join(map(str, x.shape))}, "
          f"ops {' '.join(ops)}")


def export_error_models(out_dir):
    """Two small graphs that `fames import` must refuse: an operator outside the set (Erf) and a
    Conv whose weight is a graph input rather than an initializer."""
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["r"], name="relu"),
                               helper.make_node("Erf", ["r"], ["y"], name="the_erf")], "unsupported", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              os.path.join(out_dir, "error_unsupported_op.onnx"))
    w = helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 1, 1, 1])
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="the_conv")], "dynamic", [x, w], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              os.path.join(out_dir, "error_dynamic_weight.onnx"))
    print("error_unsupported_op.onnx, error_dynamic_weight.onnx")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--heavy", action="store_true", help="also the full-size networks")
    parser.add_argument("--only", nargs="*", help="just these networks")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    names = args.only or [n for n, spec in NETWORKS.items() if spec[3] or args.heavy]
    for name in names:
        export(name, args.out_dir)
    if not args.only:
        export_error_models(args.out_dir)


if __name__ == "__main__":
    main()
