// Streaming ImageFolder: list the files, then decode batch by batch (data/image_stream.h).
#include "data/image_stream.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "data/image_codec.h"
#include "data/loaders.h"
#include "util/error.h"
#include "util/files.h"

namespace fames {
namespace {

// A window of the image in fractions of its width and height, and whether to mirror it.
struct Window {
  double x = 0, y = 0, w = 1, h = 1;
  bool flip = false;
};

// The evaluation window: shorter side scaled to `resize`, the centre `crop` square.
Window centre_window(int width, int height, int resize, int crop) {
  const double scale = static_cast<double>(resize) / std::min(width, height);
  Window win;
  win.w = std::min(1.0, crop / (scale * width));
  win.h = std::min(1.0, crop / (scale * height));
  win.x = (1 - win.w) / 2;
  win.y = (1 - win.h) / 2;
  return win;
}

// torchvision's RandomResizedCrop(scale = (0.08, 1), ratio = (3/4, 4/3)) and a coin for the flip.
Window random_window(int width, int height, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0, 1);
  const double area = static_cast<double>(width) * height;
  Window win;
  bool found = false;
  for (int attempt = 0; attempt < 10 && !found; ++attempt) {
    const double target = area * (0.08 + 0.92 * unit(rng));
    const double ratio = std::exp(std::log(3.0 / 4) + (std::log(4.0 / 3) - std::log(3.0 / 4)) * unit(rng));
    const double w = std::round(std::sqrt(target * ratio)), h = std::round(std::sqrt(target / ratio));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      win.w = w / width;
      win.h = h / height;
      win.x = std::floor(unit(rng) * (width - w + 1)) / width;
      win.y = std::floor(unit(rng) * (height - h + 1)) / height;
      found = true;
    }
  }
  if (!found) {  // the central crop with the aspect ratio clamped to the range
    const double aspect = static_cast<double>(width) / height;
    double w = width, h = height;
    if (aspect < 3.0 / 4) h = std::round(w / (3.0 / 4));
    if (aspect > 4.0 / 3) w = std::round(h * (4.0 / 3));
    win.w = w / width;
    win.h = h / height;
    win.x = (1 - win.w) / 2;
    win.y = (1 - win.h) / 2;
  }
  win.flip = unit(rng) < 0.5;
  return win;
}

// Bilinear resampling of `win` of the HWC image onto size x size CHW pixels. A sample that falls
// on a pixel centre takes that pixel exactly.
void resample(const std::vector<uint8_t>& hwc, int width, int height, const Window& win, int size, uint8_t* chw) {
  const double step_x = win.w * width / size, step_y = win.h * height / size;
  std::vector<int> x0(size), x1(size);
  std::vector<double> tx(size);
  for (int j = 0; j < size; ++j) {
    const int column = win.flip ? size - 1 - j : j;
    const double sx = std::clamp(win.x * width + (column + 0.5) * step_x - 0.5, 0.0, width - 1.0);
    x0[j] = static_cast<int>(sx);
    x1[j] = std::min(x0[j] + 1, width - 1);
    tx[j] = sx - x0[j];
  }
  const size_t plane = static_cast<size_t>(size) * size;
  for (int i = 0; i < size; ++i) {
    const double sy = std::clamp(win.y * height + (i + 0.5) * step_y - 0.5, 0.0, height - 1.0);
    const int y0 = static_cast<int>(sy), y1 = std::min(y0 + 1, height - 1);
    const double ty = sy - y0;
    const uint8_t* row0 = hwc.data() + static_cast<size_t>(y0) * width * 3;
    const uint8_t* row1 = hwc.data() + static_cast<size_t>(y1) * width * 3;
    for (int j = 0; j < size; ++j)
      for (int c = 0; c < 3; ++c) {
        const double top = row0[x0[j] * 3 + c] * (1 - tx[j]) + row0[x1[j] * 3 + c] * tx[j];
        const double bottom = row1[x0[j] * 3 + c] * (1 - tx[j]) + row1[x1[j] * 3 + c] * tx[j];
        chw[c * plane + static_cast<size_t>(i) * size + j] =
            static_cast<uint8_t>(std::lround(std::clamp(top * (1 - ty) + bottom * ty, 0.0, 255.0)));
      }
  }
}

