#!/usr/bin/env bash
# Installs the Debian packages fames needs, only those missing. Safe to run again.
set -euo pipefail
packages=(
  build-essential cmake ccache pkg-config
  # LibTorch's CPU matrix products go through libblas.so.3; Debian's default is the reference BLAS.
  # OpenBLAS (OpenMP build, matching LibTorch's threads) takes over that alternative when installed:
  # 2.2x faster estimation on ResNet-20.
  libtorch-dev libopenblas0-openmp coinor-libcbc-dev coinor-libcgl-dev coinor-libclp-dev coinor-libosi-dev coinor-libcoinutils-dev
  # Gloo's headers, which LibTorch's c10d (src/dist) includes; the symbols are in libtorch_cpu.so.
  libgloo-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libturbojpeg0-dev libpng-dev zlib1g-dev
  dataset-fashion-mnist yosys gnuplot-nox jq
  # The sanitizer tests and fuzz harnesses (scripts/sanitize.sh, scripts/fuzz.sh): clang with its
  # sanitizer and libFuzzer runtimes, and the OpenMP runtime clang links.
  clang libclang-rt-dev libomp-dev
  # ONNX import (protobuf classes) and ONNX's backend test data for the conformance test. The
  # fixture script scripts/onnx_fixtures.py also needs python3-onnx and python3-torchvision (not CI).
  libonnx-dev libonnx-testdata libprotobuf-dev
)
missing=()
for p in "${packages[@]}"; do
  # Plots need a gnuplot with the pngcairo terminal; gnuplot-qt (which conflicts with -nox) has it too.
  [[ $p == gnuplot-nox ]] && gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1 && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
