// A cache of built AppMul libraries, so that `fames lib build` with the same settings is instant.
//
// An entry is a library folder under cache_root()/<key>/, where key = 16 hex digits of a 64-bit
// FNV-1a hash over the caller's settings text, FAMES_VERSION and the hash of the running
// executable (any rebuild of fames, e.g. a changed generator or cost model, misses the cache).
// cache_root() is $XDG_CACHE_HOME/fames/lib, else $HOME/.cache/fames/lib. Entries are written to a
// temporary folder and renamed into place, so a reader never sees half an entry. Errors while
// storing are reported by the return value, never thrown: the cache is an optimisation.
#pragma once
#include <cstdint>
#include <string>

namespace fames {

std::string cache_root();

// FNV-1a 64 of the bytes of /proc/self/exe (0 if it cannot be read), computed once.
uint64_t executable_hash();

std::string library_cache_key(const std::string& settings);

// Copies the cached library `key` into `out` (index.json last, atomically). False on a miss.
bool restore_cached_library(const std::string& key, const std::string& out);

// Copies the library folder `dir` into the cache as `key`. False if that failed.
bool store_cached_library(const std::string& key, const std::string& dir);

}  // namespace fames
