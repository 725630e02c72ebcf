// Fashion-MNIST: four IDX files (Y. LeCun's MNIST format), usually gzipped. An IDX file is a
// big-endian header -- magic 0x0000 <type> <ndims>, then ndims uint32 sizes -- followed by the
// raw array. Images are type 0x08 (uint8) with 3 dims (n, rows, cols); labels 0x08 with 1 dim.
#include <zlib.h>

#include <filesystem>

#include "data/loaders.h"
#include "util/error.h"

namespace fames {
namespace {

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                  "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};
constexpr float kFashionMean = 0.2860f, kFashionStd = 0.3530f;

// Reads a whole gzip file (zlib also passes plain, uncompressed files through unchanged).
std::string read_gzip_file(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) fail("cannot open {}", path);
  std::string contents;
  std::vector<char> chunk(1 << 20);
  while (true) {
    const int n = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      fail("cannot decompress {}: {}", path, message);
    }
    if (n == 0) break;
    contents.append(chunk.data(), n);
  }
  // A gzip stream cut short reads as a clean end of file; zlib reports it only through gzerror.
  int code = Z_OK;
  const std::string message = gzerror(file, &code);
  gzclose(file);
  if (code != Z_OK && code != Z_STREAM_END) fail("cannot decompress {}: {}", path, message);
  return contents;
}

uint32_t read_big_endian_u32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + offset;
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

struct IdxArray {
  std::vector<uint32_t> dims;
  size_t data_offset = 0;  // where the uint8 array starts in the file's bytes
};

// Checks the header of a uint8 IDX array with `ndims` dimensions and the exact file size.
IdxArray parse_idx_header(const std::string& bytes, int ndims, const std::string& path) {
  const uint32_t expected_magic = 0x0800u | static_cast<uint32_t>(ndims);
  if (bytes.size() < 4 || read_big_endian_u32(bytes, 0) != expected_magic) {
    fail("{} is not a uint8 IDX file with {} dimension(s): expected magic 0x{:08x}", path, ndims,
         expected_magic);
  }
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  if (bytes.size() < header) fail("{} is truncated inside its IDX header", path);
  IdxArray array;
  uint64_t count = 1;
  for (int d = 0; d < ndims; ++d) {
    const uint32_t dim = read_big_endian_u32(bytes, 4 + 4 * d);
    array.dims.push_back(dim);
    // Saturate instead of overflowing: anything past the file size fails the check below.
    count = (dim != 0 && count > bytes.size() / dim) ? bytes.size() + 1 : count * dim;
  }
  array.data_offset = header;
  if (bytes.size() - header != count) {
    fail("{} holds {} data bytes but its IDX header promises {}", path, bytes.size() - header,
         count);
  }
  return array;
}

// "<dir>/<stem>.gz" if present, else "<dir>/<stem>"; the .gz name for the error if neither.
std::string find_idx_file(const std::string& dir, const std::string& stem) {
  const std::string gz = dir + "/" + stem + ".gz";
  if (std::filesystem::exists(gz)) return gz;
  const std::string plain = dir + "/" + stem;
  if (std::filesystem::exists(plain)) return plain;
  fail("Fashion-MNIST file {} not found (nor {} uncompressed)", gz, stem);
}

}  // namespace

Dataset load_fashion_mnist(const std::string& dir, Split split) {
  if (!std::filesystem::is_directory(dir)) {
    fail("Fashion-MNIST directory {} not found (Debian: apt-get install dataset-fashion-mnist)",
         dir);
  }
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  const std::string images_path = find_idx_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_idx_file(dir, prefix + "-labels-idx1-ubyte");

  const std::string image_bytes = read_gzip_file(images_path);
  const IdxArray images = parse_idx_header(image_bytes, 3, images_path);
  const std::string label_bytes = read_gzip_file(labels_path);
  const IdxArray labels = parse_idx_header(label_bytes, 1, labels_path);
  if (images.dims[0] != labels.dims[0]) {
    fail("{} holds {} labels but {} holds {} images", labels_path, labels.dims[0], images_path,
         images.dims[0]);
  }

  Dataset dataset;
  dataset.name = "fashion-mnist";
  dataset.channels = 1;
  dataset.height = images.dims[1];
  dataset.width = images.dims[2];
  dataset.classes = kFashionClasses;
  dataset.mean = {kFashionMean, kFashionMean, kFashionMean};
  dataset.stddev = {kFashionStd, kFashionStd, kFashionStd};
  dataset.pixels.assign(image_bytes.begin() + images.data_offset, image_bytes.end());
  dataset.labels.reserve(labels.dims[0]);
  for (size_t i = 0; i < labels.dims[0]; ++i) {
    const auto label = static_cast<unsigned char>(label_bytes[labels.data_offset + i]);
    if (label >= kFashionClasses.size()) {
      fail("{}: label {} of image {} is not a Fashion-MNIST class (0..9)", labels_path, label, i);
    }
    dataset.labels.push_back(label);
  }
  return dataset;
}

}  // namespace fames
