#include "data/image_codec.h"

#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "util/error.h"

namespace fames {
namespace {

enum class Format { kJpeg, kPng };

Format detect_format(const std::string& bytes, const std::string& path) {
  static const unsigned char kJpegMagic[3] = {0xFF, 0xD8, 0xFF};
  static const unsigned char kPngMagic[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (bytes.size() >= sizeof kJpegMagic && std::memcmp(bytes.data(), kJpegMagic, 3) == 0) {
    return Format::kJpeg;
  }
  if (bytes.size() >= sizeof kPngMagic && std::memcmp(bytes.data(), kPngMagic, 8) == 0) {
    return Format::kPng;
  }
  fail("{} is neither a JPEG nor a PNG file (unrecognised leading bytes)", path);
}

// One TurboJPEG decompressor per thread: creating one per image would dominate decoding time
// for 32x32 images. After a failed call a handle can keep stale state (libjpeg-turbo 2.1 then
// reports a 0x0 header for the next file), so a failure discards the thread's handle.
struct Decompressor {
  tjhandle handle = nullptr;
  ~Decompressor() { reset(); }
  void reset() {
    if (handle) tjDestroy(handle);
    handle = nullptr;
  }
};
thread_local Decompressor thread_decompressor;

tjhandle decompressor() {
  if (!thread_decompressor.handle) thread_decompressor.handle = tjInitDecompress();
  if (!thread_decompressor.handle) {
    fail("cannot initialise the JPEG decoder: {}", tjGetErrorStr2(nullptr));
  }
  return thread_decompressor.handle;
}

// Throws fames::Error "<what> <path>: <decoder message>" and discards the failed handle.
[[noreturn]] void fail_jpeg(const char* what, const std::string& path) {
  const std::string message = tjGetErrorStr2(thread_decompressor.handle);
  thread_decompressor.reset();
  fail("{} {}: {}", what, path, message);
}

const unsigned char* data_of(const std::string& bytes) {
  return reinterpret_cast<const unsigned char*>(bytes.data());
}

ImageInfo jpeg_info(const std::string& bytes, const std::string& path) {
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(decompressor(), data_of(bytes), bytes.size(), &width, &height,
                          &subsampling, &colorspace) != 0) {
    fail_jpeg("cannot read the JPEG header of", path);
  }
  if (width <= 0 || height <= 0) fail("the JPEG header of {} gives no image size", path);
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
    fail("{} is a CMYK JPEG; only grayscale and RGB images are supported", path);
  }
  return ImageInfo{width, height, colorspace == TJCS_GRAY ? 1 : 3};
}

ImageInfo png_info(const std::string& bytes, const std::string& path) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    fail("cannot read the PNG header of {}: {}", path, image.message);
  }
  ImageInfo info{static_cast<int>(image.width), static_cast<int>(image.height),
                 (image.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1};
  png_image_free(&image);
  return info;
}

// Decodes into interleaved (HWC) pixels with `channels` samples per pixel.
void decode_jpeg_hwc(const std::string& bytes, const std::string& path, int channels, int width,
                     int height, uint8_t* hwc) {
  if (tjDecompress2(decompressor(), data_of(bytes), bytes.size(), hwc, width, 0, height,
                    channels == 1 ? TJPF_GRAY : TJPF_RGB, 0) != 0) {
    fail_jpeg("cannot decode the JPEG file", path);
  }
}

void decode_png_hwc(const std::string& bytes, const std::string& path, int channels, uint8_t* hwc) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    fail("cannot read the PNG header of {}: {}", path, image.message);
  }
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  const png_color black{0, 0, 0};
  // png_image_finish_read frees the image's internal state on success and on failure.
  if (!png_image_finish_read(&image, &black, hwc, 0, nullptr)) {
    fail("cannot decode the PNG file {}: {}", path, image.message);
  }
}

}  // namespace

ImageInfo read_image_info(const std::string& bytes, const std::string& path) {
  const ImageInfo info = detect_format(bytes, path) == Format::kJpeg ? jpeg_info(bytes, path)
                                                                     : png_info(bytes, path);
  if (int64_t{info.width} * info.height > kMaxImagePixels)
    fail("{} is {}x{} pixels, more than the reader's limit of {} per image", path, info.width,
         info.height, kMaxImagePixels);
  return info;
}

void decode_image_chw(const std::string& bytes, const std::string& path, int channels, int width,
                      int height, uint8_t* chw, std::vector<uint8_t>& scratch) {
  const ImageInfo info = read_image_info(bytes, path);
  if (info.width != width || info.height != height) {
    fail("{} is {}x{} but the other images are {}x{}; all images must share one size", path,
         info.width, info.height, width, height);
  }
  const size_t plane = static_cast<size_t>(width) * height;
  // Grayscale output is already planar; colour output is interleaved and transposed below.
  uint8_t* hwc = chw;
  if (channels == 3) {
    scratch.resize(plane * 3);
    hwc = scratch.data();
  }
  if (detect_format(bytes, path) == Format::kJpeg) {
    decode_jpeg_hwc(bytes, path, channels, width, height, hwc);
  } else {
    decode_png_hwc(bytes, path, channels, hwc);
  }
  if (channels == 3) {
    for (size_t p = 0; p < plane; ++p) {
      chw[p] = hwc[3 * p];
      chw[plane + p] = hwc[3 * p + 1];
      chw[2 * plane + p] = hwc[3 * p + 2];
    }
  }
}

ImageInfo decode_image_hwc_at_least(const std::string& bytes, const std::string& path, int channels,
                                    int min_short_side, std::vector<uint8_t>& hwc) {
  ImageInfo info = read_image_info(bytes, path);
  info.channels = channels;
  if (detect_format(bytes, path) == Format::kPng) {
    hwc.resize(static_cast<size_t>(info.width) * info.height * channels);
    decode_png_hwc(bytes, path, channels, hwc.data());
    return info;
  }
  int factors = 0;
  const tjscalingfactor* scaling = tjGetScalingFactors(&factors);
  int width = info.width, height = info.height;
  for (int i = 0; scaling && i < factors; ++i) {  // the smallest scaled size that is still large enough
    const int w = TJSCALED(info.width, scaling[i]), h = TJSCALED(info.height, scaling[i]);
    if (std::min(w, h) >= min_short_side && static_cast<int64_t>(w) * h < static_cast<int64_t>(width) * height) {
      width = w;
      height = h;
    }
  }
  hwc.resize(static_cast<size_t>(width) * height * channels);
  decode_jpeg_hwc(bytes, path, channels, width, height, hwc.data());
  return ImageInfo{width, height, channels};
}

}  // namespace fames
