#!/usr/bin/env bash
# Records what `fames run` produces on two models, or checks that a later build still produces it.
#
#   scripts/check-unchanged.sh record DIR [FAMES]    run and keep the outputs in DIR
#   scripts/check-unchanged.sh compare DIR [FAMES]   run again into DIR.new and compare with DIR
#   scripts/check-unchanged.sh verdict DIR           compare DIR.new with DIR without running
#
# FAMES defaults to build/fames. The runs: LeNet-5 on Fashion-MNIST (the default model and data)
# and the 7-bit ResNet-20 on CIFAR-10 (CIFAR10=cifar10:/tmp/c10/cifar10 by default), each with a
# fixed seed at 30% energy reduction, no GA, no uniform baseline. The comparison: the same AppMul
# for every layer, every top-1 and the energy reduction in report.json identical; every number of
# est.json, assign.json and the report's per-layer table and sweep equal within REL (default 1e-6)
# relative (timings aside). Prints one verdict line per file; exits non-zero when anything differs.
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
# Every leaf of a JSON document but timings, as "path<TAB>value", in a fixed order.
leaves() { jq -r 'del(.. | .seconds?) | [paths(scalars) as $p | [($p | map(tostring) | join(".")), getpath($p)]] | .[] | @tsv' "$1"; }
# Compares two JSON documents: the same paths, strings and booleans identical, numbers within REL
# relative. Prints "bit-identical", "equal within REL (largest relative difference D)" or why not.
compare_json() {
  if cmp -s <(leaves "$1") <(leaves "$2"); then echo "bit-identical (but for timings)"; return 0; fi
  local verdict
  verdict=$(paste <(leaves "$1") <(leaves "$2") | awk -F'\t' -v rel="$rel" '
    $1 != $3 { print "DIFFERS: paths " $1 " vs " $3; bad = 1; exit }
    $2 == $4 { next }
    $2 !~ /^-?[0-9.eE+-]+$/ || $4 !~ /^-?[0-9.eE+-]+$/ { print "DIFFERS at " $1 ": " $2 " vs " $4; bad = 1; exit }
    { d = $2 - $4; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2; r = m > 0 ? d / m : d; if (r > w) w = r }
    END { if (!bad) { if (w > rel) printf "DIFFERS: largest relative difference %.3g\n", w;
                      else printf "equal within %s (largest relative difference %.3g)\n", rel, w } }')
  echo "$verdict"
  [[ $verdict != DIFFERS* ]]
}
for run in lenet5 resnet20-7bit; do
  a=$dir/$run b=$out/$run
  v=$(compare_json "$a/assign.json" "$b/assign.json") || status=1
  echo "$run assign.json: $v"
  choices='[.layers | to_entries[] | [.key, .value] | tostring]'
  if [[ $(jq -c "$choices" "$a/assign.json") == "$(jq -c "$choices" "$b/assign.json")" ]]; then
    echo "$run assign.json: the same AppMul for every layer"
  else
    echo "$run assign.json: other AppMuls"; status=1
  fi
  v=$(compare_json "$a/est.json" "$b/est.json") || status=1
  echo "$run est.json: $v"
  headline='{top1_exact, top1_uncalibrated, top1_final, holdout_top1_exact, holdout_top1_uncalibrated,
             holdout_top1_final, energy_reduction}'
  fa=$(jq -c "$headline" "$dir/$run.json") fb=$(jq -c "$headline" "$out/$run.json")
  if [[ $fa == "$fb" ]]; then
    echo "$run report top-1s and energy: identical $fa"
  else
    echo "$run report top-1s and energy: DIFFER"; echo "  before $fa"; echo "  after  $fb"; status=1
  fi
  figures='{predicted_dl, layers: [.layers[] | {name, appmul, predicted_dl, measured_dl}], sweep: .curves.fames}'
  v=$(compare_json <(jq "$figures" "$dir/$run.json") <(jq "$figures" "$out/$run.json")) || status=1
  echo "$run report layers and sweep: $v"
done
exit $status
