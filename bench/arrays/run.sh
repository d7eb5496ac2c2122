#!/usr/bin/env bash
# run.sh — make bench-arrays: every array kernel against a plain C loop over the same memory
# (bench/arrays/cloops.c, plain -O2) and against NumPy when a python3 with numpy is installed.
#
# Columns, in ns per element (matmul: per multiply-add, n x n matrices):
#   C       the plain C loop               kernel  the WebAssembly kernel, as primitives run it
#   prim    the whole primitive through the VM (checks, a new result array, the kernel)
#   NumPy   NumPy with out= (no allocation), when installed
# and the ratios kernel/C, prim/C, NumPy/C. Then the per-call cost of primitives on 16-element
# arrays, from SX code, with and without the cost of a call to a primitive that does nothing.
#
# Environment: PYTHON=python3 with numpy (default: the first of python3, /usr/bin/python3 that
# imports numpy).
set -u
cd "$(dirname "$0")/../.."
export LC_ALL=C
ours=$(build/bench/arrays) || { echo "bench-arrays: build/bench/arrays failed"; exit 1; }
py=""
for p in ${PYTHON:-} python3 /usr/bin/python3; do
  if "$p" -c 'import numpy' >/dev/null 2>&1; then py=$p; break; fi
done
np=""
if [ -n "$py" ]; then np=$("$py" bench/arrays/numpy_bench.py); else echo "(NumPy not installed: no NumPy column)"; fi
printf '%s\n' "$np" > /tmp/sx-bench-numpy.$$
printf '%s\n' "$ours" | awk -F'\t' -v npfile=/tmp/sx-bench-numpy.$$ '
  BEGIN {
    while ((getline line < npfile) > 0) { split(line, f, "\t"); if (f[1] != "") np[f[1] "/" f[2]] = f[3] }
    printf "%-11s %8s %8s %8s %8s %8s %9s %8s %8s\n", "op", "n", "C", "kernel", "prim", "NumPy", "kernel/C", "prim/C", "NumPy/C"
  }
  $1 == "call" { calls[++nc] = $0; next }
  {
    key = $1 "/" $2
    nps = (key in np) ? sprintf("%8.3f", np[key]) : sprintf("%8s", "-")
    npr = (key in np) ? sprintf("%8.2f", np[key] / $3) : sprintf("%8s", "-")
    printf "%-11s %8s %8.3f %8.3f %8.3f %s %9.2f %8.2f %s\n", $1, $2, $3, $4, $5, nps, $4 / $3, $5 / $3, npr
  }
  END {
    print ""
    printf "%-26s %10s %14s\n", "per call, 16 elements", "ns/call", "beyond (void)"
    for (i = 1; i <= nc; i++) { split(calls[i], f, "\t"); printf "%-26s %10.1f %14.1f\n", f[2], f[3], f[4] }
  }'
rm -f /tmp/sx-bench-numpy.$$
