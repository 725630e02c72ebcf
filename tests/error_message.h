// For tests of error messages: the message of the fames::Error that `run` throws, or "no error".
// Any other exception propagates and fails the test.
#pragma once
#include <functional>
#include <string>

#include "util/error.h"

namespace fames::testing {

inline std::string error_message(const std::function<void()>& run) {
  try {
    run();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace fames::testing
