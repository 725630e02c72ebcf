// Writers for the small dataset files the data tests build in testing::TempDir(): gzipped IDX
// arrays, CIFAR-10 binary batches, JPEG (TurboJPEG) and PNG (libpng) images. Interleaved (HWC)
// pixel buffers in, files out; every writer creates missing parent folders.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>
#include <cstdint>

namespace fames::testing_data {

// A fresh, empty folder under testing::TempDir() named after `name`.
std::string fresh_dir(const std::string& name);

// Sets the process-wide validation split size (data/dataset.h) for one scope, then restores the
// default: tests that read every training file use ValidationImages none(0).
struct ValidationImages {
  explicit ValidationImages(int64_t count);
  ~ValidationImages();
};

// Expects `action` to throw fames::Error whose message contains `text` (usually a file name).
void expect_error_mentions(const std::function<void()>& action, const std::string& text);

void write_bytes(const std::string& path, const std::string& bytes);
std::string read_bytes(const std::string& path);

// A uint8 IDX array (magic 0x000008<ndims>, big-endian sizes, data), gzipped when `gzip`.
std::string idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data);
void write_gzip(const std::string& path, const std::string& bytes);

// One CIFAR-10 binary record: label byte then the 3072 CHW pixels.
std::string cifar_record(uint8_t label, const std::vector<uint8_t>& chw);

// Images from interleaved pixels (channels 1 = gray, 3 = RGB). JPEG uses 4:4:4 at quality 100.
void write_jpeg(const std::string& path, int width, int height, int channels,
                const std::vector<uint8_t>& hwc);
void write_png(const std::string& path, int width, int height, int channels,
               const std::vector<uint8_t>& hwc);

}  // namespace fames::testing_data
