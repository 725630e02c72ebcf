#!/usr/bin/python3
"""Trains a small CIFAR-10 network in PyTorch and exports it to ONNX: the "bring your own network"
walk-through of the README (fames import -> fames quantize -> fames run).

    /usr/bin/python3 scripts/train-cifar-pytorch.py CIFAR_DIR OUT_DIR [--epochs N]

CIFAR_DIR is the ImageFolder of ../shared/datasets/cifar10-jpeg.tar.gz (train/ and test/). Writes
OUT_DIR/cifar_net.onnx (input normalization inside the graph, so fames is fed 0..1 images: import
with --mean 0 0 0 --std 1 1 1), OUT_DIR/cifar_net.json (PyTorch's test top-1 on all test images),
and OUT_DIR/check.input.npy / check.output.npy (a batch and PyTorch's outputs, for
`fames import --check-input/--check-output`). Resumable: OUT_DIR/train.ckpt is written after each
epoch and picked up by the next run.
"""
import argparse
import json
import os

import numpy as np
import torch
import torchvision
from torch import nn
from torchvision import transforms

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


class CifarNet(nn.Module):
    """Five 3x3 convolutions with BatchNorm, three max-pools, global average pooling, one linear."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(*block(3, 32), *block(32, 32), nn.MaxPool2d(2), *block(32, 64),
                                      *block(64, 64), nn.MaxPool2d(2), *block(64, 128), nn.MaxPool2d(2))
        self.classifier = nn.Linear(128, 10)

    def forward(self, x):
        x = self.features((x - self.mean) / self.std)
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def loaders(root, batch):
    train = torchvision.datasets.ImageFolder(os.path.join(root, "train"), transforms.Compose(
        [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor()]))
    test = torchvision.datasets.ImageFolder(os.path.join(root, "test"), transforms.ToTensor())
    return (torch.utils.data.DataLoader(train, batch_size=batch, shuffle=True, num_workers=1),
            torch.utils.data.DataLoader(test, batch_size=500, shuffle=False, num_workers=1))


def evaluate(model, test):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in test:
            correct += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    return correct / total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cifar_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    torch.manual_seed(0)
    model = CifarNet()
    train, test = loaders(args.cifar_dir, args.batch)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, epochs=args.epochs, steps_per_epoch=len(train))
    ckpt = os.path.join(args.out_dir, "train.ckpt")
    start = 0
    if os.path.exists(ckpt):
        state = torch.load(ckpt)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        start = state["epoch"]
        print(f"resuming after epoch {start}")
    for epoch in range(start, args.epochs):
        model.train()
        seen = correct = 0
        for x, y in train:
            optimizer.zero_grad()
            out = model(x)
            loss = nn.functional.cross_entropy(out, y)
            loss.backward()
            optimizer.step()
            schedule.step()
            seen += len(y)
            correct += (out.argmax(1) == y).sum().item()
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "schedule": schedule.state_dict(), "epoch": epoch + 1}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
        print(f"epoch {epoch + 1}/{args.epochs}: train top-1 {correct / seen:.4f}", flush=True)
    top1 = evaluate(model, test)
    print(f"PyTorch test top-1 {top1:.4f} on {len(test.dataset)} images")
    model.eval()
    x = next(iter(test))[0][:16]
    with torch.no_grad():
        y = model(x)
    onnx_path = os.path.join(args.out_dir, "cifar_net.onnx")
    torch.onnx.export(model, x, onnx_path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    np.save(os.path.join(args.out_dir, "check.input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(args.out_dir, "check.output.npy"), y.numpy().astype(np.float32))
    with open(os.path.join(args.out_dir, "cifar_net.json"), "w") as f:
        json.dump({"pytorch_test_top1": top1, "test_images": len(test.dataset), "epochs": args.epochs}, f, indent=1)
    print(f"wrote {onnx_path}")


if __name__ == "__main__":
    main()
