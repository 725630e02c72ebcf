#!/usr/bin/env bash
# Installs missing packages, configures and builds fames into build/ (Release, ccache when present).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake -S . -B "${FAMES_BUILD_DIR:-build}" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "${FAMES_BUILD_DIR:-build}" -j"$(nproc)"