// Parses the part of the spec before the colon: "stream", "stream@C" or "stream@C/R".
void parse_sizes(const std::string& spec, const std::string& kind, ImageStream& stream) {
  if (kind == "stream") return;
  int crop = 0, resize = 0;
  char extra = 0;
  const int fields = std::sscanf(kind.c_str(), "stream@%d/%d%c", &crop, &resize, &extra);
  if (fields == 1) resize = static_cast<int>(std::lround(crop * 8.0 / 7));
  if ((fields != 1 && fields != 2) || crop < 1 || resize < crop || crop > 4096)
    fail("--data '{}': expected stream:DIR, stream@CROP:DIR or stream@CROP/RESIZE:DIR with 1 <= CROP <= RESIZE", spec);
  stream.crop = crop;
  stream.resize = resize;
}

}  // namespace

void read_stream_images(const Dataset& data, const std::vector<int64_t>& indices, std::mt19937_64* rng,
                        uint8_t* out) {
  const ImageStream& stream = *data.stream;
  const int64_t n = static_cast<int64_t>(indices.size());
  std::vector<std::string> bytes(n);
  std::vector<Window> windows(n);
  if (rng) {  // the training windows need each image's size: read headers, draw in order, then decode
    std::vector<ImageInfo> infos(n);
    parallel_for_files(n, [&](int64_t i) {
      const std::string& path = stream.paths[indices[i]];
      bytes[i] = read_file(path);
      infos[i] = read_image_info(bytes[i], path);
    }, 1);
    for (int64_t i = 0; i < n; ++i) windows[i] = random_window(infos[i].width, infos[i].height, *rng);
  }
  const int64_t image_bytes = data.image_bytes();
  parallel_for_files(n, [&](int64_t i) {
    const std::string& path = stream.paths[indices[i]];
    if (!rng) bytes[i] = read_file(path);
    thread_local std::vector<uint8_t> hwc;
    // Windows are fractions, so the image may be decoded smaller (JPEG DCT scaling) when it is
    // large: for evaluation down to the resize target, for training (small windows) not at all.
    const ImageInfo full = read_image_info(bytes[i], path);
    const ImageInfo got = decode_image_hwc_at_least(bytes[i], path, 3, rng ? std::min(full.width, full.height) : stream.resize, hwc);
    const Window win = rng ? windows[i] : centre_window(full.width, full.height, stream.resize, stream.crop);
    resample(hwc, got.width, got.height, win, stream.crop, out + i * image_bytes);
    std::string().swap(bytes[i]);
  }, 1);
}

namespace {

// The listing of one split, without normalization.
Dataset list_stream(const std::string& spec, Split split) {
  const size_t colon = spec.find(':');
  const std::string root = spec.substr(colon + 1);
  if (colon == std::string::npos || root.empty()) fail("--data '{}' needs a directory: stream:DIR", spec);
  auto stream = std::make_shared<ImageStream>();
  parse_sizes(spec, spec.substr(0, colon), *stream);
  FileList list = list_image_files(split_folder(root, split));
  Dataset dataset;
  dataset.name = "stream:" + root;
  dataset.channels = 3;
  dataset.height = dataset.width = stream->crop;
  dataset.classes = std::move(list.classes);
  dataset.labels = std::move(list.labels);
  stream->paths = std::move(list.paths);
  dataset.stream = stream;
  return dataset;
}

}  // namespace

Dataset load_image_stream(const std::string& spec, Split split) {
  Dataset dataset = list_stream(spec, split);
  // Normalization from the training images load_image_folder would use, a chunk at a time.
  const Dataset train = split == Split::kTrain ? dataset : list_stream(spec, Split::kTrain);
  if (train.classes != dataset.classes)
    fail("the class folders of the two splits of {} differ; both splits need the same classes", spec);
  const std::vector<int64_t> sample = stats_sample(train.size());
  ChannelSums sums;
  constexpr size_t kChunk = 64;
  std::vector<uint8_t> pixels(kChunk * static_cast<size_t>(dataset.image_bytes()));
  for (size_t begin = 0; begin < sample.size(); begin += kChunk) {
    const std::vector<int64_t> chunk(sample.begin() + begin, sample.begin() + std::min(sample.size(), begin + kChunk));
    read_stream_images(train, chunk, nullptr, pixels.data());
    for (size_t i = 0; i < chunk.size(); ++i)
      sums.add(pixels.data() + i * dataset.image_bytes(), 3, dataset.height * dataset.width);
  }
  sums.finish(3, dataset.mean, dataset.stddev);
  return dataset;
}

}  // namespace fames
