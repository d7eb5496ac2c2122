#!/usr/bin/env bash
# run.sh — every test suite of `make test`; the last line is the total "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
total_pass=0 total_fail=0 total_skip=0

# runs a command, echoes its output, adds its closing "N passed, N failed[, N skipped]" line
suite() {
  local label=$1; shift
  local out rc line
  out=$("$@" 2>&1); rc=$?
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
  printf '%s\n' "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed' | tail -40
  if [ -z "$line" ]; then
    echo "[$label] no result line (exit $rc)"
    total_fail=$((total_fail + 1)); return
  fi
  local p f s
  p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/.*, ([0-9]+) failed.*/\1/')
  s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p'); s=${s:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "[$label] exit status $rc"; fi
  echo "[$label] $line"
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_skip=$((total_skip + s))
}

# the conformance suite in the four modes of DESIGN.md "Test modes"
suite "conformance off" ./sx --no-jit test spec/tests
suite "conformance forced" ./sx --jit-threshold=1 --jit-sync test spec/tests
suite "conformance churn" ./sx --jit-threshold=1 --jit-budget=4 test spec/tests
suite "conformance default" ./sx test spec/tests
suite "jit stress (reduced)" bash tests/stress/jit.sh reduced
suite "jit disk cache" bash tests/disk_cache.sh
suite "jit leaves nothing in TMPDIR" bash tests/jit_tmpdir.sh
suite "jit perf map" bash tests/jit_perfmap.sh
suite "jit prelude shipped compiled" bash tests/jit_prelude.sh
suite "jit unboxed floats" bash tests/jit_floats.sh
suite "errors say where in both tiers" bash tests/native_errors.sh
suite "arrays stress (reduced)" ./sx tests/stress/arrays.sx
suite "difftest (200 random programs, 5 runs each)" bash tests/difftest/run.sh -n 200 -z 3 -R -c build/difftest/jit-cache
for t in build/tests/*; do
  [ -x "$t" ] && suite "$(basename "$t")" "$t"
done
# the embedding API: C hosts linked against libsx.so, the example plugin host, and the
# installed library (make install into a temporary prefix, a host built through pkg-config)
for t in build/api/*; do
  [ -f "$t" ] && [ -x "$t" ] && suite "api $(basename "$t")" "$t"
done
suite "example plugin-host" bash tests/api/example.sh
suite "installed library" bash tests/api/install.sh
if make -s check-docs >/dev/null 2>&1; then total_pass=$((total_pass + 1)); echo "[docs] README reference up to date"
else total_fail=$((total_fail + 1)); echo "[docs] README primitive reference out of date (make docs)"; fi

if [ "$total_skip" -gt 0 ]; then echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else echo "$total_pass passed, $total_fail failed"; fi
[ "$total_fail" -eq 0 ]
