// File helpers that never leave a half-written output behind: everything is written to a
// temporary file beside the target and renamed over it only once complete.
#pragma once
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace fames {

// Calls write(stream) on a temporary file next to `path`, then renames it to `path`.
// On any exception the temporary file is removed and the exception propagates; `path` is untouched.
// Creates missing parent directories. Throws fames::Error if the file cannot be written.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);
void write_file_atomic(const std::string& path, const std::string& contents);

// A temporary path beside `path` (same directory, so rename is atomic) for writers that need a
// file name rather than a stream (e.g. LibTorch's serializer). Pair with commit_temp_file.
std::string temp_path_for(const std::string& path);
void commit_temp_file(const std::string& temp_path, const std::string& path);

// Reads a whole file. Throws fames::Error naming the file if it is missing or unreadable.
std::string read_file(const std::string& path);
std::vector<unsigned char> read_file_bytes(const std::string& path);

bool file_exists(const std::string& path);

}  // namespace fames
