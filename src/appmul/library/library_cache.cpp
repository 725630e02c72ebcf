#include "appmul/library/library_cache.h"

#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <unistd.h>

#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"
#include "fames_version.h"

namespace fames {
namespace {

namespace fs = std::filesystem;

}  // namespace

std::string cache_root() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/fames/lib";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/fames/lib";
}

uint64_t executable_hash() {
  static const uint64_t hash = [] {
    try {
      return hash_path("/proc/self/exe");
    } catch (const Error&) {
      return uint64_t{0};
    }
  }();
  return hash;
}

std::string library_cache_key(const std::string& settings) {
  const std::string text =
      fmt::format("{}\n{}\n{:016x}", settings, FAMES_VERSION, executable_hash());
  return fmt::format("{:016x}", fnv1a64(text.data(), text.size()));
}

bool restore_cached_library(const std::string& key, const std::string& out) {
  const fs::path entry = fs::path(cache_root()) / key;
  std::error_code ec;
  if (!fs::exists(entry / "index.json", ec)) return false;
  // Another process may store or replace the entry meanwhile: anything that cannot be read is a
  // miss, never an error (the caller then builds the library itself).
  std::string index;
  try {
    index = read_file((entry / "index.json").string());
  } catch (const Error&) {
    return false;
  }
  fs::create_directories(out, ec);
  for (const auto& f : fs::directory_iterator(entry, ec)) {
    if (f.path().filename() == "index.json") continue;
    fs::copy_file(f.path(), fs::path(out) / f.path().filename(),
                  fs::copy_options::overwrite_existing, ec);
    if (ec) return false;
  }
  if (ec) return false;
  write_file_atomic((fs::path(out) / "index.json").string(), index);
  return true;
}

bool store_cached_library(const std::string& key, const std::string& dir) {
  std::error_code ec;
  const fs::path root = cache_root();
  fs::create_directories(root, ec);
  if (ec) return false;
  // An entry is never replaced: the key fixes its contents, and another process may be reading it.
  if (fs::exists(root / key / "index.json", ec)) return true;
  const fs::path tmp = root / (key + ".tmp." + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  fs::copy(dir, tmp, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  // The rename fails if another process stored the entry first: the same library.
  if (!ec) fs::rename(tmp, root / key, ec);
  const bool ok = !ec || fs::exists(root / key / "index.json");
  fs::remove_all(tmp, ec);
  return ok;
}

}  // namespace fames
