#include "util/hash.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "util/error.h"

namespace fames {
namespace {

namespace fs = std::filesystem;

uint64_t hash_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read '{}' to hash it", path);
  std::vector<char> buffer(1 << 20);
  uint64_t h = kFnv1aOffset;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    h = fnv1a64(buffer.data(), static_cast<size_t>(in.gcount()), h);
  }
  if (in.bad()) fail("reading '{}' to hash it failed", path);
  return h;
}

}  // namespace

uint64_t fnv1a64(const void* data, size_t n, uint64_t h) {
  constexpr uint64_t kPrime = 1099511628211ull;
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= bytes[i];
    h *= kPrime;
  }
  return h;
}

uint64_t hash_path(const std::string& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return hash_file(path);
  if (!fs::is_directory(path, ec)) fail("'{}' does not exist (nothing to hash)", path);
  std::vector<std::string> files;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) files.push_back(fs::relative(it->path(), path, ec).string());
  if (ec) fail("cannot list folder '{}' to hash it: {}", path, ec.message());
  std::sort(files.begin(), files.end());
  uint64_t h = kFnv1aOffset;
  for (const std::string& name : files) {
    const uint64_t content = hash_file((fs::path(path) / name).string());
    h = fnv1a64(name.data(), name.size() + 1, h);  // with its terminating zero as a separator
    h = fnv1a64(&content, sizeof content, h);
  }
  return h;
}

std::string hash_text(uint64_t hash) { return fmt::format("fnv1a64:{:016x}", hash); }

}  // namespace fames
