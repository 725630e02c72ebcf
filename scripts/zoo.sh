#!/usr/bin/env bash
# Regenerates the model zoo. Steps whose output exists are skipped (delete it to redo one); each is resumable: run the script again after an interruption
# and every `fames train`/`fames quantize` continues from its last finished epoch.
#   scripts/zoo.sh lenet5     Fashion-MNIST demo model (minutes)
#   scripts/zoo.sh resnet20   ResNet-20 on CIFAR-10 (hours on 2 cores)
#   scripts/zoo.sh resnet20-6bit   the same float ResNet-20 at 6 average bits (3 QAT epochs)
#   scripts/zoo.sh resnet20-7bit   the same float ResNet-20 at 7 average bits (3 QAT epochs)
#   scripts/zoo.sh vgg19|resnet18|squeezenet   narrow CIFAR-10 variants sized to about 20 minutes each on an idle machine
# THREADS: threads per step (default all cores).
# CIFAR-10: set CIFAR10 to the unpacked ImageFolder root (default: unpack shared/datasets/cifar10-jpeg.tar.gz to /tmp/cifar10data).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=PASSIVE  # oneDNN/OpenMP threads must not spin on a shared 2-core machine
FAMES=${FAMES:-build/fames}
THREADS=${THREADS:-0}  # --threads of every step (0: all cores); THREADS=1 leaves a core to other work
# Intermediate checkpoints and resume states live in models/training so a later session (or another
# machine) continues an interrupted run from the repository.
WORK=${WORK:-models/training}
mkdir -p "$WORK" models

# Every model trains on the training split minus the validation split (5,000 CIFAR-10 / 6,000
# Fashion-MNIST images, data::load_dataset), so `fames run` judges its choices on images no model saw.
# publish CHECKPOINT NAME: the finished checkpoint (and its bits file) becomes models/NAME.pt; a copy
# only when it differs, so a rerun after every step has finished changes nothing.
publish() {
  local from=$1 name=$2
  cmp -s "$from" "models/$name.pt" || cp "$from" "models/$name.pt"
  if [[ -f $from.bits.json ]]; then
    cmp -s "$from.bits.json" "models/$name.pt.bits.json" || cp "$from.bits.json" "models/$name.pt.bits.json"
  fi
}

cifar_root() {
  local root=${CIFAR10:-/tmp/cifar10data/cifar10}
  if [[ ! -d $root/train ]]; then
    mkdir -p /tmp/cifar10data
    tar -xzf ../shared/datasets/cifar10-jpeg.tar.gz -C /tmp/cifar10data
    root=/tmp/cifar10data/cifar10
  fi
  echo "$root"
}

# The float ResNet-20 both ResNet-20 zoo models start from.
resnet20_float() {
  local data=$1
  [[ -f $WORK/resnet20-fp.pt ]] || "$FAMES" --threads "$THREADS" train --arch resnet20 --data "$data" --float --epochs 30 --warmup 1 --out "$WORK/resnet20-fp.pt"
  # A second cosine cycle: the 30-epoch float model measures 86.65%, short of what QAT needs for 87%.
  [[ -f $WORK/resnet20-fp2.pt ]] || "$FAMES" --threads "$THREADS" train --arch resnet20 --init "$WORK/resnet20-fp.pt" --data "$data" --float \
    --epochs 20 --lr 0.05 --out "$WORK/resnet20-fp2.pt"
}

