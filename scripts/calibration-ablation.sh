#!/usr/bin/env bash
# Calibration ablation (issue 7): test top-1 with no calibration, bias correction only, clipping only,
# both, and both plus BN re-estimation, at several energy budgets, for one model. Selection uses one
# estimate (made as `fames run` makes it: predicting the loss change after bias correction; set
# ESTIMATE_FLAGS= for the plain estimate); every calibration uses training images only. Prints a
# markdown table.
#   scripts/calibration-ablation.sh MODEL DATA LIB [BUDGETS]      e.g.
#   scripts/calibration-ablation.sh models/resnet20-cifar10-mp.pt cifar10:/tmp/cifar10data/cifar10 /tmp/lib "0.2 0.3 0.4"
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 3 ]] || { sed -n 2,6p "$0" >&2; exit 2; }
MODEL=$1 DATA=$2 LIB=$3 BUDGETS=${4:-"0.2 0.3 0.4"}
FAMES=${FAMES:-build/fames}
WORK=${WORK:-$(mktemp -d /tmp/fames-ablation.XXXXXX)}
SAMPLES=${SAMPLES:-4096}
ESTIMATE_FLAGS=${ESTIMATE_FLAGS---bias-correction}
mkdir -p "$WORK"
top1() { "$FAMES" --quiet eval --model "$1" --data "$DATA" --split test ${2:+--assign "$2"} --json | jq -r .top1; }
pct() { awk -v v="$1" 'BEGIN { printf "%.2f", 100 * v }'; }

# shellcheck disable=SC2086
"$FAMES" --quiet estimate --model "$MODEL" --lib "$LIB" --data "$DATA" $ESTIMATE_FLAGS --out "$WORK/est.json" >&2
exact=$(top1 "$MODEL")
echo "Model \`$MODEL\`, exact multipliers: test top-1 $(pct "$exact")%. Calibration on $SAMPLES training images; estimate flags: \`${ESTIMATE_FLAGS:-none}\`."
echo "Command: \`scripts/calibration-ablation.sh $*\`"
echo
echo "| energy reduction | none | bias correction | clipping | clipping + bias | clipping + bias + BN | calibration s (last column) |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for r in $BUDGETS; do
  a="$WORK/assign-$r.json"
  "$FAMES" --quiet select --est "$WORK/est.json" --energy-reduction "$r" --out "$a" >/dev/null
  reached=$(jq -r .energy_reduction "$a")
  row="| $(pct "$reached")% | $(pct "$(top1 "$MODEL" "$a")")%"
  seconds=0
  for flags in "--no-clip --no-bn --bias-correction" "--no-bn" "--no-bn --bias-correction" "--bias-correction"; do
    out="$WORK/cal-$r-${flags// /}.pt"
    seconds=$("$FAMES" --quiet calibrate --model "$MODEL" --assign "$a" --data "$DATA" --samples "$SAMPLES" \
      --out "$out" $flags --json | jq -r .seconds)
    row="$row | $(pct "$(top1 "$out" "$a")")%"
  done
  echo "$row | $(printf %.0f "$seconds") |"
done
