// Content hashes for caches and manifests: 64-bit FNV-1a over bytes. Not cryptographic; it tells
// whether a file or folder changed, not whether someone tampered with it. Stable across platforms
// and runs (it is fixed by its definition, unlike std::hash).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace fames {

constexpr uint64_t kFnv1aOffset = 14695981039346656037ull;  // 0xcbf29ce484222325

// Continues the hash `h` over `n` bytes at `data` (start with kFnv1aOffset).
uint64_t fnv1a64(const void* data, size_t n, uint64_t h = kFnv1aOffset);

// The hash of a file's bytes, or of a folder: every regular file under it (recursively), taken in
// the order of their relative paths, each contributing its path and its content hash. Throws
// fames::Error naming `path` if it does not exist or cannot be read.
uint64_t hash_path(const std::string& path);

// "fnv1a64:" and 16 hex digits, as manifests store it.
std::string hash_text(uint64_t hash);

}  // namespace fames
