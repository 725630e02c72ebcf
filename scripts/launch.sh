#!/usr/bin/env bash
# Starts N ranks of one fames command on this machine as one data-parallel run, with the
# environment torch.distributed's env:// rendezvous reads (MASTER_ADDR=127.0.0.1, a free
# MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE), and waits for all of them.
#
#   scripts/launch.sh N fames estimate --model M --lib L --out est.json
#
# "fames" runs the fames on PATH, else build/fames (FAMES_BUILD_DIR) beside this script; any other
# program path is run as given. Rank 0 prints and writes files; the others print only errors. Each
# rank takes the machine's cores / N threads unless --threads is given. Exits with the first
# non-zero status of a rank (0 when every rank succeeded). MASTER_PORT may be set to choose the port.
# Several machines: see README.md ("Several machines").
set -euo pipefail
usage() { echo "usage: $0 N fames|PROGRAM [arguments...]" >&2; exit 2; }
(($# >= 2)) || usage
ranks=$1
shift
[[ $ranks =~ ^[1-9][0-9]*$ ]] || { echo "launch.sh: N must be a positive integer, got '$ranks'" >&2; exit 2; }
program=$1
shift
if [[ $program == fames ]] && ! command -v fames >/dev/null 2>&1; then
  program="$(cd "$(dirname "$0")/.." && pwd)/${FAMES_BUILD_DIR:-build}/fames"
fi
[[ -x $program ]] || command -v "$program" >/dev/null 2>&1 || { echo "launch.sh: cannot run '$program'" >&2; exit 2; }

# A port nobody listens on (a connection attempt fails), drawn from the dynamic range.
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=${MASTER_PORT:-}
for _ in $(seq 50); do
  [[ -n $port ]] && break
  candidate=$((20000 + RANDOM % 40000))
  port_is_free "$candidate" && port=$candidate
done
[[ -n $port ]] || { echo "launch.sh: found no free port; set MASTER_PORT" >&2; exit 2; }

pids=()
stop_ranks() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap 'stop_ranks; exit 130' INT TERM
for ((rank = 0; rank < ranks; ++rank)); do
  MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=$ranks RANK=$rank LOCAL_RANK=$rank \
    LOCAL_WORLD_SIZE=$ranks "$program" "$@" &
  pids+=($!)
done
# A rank that fails makes the others fail too (fames ends them within --dist-timeout): wait for all.
status=0
for pid in "${pids[@]}"; do
  if wait "$pid"; then :; else code=$?; ((status != 0)) || status=$code; fi
done
exit $status
