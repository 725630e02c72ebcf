#!/usr/bin/env bash
# Exports the full-size torchvision networks (random weights; scripts/onnx_fixtures.py --heavy) and
# checks that `fames import` reproduces PyTorch's float outputs for each: the heavy counterpart of
# the committed fixtures' OnnxFixtures tests. Prints one line per network: layers, MACs per image,
# max_abs_diff and max_rel_diff (= max |fames - PyTorch| / max |PyTorch|); fails if any
# max_rel_diff exceeds 1e-4.
#
#   scripts/onnx-full-size.sh [DIR] [FAMES]     DIR default /tmp/fames-onnx-full, FAMES build/fames
# FAMES_ONNX_NETWORKS (space-separated) picks some of them.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/fames-onnx-full}
fames=${2:-build/fames}
names=(${FAMES_ONNX_NETWORKS:-resnet18 squeezenet1_1 shufflenet_v2_x0_5 mobilenet_v2 mobilenet_v3_small densenet121 efficientnet_b0 vgg11_bn})
mkdir -p "$dir"
/usr/bin/python3 scripts/onnx_fixtures.py "$dir" --only "${names[@]}" >&2
status=0
for n in "${names[@]}"; do
  json=$("$fames" --quiet import "$dir/$n.onnx" --out "$dir/$n.pt" --check-input "$dir/$n.input.npy" \
    --check-output "$dir/$n.output.npy" --json)
  line=$(jq -r --arg n "$n" '"\($n) layers \(.layers) macs \(.macs) max_abs_diff \(.max_abs_diff) max_rel_diff \(.max_rel_diff)"' <<<"$json")
  echo "$line"
  jq -e '.max_rel_diff <= 1e-4' <<<"$json" >/dev/null || { echo "  $n: above 1e-4" >&2; status=1; }
done
exit $status
