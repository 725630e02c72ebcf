#!/usr/bin/env bash
# Compares the estimator's Hessian variants on one model (issue 5, docs/estimator.md): for every
# variant, `fames estimate` then `fames validate` over all single-layer pairs, and prints one markdown
# table (variant, Spearman, Kendall, estimate s, measure s, ratio, additivity), then the controls
# `fames validate` scores on the same measurements (MSE x macs, MRED x macs, HAWQ-style).
#
#   scripts/hessian-variants.sh MODEL LIB DATA [SAMPLES]
#   e.g. scripts/hessian-variants.sh models/lenet5-fmnist-mp.pt /tmp/lib fashion-mnist 256
#
# Environment: FAMES (binary, default build/fames), OUT (work folder, default
# /tmp/hessian-variants-<model name>), VARIANTS (default "gn gn3 mc fisher first"; a variant
# HESSIAN:curv estimates with --no-first-order, the curvature term alone, which `fames run` selects
# on), IMAGES (validation images to measure on, default as many as SAMPLES), BC=1 (estimate
# and measure with bias correction), REDUCTIONS (energy reductions of the additivity configurations,
# default "0.1 0.2 0.3"), MEASURE_ON (val: measure on validation images, the default; samples: on
# the estimation samples themselves), REUSE (a `fames validate --out` file of the same model, samples,
# images and correction whose measurements every variant reuses). The pairs are measured once, by the first variant's validate run; the others
# reuse those measurements (`validate --reuse`), so "measure s" is the same in every row. The
# additivity configurations are `fames select` results on the first variant's estimate; each cell is
# measured / predicted loss change per configuration. Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=PASSIVE
[[ $# -ge 3 ]] || { sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2; }
model=$1 lib=$2 data=$3 samples=${4:-256}
FAMES=${FAMES:-build/fames}
OUT=${OUT:-/tmp/hessian-variants-$(basename "$model" .pt)}
VARIANTS=${VARIANTS:-gn gn3 mc fisher first}
REDUCTIONS=${REDUCTIONS-0.1 0.2 0.3}  # empty: no additivity configurations
bc=()
[[ ${BC:-0} == 1 ]] && bc=(--bias-correction)
on=(--measure-on "${MEASURE_ON:-val}")
[[ -n ${IMAGES:-} ]] && on+=(--images "$IMAGES")
mkdir -p "$OUT"

read -r -a variants <<< "$VARIANTS"
for v in "${variants[@]}"; do
  terms=()
  [[ $v == *:curv ]] && terms=(--no-first-order)
  "$FAMES" estimate --model "$model" --lib "$lib" --data "$data" --samples "$samples" --hessian "${v%:curv}" "${bc[@]}" \
    "${terms[@]}" --out "$OUT/est-$v.json" --json > "$OUT/est-$v.summary.json"
done

configs=()
for r in $REDUCTIONS; do
  if "$FAMES" select --est "$OUT/est-${variants[0]}.json" --energy-reduction "$r" --out "$OUT/cfg-$r.json" --json \
      > /dev/null 2> "$OUT/cfg-$r.log"; then
    configs+=("$OUT/cfg-$r.json")
  else
    echo "note: no configuration at energy reduction $r (see $OUT/cfg-$r.log)" >&2
  fi
done
cfg=()
[[ ${#configs[@]} -gt 0 ]] && cfg=(--configs "${configs[@]}")

# Resolved: the pairs whose measured change is at least twice its standard error over the images.
echo "| variant | Spearman | Kendall | Spearman, resolved | Kendall, resolved | estimate s | measure s | measure/estimate | additivity: measured/predicted at energy reduction ${REDUCTIONS// /, } |"
echo "|---|---|---|---|---|---|---|---|---|"
r4='def r4: if . == null then "-" else (.*10000|round/10000) end;'
for i in "${!variants[@]}"; do
  v=${variants[$i]}
  if [[ $i -eq 0 && -n ${REUSE:-} ]]; then
    "$FAMES" validate --est "$OUT/est-$v.json" "${bc[@]}" "${on[@]}" "${cfg[@]}" --reuse "$REUSE" \
      --out "$OUT/val-$v.json" --json > "$OUT/val-$v.summary.json"
  elif [[ $i -eq 0 ]]; then
    "$FAMES" validate --est "$OUT/est-$v.json" "${bc[@]}" "${on[@]}" "${cfg[@]}" --out "$OUT/val-$v.json" --json > "$OUT/val-$v.summary.json"
  else
    "$FAMES" validate --est "$OUT/est-$v.json" "${bc[@]}" "${on[@]}" "${cfg[@]}" --reuse "$OUT/val-${variants[0]}.json" \
      --out "$OUT/val-$v.json" --json > "$OUT/val-$v.summary.json"
  fi
  jq -r --arg v "$v" "$r4"' "| \($v) | \(.spearman|r4) | \(.kendall|r4) | \(.spearman_resolved|r4) | \(.kendall_resolved|r4) | \(.estimate_seconds*10|round/10) | \(.measure_seconds*10|round/10) | \(if .estimate_seconds > 0 then (.measure_seconds/.estimate_seconds*10|round/10) else "-" end) | \([.configs[] | if .predicted != 0 then (.measured/.predicted*100|round/100|tostring) else "-" end] | join(" / ")) |"' \
    "$OUT/val-$v.summary.json"
done
jq -r "$r4"' .controls[] | "| control: \(.name) | \(.spearman|r4) | \(.kendall|r4) | \(.spearman_resolved|r4) | \(.kendall_resolved|r4) | - | - | - | - |"' \
  "$OUT/val-${variants[0]}.summary.json"
echo
echo "$(jq -r '"\(.pairs) (\(.pairs_resolved) resolved)"' "$OUT/val-${variants[0]}.summary.json") single-layer pairs measured on $(jq -r '"\(.samples) \(.measured_on)"' "$OUT/val-${variants[0]}.summary.json") images, $samples training samples, model $model, library $lib$([[ ${BC:-0} == 1 ]] && echo ", bias correction")."
