// fames::Error is the one exception type for user-facing failures: bad input files, bad flags,
// infeasible requests. Its message is a complete sentence that names the file or flag at fault;
// the CLI prints it as one line on stderr and exits non-zero. Internal invariants use assert.
#pragma once
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace fames {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws fames::Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace fames