case "${1:-lenet5}" in
  lenet5)
    [[ -f $WORK/lenet5-fp.pt ]] || "$FAMES" --threads 1 train --arch lenet5 --float --epochs 15 --lr 0.05 --out "$WORK/lenet5-fp.pt"
    [[ -f $WORK/lenet5-mp.pt ]] || "$FAMES" --threads 1 quantize --model "$WORK/lenet5-fp.pt" --avg-bits 4 --epochs 5 --lr 0.01 --out "$WORK/lenet5-mp.pt"
    publish "$WORK/lenet5-mp.pt" lenet5-fmnist-mp
    "$FAMES" --threads "$THREADS" model-card --model models/lenet5-fmnist-mp.pt --name lenet5-fmnist-mp \
      --reproduce "scripts/zoo.sh lenet5"
    ;;
  resnet20)
    data="cifar10:$(cifar_root)"
    resnet20_float "$data"
    # QAT in two runs: 3 epochs at lr 0.01 after the bit allocation, then 6 more at lr 0.005 with the same bits.
    [[ -f $WORK/resnet20-mp-qat3.pt ]] || "$FAMES" --threads "$THREADS" quantize --model "$WORK/resnet20-fp2.pt" --data "$data" --avg-bits 4 --epochs 3 \
      --lr 0.01 --out "$WORK/resnet20-mp-qat3.pt"
    [[ -f $WORK/resnet20-mp-ft.pt ]] || "$FAMES" --threads "$THREADS" quantize --model "$WORK/resnet20-mp-qat3.pt" --data "$data" \
      --bits "$WORK/resnet20-mp-qat3.pt.bits.json" --epochs 6 --lr 0.005 --out "$WORK/resnet20-mp-ft.pt"
    publish "$WORK/resnet20-mp-ft.pt" resnet20-cifar10-mp
    "$FAMES" --threads "$THREADS" model-card --model models/resnet20-cifar10-mp.pt --name resnet20-cifar10-mp --data "$data" \
      --reproduce "scripts/zoo.sh resnet20"
    ;;
  resnet20-6bit|resnet20-7bit)
    # The same float ResNet-20 allocated at a 6- or 7-bit average (still 2-8 bits per layer): the precision
    # of mixed-precision models that keep their sensitive layers at 8 bits, and the regime where an AppMul
    # can drop a bit's worth of logic without costing a bit's worth of accuracy.
    data="cifar10:$(cifar_root)"
    resnet20_float "$data"
    bits=${1#resnet20-}; bits=${bits%bit}
    qat=$WORK/resnet20-mp$bits-qat3.pt name=resnet20-cifar10-mp$bits
    [[ -f $qat ]] || "$FAMES" --threads "$THREADS" quantize --model "$WORK/resnet20-fp2.pt" --data "$data" --avg-bits "$bits" \
      --epochs 3 --lr 0.005 --out "$qat"
    publish "$qat" "$name"
    "$FAMES" --threads "$THREADS" model-card --model "models/$name.pt" --name "$name" --data "$data" --reproduce "scripts/zoo.sh $1"
    ;;
  vgg19|resnet18|squeezenet)
    # Narrow variants, each sized to train in about half an hour on this 2-core machine (float epochs, then
    # the bit allocation and QAT epochs); the accuracy is what that budget gives.
    arch=$1
    case $arch in
      vgg19) width=0.25 float_epochs=6 qat_epochs=1 ;;
      resnet18) width=0.25 float_epochs=4 qat_epochs=1 ;;
      squeezenet) width=0.25 float_epochs=4 qat_epochs=1 ;;
    esac
    data="cifar10:$(cifar_root)"
    name=$arch-cifar10-mp
    [[ -f $WORK/$arch-fp.pt ]] || "$FAMES" --threads "$THREADS" train --arch "$arch" --width "$width" --data "$data" --float \
      --epochs "$float_epochs" --warmup 1 --out "$WORK/$arch-fp.pt"
    [[ -f $WORK/$arch-mp.pt ]] || "$FAMES" --threads "$THREADS" quantize --model "$WORK/$arch-fp.pt" --data "$data" --avg-bits 4 \
      --epochs "$qat_epochs" --lr 0.01 --out "$WORK/$arch-mp.pt"
    publish "$WORK/$arch-mp.pt" "$name"
    "$FAMES" --threads "$THREADS" model-card --model "models/$name.pt" --name "$name" --data "$data" --reproduce "scripts/zoo.sh $arch"
    ;;
  *) echo "usage: scripts/zoo.sh lenet5|resnet20|resnet20-6bit|resnet20-7bit|vgg19|resnet18|squeezenet" >&2; exit 2 ;;
esac
