#!/usr/bin/env bash
# Installs missing packages, configures and builds into build/ (Release, ccache when present).
#
#   scripts/build.sh            the fames program only: what `build/fames run` needs
#   scripts/build.sh --tests    fames, then the test programs: what `ctest --test-dir build` runs
#   scripts/build.sh --bench    fames, then the benchmark programs (one per bench/*_bench.cpp)
#
# The options combine. fames is always built first, so that a failing test or benchmark build
# still leaves a working program. FAMES_BUILD_DIR=build-x builds into another folder.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(fames)
for arg in "$@"; do
  case $arg in
    --tests) targets+=(fames_tests) ;;
    --bench) targets+=(fames_benches) ;;
    *) echo "build.sh: unknown option '$arg' (expected --tests or --bench)" >&2; exit 2 ;;
  esac
done
bash scripts/install-deps.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
# The LibTorch targets compile with a precompiled header (-include cmake_pch.hxx); without these
# sloppiness settings ccache refuses to cache any of them ("could not use precompiled header").
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
dir=${FAMES_BUILD_DIR:-build}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
for target in "${targets[@]}"; do
  cmake --build "$dir" --target "$target" -j"$(nproc)"
done
