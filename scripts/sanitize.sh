#!/usr/bin/env bash
# Builds the torch-free library and tests with clang's address and undefined-behaviour sanitizers
# (FAMES_SANITIZE=address,undefined, in the same build folder as the fuzz harnesses, which it
# builds too) and runs the tests (docs/reliability.md). Any sanitizer report fails the run.
#
#   scripts/sanitize.sh [BUILD_DIR]            (default build-asan)
#   scripts/sanitize.sh --torch [BUILD_DIR]    (default build-ubsan)
#
# --torch builds everything, LibTorch part included, with GCC and -fsanitize=undefined only, and
# runs every test: LibTorch is not built with the sanitizers, so AddressSanitizer is out (its
# containers and allocator would be half-instrumented), and so is UBSan's vptr check, which needs
# the type information of every polymorphic class it sees (-fno-sanitize=vptr). Warnings stay
# warnings there: the release build checks them.
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [[ ${1:-} == --torch ]]; then
  build=${2:-build-ubsan}
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DFAMES_SANITIZE=undefined -DFAMES_TORCH=ON \
    -DFAMES_BENCH=OFF -DFAMES_WERROR=OFF -DCMAKE_CXX_FLAGS=-fno-sanitize=vptr "${launcher[@]}" >/dev/null
  cmake --build "$build" -j"$(nproc)" --target fames_tests
  ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
  exit 0
fi
build=${1:-build-asan}
FAMES_FUZZ_BUILD_DIR=$build bash scripts/fuzz.sh all 0   # configures the sanitizer build
cmake --build "$build" -j"$(nproc)" --target fames_test_base
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
