// Decoding one JPEG (libturbojpeg) or PNG (libpng simplified API) file held in memory into
// 8-bit CHW pixels. The format is recognised by its leading magic bytes, not by the file name.
// Errors (unknown format, corrupt or truncated data, unsupported colour space) throw
// fames::Error naming `path`; JPEG warnings such as "premature end of file" count as errors.
// Thread-safe: each thread keeps its own decoder handle.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fames {

// Larger images are refused before any pixel memory is allocated (2^26 pixels: 192 MiB as RGB).
constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

struct ImageInfo {
  int width = 0, height = 0;
  int channels = 0;  // the file's own colour: 1 (grayscale) or 3 (colour); alpha is not counted
};

// Reads only the header of the image in `bytes`. Throws fames::Error for an image of more than
// kMaxImagePixels pixels.
ImageInfo read_image_info(const std::string& bytes, const std::string& path);

// Decodes the image in `bytes` into `chw` (channels * height * width bytes, planes R,G,B or one
// gray plane). Grayscale files are replicated into 3 planes when channels == 3; colour files are
// converted to luma when channels == 1; alpha is composited onto black. `scratch` is reusable
// working memory. Throws fames::Error naming `path` if the file's size is not width x height.
void decode_image_chw(const std::string& bytes, const std::string& path, int channels, int width,
                      int height, uint8_t* chw, std::vector<uint8_t>& scratch);

// Decodes the image in `bytes` into interleaved pixels (HWC, `channels` = 1 or 3 samples per pixel)
// at the smallest size libjpeg-turbo's DCT scaling offers (k/8, k = 1..8) whose shorter side is
// still at least `min_short_side`, or full size if none is smaller (PNG files: always full size).
// `hwc` is resized to hold the result; returns its size. Errors as decode_image_chw.
ImageInfo decode_image_hwc_at_least(const std::string& bytes, const std::string& path, int channels,
                                    int min_short_side, std::vector<uint8_t>& hwc);

}  // namespace fames
