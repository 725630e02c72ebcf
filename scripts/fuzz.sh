#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ with clang, address and undefined-behaviour sanitizers
# (FAMES_FUZZ=ON, torch-free) and runs them on their seed corpora (docs/reliability.md).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]     e.g. scripts/fuzz.sh verilog 600
#
# TARGET is a reader of fuzz/readers.h, i.e. a folder of fuzz/corpus (verilog, blif, table,
# liberty, library_index, estimate, assignment, operand_histogram, checkpoint_meta, image, onnx), or
# "all" (the default); each harness fuzz_TARGET runs for SECONDS (default 30; 0 = build only). New inputs go to $FAMES_FUZZ_WORK/<target> (default build-fuzz/work; the
# committed seeds in fuzz/corpus/<target> are only read). A crash leaves crash-* in the current
# folder and exits non-zero; minimize it with the harness's -minimize_crash=1 and add it to
# fuzz/regressions/<target>/ (replayed by the Fuzz.* tests). Build folder: $FAMES_FUZZ_BUILD_DIR
# (default build-fuzz). Extra libFuzzer flags: $FAMES_FUZZ_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-all}
seconds=${2:-30}
build=${FAMES_FUZZ_BUILD_DIR:-build-fuzz}
work=${FAMES_FUZZ_WORK:-$build/work}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
# -O1 with line tables: symbolized reports, asserts kept, and half the compile time of -O2 -g.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
  -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DFAMES_SANITIZE=address,undefined -DFAMES_FUZZ=ON \
  "${launcher[@]}" >/dev/null
targets=()
if [[ $target == all ]]; then
  for dir in fuzz/corpus/*/; do targets+=("$(basename "$dir")"); done
else
  [[ -d fuzz/corpus/$target ]] || { echo "fuzz.sh: no harness $target (fuzz/corpus/$target)" >&2; exit 2; }
  targets=("$target")
fi
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"
((seconds > 0)) || exit 0
status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  seeds=(fuzz/corpus/"$t")
  [[ -d fuzz/regressions/$t ]] && seeds+=(fuzz/regressions/"$t")
  echo "fuzz.sh: $t for ${seconds}s" >&2
  # -rss_limit_mb stays under the 3 GB a reader may use; -timeout flags any input slower than 10 s.
  # shellcheck disable=SC2086
  if ! "$build/fuzz/fuzz_$t" "$work/$t" "${seeds[@]}" -max_total_time="$seconds" \
      -rss_limit_mb=2560 -timeout=10 -max_len=65536 -print_final_stats=1 ${FAMES_FUZZ_FLAGS:-} \
      2> >(tee "$work/$t.log" | grep -E 'stat::|ERROR|SUMMARY|Done' >&2); then
    echo "fuzz.sh: $t FAILED (log: $work/$t.log)" >&2
    status=1
  fi
done
exit $status
