#!/usr/bin/env bash
# ab.sh — two sx builds side by side on bench programs, warm (each with a private on-disk JIT
# cache filled by one run first, so compile time is not measured), runs alternating A, B, A, B
# so that machine noise falls on both alike; the best of N runs each, and B/A.
#
#   bench/ab.sh A B [PROGRAM...]     A, B: paths of two sx binaries; default: every program
#   N=9 bench/ab.sh ...              runs per build (default 5)
set -u
export LC_ALL=C
[[ $# -ge 2 ]] || { echo "usage: bench/ab.sh SX_A SX_B [PROGRAM...]" >&2; exit 2; }
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
A=$1 B=$2; shift 2
PROGS=("$@")
(( ${#PROGS[@]} )) || PROGS=($(bash "$BENCH_DIR/run.sh" --list))
N=${N:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
chmod 700 "$dir"
us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }
for p in "${PROGS[@]}"; do
  f=$BENCH_DIR/$p.sx
  "$A" --jit-cache-dir="$dir/a" "$f" > /dev/null && "$B" --jit-cache-dir="$dir/b" "$f" > /dev/null || { echo "$p: failed"; continue; }
  ba=-1 bb=-1
  for ((i = 0; i < N; i++)); do
    t0=$(us); "$A" --jit-cache-dir="$dir/a" "$f" > /dev/null; t1=$(us)
    (( ba < 0 || t1 - t0 < ba )) && ba=$((t1 - t0))
    t0=$(us); "$B" --jit-cache-dir="$dir/b" "$f" > /dev/null; t1=$(us)
    (( bb < 0 || t1 - t0 < bb )) && bb=$((t1 - t0))
  done
  awk -v p="$p" -v a="$ba" -v b="$bb" 'BEGIN { printf "%-9s A %7.3f s  B %7.3f s  B/A %.3f\n", p, a / 1e6, b / 1e6, b / a }'
done
