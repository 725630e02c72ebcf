#include "models/batches.h"

#include <numeric>

#include "data/image_stream.h"

namespace fames::models {

Batch make_batch(const Dataset& data, const std::vector<int64_t>& indices, bool augment, std::mt19937_64& rng) {
  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t c = data.channels, h = data.height, w = data.width;
  Batch batch;
  batch.images = torch::empty({n, c, h, w});
  batch.labels = torch::empty({n}, torch::kInt64);
  float* out = batch.images.data_ptr<float>();
  int64_t* labels = batch.labels.data_ptr<int64_t>();
  // Streaming datasets decode the batch here, with their own training transform when augmenting.
  std::vector<uint8_t> decoded;
  if (data.stream) {
    decoded.resize(static_cast<size_t>(n * data.image_bytes()));
    read_stream_images(data, indices, augment ? &rng : nullptr, decoded.data());
  }
  const bool crop = augment && h >= 32 && !data.stream;
  std::vector<int> shift_y(n, 0), shift_x(n, 0);
  std::vector<char> flip(n, 0);
  if (augment && !data.stream) {
    std::uniform_int_distribution<int> shift(-4, 4), coin(0, 1);
    for (int64_t i = 0; i < n; ++i) {
      if (crop) {
        shift_y[i] = shift(rng);
        shift_x[i] = shift(rng);
      }
      flip[i] = static_cast<char>(coin(rng));
    }
  }
  std::array<float, 3> scale{}, offset{};
  for (int64_t ch = 0; ch < c; ++ch) {
    scale[ch] = 1.0f / (255.0f * data.stddev[ch]);
    offset[ch] = -data.mean[ch] / data.stddev[ch];
  }
  at::parallel_for(0, n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const uint8_t* src = data.stream ? decoded.data() + i * data.image_bytes() : data.image(indices[i]);
      labels[i] = data.labels[indices[i]];
      float* dst = out + i * c * h * w;
      for (int64_t ch = 0; ch < c; ++ch) {
        for (int64_t y = 0; y < h; ++y) {
          const int64_t sy = y + shift_y[i];
          for (int64_t x = 0; x < w; ++x) {
            const int64_t xx = flip[i] ? w - 1 - x : x;
            const int64_t sx = xx + shift_x[i];
            // Zero padding in pixel space is black, i.e. normalised value `offset`.
            const float pixel = (sy < 0 || sy >= h || sx < 0 || sx >= w) ? 0.0f : src[(ch * h + sy) * w + sx];
            dst[(ch * h + y) * w + x] = pixel * scale[ch] + offset[ch];
          }
        }
      }
    }
  });
  batch.images = batch.images.contiguous(at::MemoryFormat::ChannelsLast);  // see use_channels_last
  return batch;
}

Batch make_batch(const Dataset& data, int64_t begin, int64_t count) {
  std::vector<int64_t> indices(static_cast<size_t>(count));
  std::iota(indices.begin(), indices.end(), begin);
  std::mt19937_64 unused;
  return make_batch(data, indices, false, unused);
}

}  // namespace fames::models
