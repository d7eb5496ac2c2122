#!/usr/bin/env bash
# jit.sh — the code cache under long runs: thousands of one-shot programs, and thousands of hot
# lambdas compiled and evicted. `reduced` (make test) runs them small; `full` (make stress) runs
# them at the sizes the issue names. Each script prints its figures and "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
mode=${1:-reduced}
pass=0 fail=0
# runs one stress program, shows its output, adds up its closing "N passed, N failed" line
run() {
  echo "\$ $*"
  local out line
  out=$("$@" 2>&1)
  printf '%s\n' "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed'
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
  if [ -z "$line" ]; then fail=$((fail + 1)); echo "(no result line)"; return; fi
  pass=$((pass + $(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')))
  fail=$((fail + $(echo "$line" | sed -E 's/.*, ([0-9]+) failed.*/\1/')))
}
if [ "$mode" = full ]; then
  # 30,000 distinct one-shot programs, budget 500; long enough for >= 5,000 compiles
  run ./sx --jit-threshold=300 --jit-budget=500 tests/stress/oneshot.sx 30000 60000
  # the same programs with the native tier off, and with budget 0 (nothing kept)
  run ./sx --no-jit tests/stress/oneshot.sx 30000 60000
  run ./sx --jit-threshold=300 --jit-budget=0 tests/stress/oneshot.sx 30000 60000
  # 2,000 distinct hot lambdas with budget 100: resident memory plateaus
  run ./sx --jit-sync --jit-threshold=1 --jit-budget=100 tests/stress/hot.sx 2000
  # 20,000 compiled objects created and evicted in one process
  run ./sx --jit-sync --jit-threshold=1 --jit-budget=100 tests/stress/hot.sx 20000
else
  run ./sx --jit-threshold=200 --jit-budget=500 tests/stress/oneshot.sx 3000 2000 0 3
  run ./sx --jit-sync --jit-threshold=1 --jit-budget=20 tests/stress/hot.sx 150
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
