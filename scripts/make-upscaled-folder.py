#!/usr/bin/python3
"""Makes an ImageFolder of variable-size JPEGs around 224 pixels from CIFAR-10's (ImageFolder) JPEGs,
for measuring fames's streaming loader (docs/scaling.md). Each image is upscaled (bilinear) to a
shorter side drawn from 160..320 and an aspect ratio from 3/4..4/3, then written at JPEG quality 85.

    /usr/bin/python3 scripts/make-upscaled-folder.py /tmp/c10/cifar10/train /tmp/up2k 2000

Takes the first COUNT/10 images of each class of SRC (a folder of class folders); writes
OUT/<class>/NNNNN.jpg (one split: fames uses it for both train and test). Seeded: the same
arguments give the same files. Needs python3-torchvision (Debian).
"""
import os
import random
import sys

import torch
import torchvision.io as io


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(1)
    rng = random.Random(1)
    classes = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    per_class = count // len(classes)
    for name in classes:
        files = sorted(os.listdir(os.path.join(src, name)))[:per_class]
        if len(files) < per_class:
            sys.exit(f"{src}/{name} has only {len(files)} images, {per_class} needed")
        os.makedirs(os.path.join(out, name), exist_ok=True)
        for i, f in enumerate(files):
            image = io.read_image(os.path.join(src, name, f))
            short = rng.randint(160, 320)
            aspect = rng.uniform(3 / 4, 4 / 3)
            h, w = (short, round(short * aspect)) if aspect >= 1 else (round(short / aspect), short)
            big = torch.nn.functional.interpolate(image[None].float(), size=(h, w), mode="bilinear",
                                                  align_corners=False)[0]
            data = io.encode_jpeg(big.round().clamp(0, 255).to(torch.uint8), quality=85)
            with open(os.path.join(out, name, f"{i:05d}.jpg"), "wb") as handle:
                handle.write(data.numpy().tobytes())


if __name__ == "__main__":
    main()
