#!/usr/bin/env bash
# Builds the torch-free library and tests with clang's address and undefined-behaviour sanitizers
# (FAMES_SANITIZE=address,undefined, in the same build folder as the fuzz harnesses, which it
# builds too) and runs the tests (docs/reliability.md). Any sanitizer report fails the run.
#
#   scripts/sanitize.sh [BUILD_DIR]     (default build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
FAMES_FUZZ_BUILD_DIR=$build bash scripts/fuzz.sh all 0   # configures the sanitizer build
cmake --build "$build" -j"$(nproc)" --target fames_test_base
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
