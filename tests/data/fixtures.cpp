#include "fixtures.h"

#include <gtest/gtest.h>
#include <png.h>
#include <turbojpeg.h>
#include <zlib.h>

#include "data/dataset.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "util/error.h"

namespace fames::testing_data {

ValidationImages::ValidationImages(int64_t count) { set_validation_images(count); }
ValidationImages::~ValidationImages() { set_validation_images(kValidationTenth); }

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/fames_data_test/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void expect_error_mentions(const std::function<void()>& action, const std::string& text) {
  try {
    action();
    ADD_FAILURE() << "expected a fames::Error mentioning " << text;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos)
        << "message: " << e.what() << "\nshould mention: " << text;
  }
}

void write_bytes(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write test fixture " + path);
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::string bytes = {0, 0, 0x08, static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(d >> shift));
  }
  bytes.append(data.begin(), data.end());
  return bytes;
}

void write_gzip(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  gzFile file = gzopen(path.c_str(), "wb");
  if (!file || gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) !=
                   static_cast<int>(bytes.size())) {
    throw std::runtime_error("cannot write test fixture " + path);
  }
  gzclose(file);
}

std::string cifar_record(uint8_t label, const std::vector<uint8_t>& chw) {
  std::string record(1, static_cast<char>(label));
  record.append(chw.begin(), chw.end());
  return record;
}

void write_jpeg(const std::string& path, int width, int height, int channels,
                const std::vector<uint8_t>& hwc) {
  tjhandle handle = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  const int status =
      tjCompress2(handle, hwc.data(), width, 0, height, channels == 1 ? TJPF_GRAY : TJPF_RGB, &jpeg,
                  &size, channels == 1 ? TJSAMP_GRAY : TJSAMP_444, 100, 0);
  tjDestroy(handle);
  if (status != 0) throw std::runtime_error("cannot encode test JPEG " + path);
  write_bytes(path, std::string(reinterpret_cast<char*>(jpeg), size));
  tjFree(jpeg);
}

void write_png(const std::string& path, int width, int height, int channels,
               const std::vector<uint8_t>& hwc) {
  fs::create_directories(fs::path(path).parent_path());
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = width;
  image.height = height;
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&image, path.c_str(), 0, hwc.data(), 0, nullptr)) {
    throw std::runtime_error("cannot write test PNG " + path + ": " + image.message);
  }
}

}  // namespace fames::testing_data
