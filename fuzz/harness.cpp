// The libFuzzer entry point of every harness: fuzz/CMakeLists.txt builds it once per reader of
// readers.h as fuzz_<name>, with FAMES_FUZZ_READER="<name>". Run them with scripts/fuzz.sh.
#include <cstring>

#include "fuzz/readers.h"

namespace {

void (*reader_of(const char* name))(const uint8_t*, size_t) {
  for (const fames::fuzz::Reader& r : fames::fuzz::readers())
    if (std::strcmp(r.name, name) == 0) return r.read;
  __builtin_trap();  // a harness built for a reader readers() does not list
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto read = reader_of(FAMES_FUZZ_READER);
  read(data, size);
  return 0;
}
