#!/usr/bin/env bash
# Installs missing packages, configures and builds fames into build/ (Release, ccache when present).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
# The LibTorch targets compile with a precompiled header (-include cmake_pch.hxx); without these
# sloppiness settings ccache refuses to cache any of them ("could not use precompiled header").
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
cmake -S . -B "${FAMES_BUILD_DIR:-build}" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "${FAMES_BUILD_DIR:-build}" -j"$(nproc)"
