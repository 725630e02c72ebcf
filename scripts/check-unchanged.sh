#!/usr/bin/env bash
# Records what `fames run` produces on two models, or checks that a later build still produces it.
#
#   scripts/check-unchanged.sh record DIR [FAMES]    run and keep the outputs in DIR
#   scripts/check-unchanged.sh compare DIR [FAMES]   run again into DIR.new and compare with DIR
#   scripts/check-unchanged.sh verdict DIR           compare DIR.new with DIR without running
#
# FAMES defaults to build/fames. The runs: LeNet-5 on Fashion-MNIST (the default model and data)
# and the 7-bit ResNet-20 on CIFAR-10 (CIFAR10=cifar10:/tmp/c10/cifar10 by default), each with a
# fixed seed at 30% energy reduction, no GA, no uniform baseline. The comparison: assign.json (but
# for the solver's run time) and
# every top-1 in report.json identical, est.json's numbers equal within REL (default 1e-6)
# relative. Prints one verdict line per file and exits non-zero when anything differs.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?record or compare}
dir=${2:?output folder}
fames=${3:-build/fames}
cifar=${CIFAR10:-cifar10:/tmp/c10/cifar10}
rel=${REL:-1e-6}
lib=${LIB:-$dir/lib}
[[ $mode == record || $mode == compare || $mode == verdict ]] ||
  { echo "check-unchanged: mode must be record, compare or verdict" >&2; exit 2; }
out=$dir
[[ $mode != record ]] && out=$dir.new
if [[ $mode != verdict ]]; then
  mkdir -p "$out"
  # One library for both runs and both builds, so that only the code under test differs.
  if [[ ! -f $lib/index.json ]]; then
    "$fames" lib build --bits 2..8 --signed-a --no-als --out "$lib" >&2
  fi
  common=(--lib "$lib" --energy-reduction 0.3 --seed 7 --ga-seconds 0 --no-uniform --json)
  "$fames" run "${common[@]}" --out "$out/lenet5" >"$out/lenet5.json"
  "$fames" run "${common[@]}" --model models/resnet20-cifar10-mp7.pt --data "$cifar" \
    --out "$out/resnet20-7bit" >"$out/resnet20-7bit.json"
  [[ $mode == record ]] && { echo "recorded in $out"; exit 0; }
fi

status=0
# Every number of an est.json, as "path<TAB>value", in a fixed order.
numbers() { jq -r '[paths(numbers) as $p | [($p | map(tostring) | join(".")), getpath($p)]] | .[] | @tsv' "$1"; }
for run in lenet5 resnet20-7bit; do
  a=$dir/$run b=$out/$run
  # The solver's own run time is the one field that may differ.
  if cmp -s <(jq -S 'del(.. | .seconds?)' "$a/assign.json") <(jq -S 'del(.. | .seconds?)' "$b/assign.json"); then
    echo "$run assign.json: identical (but for the solver's seconds)"
  else
    echo "$run assign.json: DIFFERS"; status=1
  fi
  if cmp -s "$a/est.json" "$b/est.json"; then
    echo "$run est.json: bit-identical"
  else
    worst=$(paste <(numbers "$a/est.json") <(numbers "$b/est.json") | awk -F'\t' -v rel="$rel" '
      $1 != $3 { print "paths differ: " $1 " vs " $3; bad = 1; exit }
      { d = $2 - $4; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2; r = m > 0 ? d / m : d; if (r > w) w = r }
      END { if (!bad) printf "%.3g\n", w + 0 }')
    if [[ $worst == paths* ]] || awk -v w="$worst" -v rel="$rel" 'BEGIN { exit !(w > rel) }'; then
      echo "$run est.json: DIFFERS (largest relative difference $worst)"; status=1
    else
      echo "$run est.json: equal within $rel (largest relative difference $worst)"
    fi
  fi
  figures='{top1_exact, top1_uncalibrated, top1_final, holdout_top1_exact, holdout_top1_uncalibrated,
            holdout_top1_final, energy_reduction, predicted_dl,
            layers: [.layers[] | {name, appmul, predicted_dl, measured_dl}], sweep: .curves.fames}'
  fa=$(jq -c "$figures" "$dir/$run.json") fb=$(jq -c "$figures" "$out/$run.json")
  if [[ $fa == "$fb" ]]; then
    echo "$run report figures: identical $(jq -c '{top1_exact, top1_final, energy_reduction}' <<<"$fa")"
  else
    echo "$run report figures: DIFFER"; echo "  before $fa"; echo "  after  $fb"; status=1
  fi
done
exit $status
