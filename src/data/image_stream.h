// Streaming image datasets: an ImageFolder tree of JPEG/PNG files of any size whose images are
// decoded only when a batch needs them, so memory does not grow with the number of images (a
// Dataset then holds labels and file paths, about 100 bytes per image, and no pixels).
//
// Contract:
// - load_image_stream lists the files of one split (ImageFolder layout, data/dataset.h) and
//   computes the normalization from the same training images load_image_folder uses, decoded with
//   the evaluation transform, a few at a time. Images are always 3-channel (gray is replicated).
// - Evaluation transform: the shorter side is resized to `resize` (bilinear) and the centre
//   `crop` x `crop` square is cut out. With resize == crop == the image's own square size the
//   pixels are exactly the file's (an in-memory ImageFolder of the same files gives the same batch).
// - Training transform (read_stream_images with an rng): torchvision's RandomResizedCrop defaults
//   (area 8%..100%, aspect 3/4..4/3, ten tries, else the central crop of the clamped aspect)
//   resized to crop x crop, then a horizontal flip with probability 1/2.
// - Files are decoded on all OpenMP threads; errors throw fames::Error naming the file.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace fames {

struct ImageStream {
  std::vector<std::string> paths;  // one per image; the Dataset holds the labels
  int crop = 224, resize = 256;    // output side; shorter side before the centre crop
};

// "stream:DIR" (crop 224 after resizing to 256), "stream@C:DIR" (crop C after resizing to
// round(C * 8 / 7)) or "stream@C/R:DIR" (crop C after resizing to R >= C): the split's images of
// the ImageFolder DIR. Throws fames::Error naming --data for a malformed spec.
Dataset load_image_stream(const std::string& spec, Split split);

// Decodes the images at `indices` of the streaming dataset `data` into `out` (indices.size()
// images of data.image_bytes() bytes, CHW). Without `rng`: the evaluation transform; with it: the
// training transform, its parameters drawn from `rng` in index order before any decoding (the same
// rng state gives the same images whatever the number of threads).
void read_stream_images(const Dataset& data, const std::vector<int64_t>& indices, std::mt19937_64* rng,
                        uint8_t* out);

}  // namespace fames
