#!/usr/bin/env bash
# What the native tier's compiles cost, over the bench programs run cold (no disk cache):
# median and p95 of the milliseconds per batch and per lambda (a batch's time shared by its
# lambdas), the latency from a lambda's request to its code being installed, and the longest
# pause of the VM thread attributable to the tier (jit-stats :max-pause-ms: its own time
# requesting and installing; in async mode it never waits for a compile).
#
#   bench/compile_cost.sh [PROGRAM...]      default: every program of run.sh
#
# SX=path and SX_FLAGS="..." as for run.sh.
set -u
export LC_ALL=C
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
SX=${SX:-$ROOT/sx}
SX_FLAGS=${SX_FLAGS:-}
PROGS=("$@")
(( ${#PROGS[@]} )) || PROGS=($(bash "$BENCH_DIR/run.sh" --list))

log=$(mktemp) pauses=$(mktemp)
trap 'rm -f "$log" "$pauses"' EXIT
for p in "${PROGS[@]}"; do
  # shellcheck disable=SC2086
  SX_JIT_LOG=1 "$SX" $SX_FLAGS -e "(load \"$BENCH_DIR/$p.sx\") (println \"max-pause-ms\" (get (jit-stats) :max-pause-ms))" \
    2>>"$log" | awk -v p="$p" '$1 == "max-pause-ms" { print p, $2 }' >>"$pauses"
done

# median and p95 (nearest rank) of the numbers on stdin
stats() { sort -n | awk '{ v[NR] = $1 } END {
  if (!NR) { print "none"; exit }
  m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  k = int(0.95 * NR + 0.999999); if (k < 1) k = 1
  printf "median %.1f ms, p95 %.1f ms, max %.1f ms (n = %d)\n", m, v[k], v[NR], NR }'; }

echo "compile cost over: ${PROGS[*]}"
printf 'per batch:   '; awk '/^jit: batch of/ { sub(/ ms$/, "", $5); print $5 }' "$log" | stats
printf 'per lambda:  '; awk '/^jit: batch of/ { n = $4; sub(/:$/, "", n); sub(/ ms$/, "", $5); for (i = 0; i < n; i++) print $5 / n }' "$log" | stats
printf 'latency:     '; awk '/^jit: lambda/ { for (i = 1; i <= NF; i++) { if ($i == "(asked") a = $(i + 2); if ($i == "done") d = $(i + 2) } print d - a }' "$log" | stats
printf 'batch sizes: '; awk '/^jit: batch of/ { n = $4; sub(/:$/, "", n); c[n]++ } END { for (k in c) printf "%s x%d  ", k, c[k]; print "" }' "$log"
echo "longest VM-thread pause attributable to the JIT (ms), per program:"
awk '{ printf "  %-10s %.3f\n", $1, $2 }' "$pauses"
awk '$2 > m { m = $2 } END { printf "max-pause-ms over all: %.3f\n", m }' "$pauses"
