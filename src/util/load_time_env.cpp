#include "util/load_time_env.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

namespace fames {
namespace {

// The OpenBLAS kernel family for this CPU when OpenBLAS fell back to Prescott, else nullptr.
const char* better_openblas_core() {
#if defined(__x86_64__)
  using CoreName = char* (*)();
  const auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (!core_name || std::strcmp(core_name(), "Prescott") != 0) return nullptr;  // not OpenBLAS, or it knows the CPU
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return "SKYLAKEX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "HASWELL";
#endif
  return nullptr;
}

}  // namespace

bool complete_load_time_env() {
  bool changed = false;
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    changed = true;
  }
  if (!std::getenv("OPENBLAS_CORETYPE"))
    if (const char* core = better_openblas_core()) {
      setenv("OPENBLAS_CORETYPE", core, 1);
      changed = true;
    }
  return changed;
}

}  // namespace fames
