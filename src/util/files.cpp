#include "util/files.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "util/error.h"

namespace fames {
namespace fs = std::filesystem;

std::string temp_path_for(const std::string& path) {
  fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) fail("cannot create directory '{}': {}", target.parent_path().string(), ec.message());
  }
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return fmt::format("{}.{}.{:x}.tmp", path, getpid(), rng() & 0xffffff);
}

void commit_temp_file(const std::string& temp_path, const std::string& path) {
  std::error_code ec;
  fs::rename(temp_path, path, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(temp_path, ec);
    fail("cannot write '{}': renaming the finished temporary file onto it failed: {}", path, why);
  }
}

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string temp = temp_path_for(path);
  try {
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      if (!out)
        fail("cannot write '{}': cannot open a temporary file beside it: {}", path,
             std::strerror(errno));
      write(out);
      out.flush();
      if (!out) fail("cannot write '{}': write failed (disk full?)", path);
    }
    commit_temp_file(temp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(temp, ec);
    throw;
  }
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  write_file_atomic(path, [&](std::ostream& out) { out.write(contents.data(), static_cast<std::streamsize>(contents.size())); });
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) fail("cannot read '{}': it is a directory", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read '{}': {}", path, std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail("cannot read '{}': {}", path, std::strerror(errno));
  return buffer.str();
}

std::vector<unsigned char> read_file_bytes(const std::string& path) {
  const std::string s = read_file(path);
  return std::vector<unsigned char>(s.begin(), s.end());
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

}  // namespace fames
