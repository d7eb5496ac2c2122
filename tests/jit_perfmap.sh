#!/usr/bin/env bash
# jit_perfmap.sh — SX_JIT_PERFMAP=1 lists compiled code in /tmp/perf-PID.map (perf's map for
# code without a file) as "start size sx:NAME", for compiled and for disk-cached lambdas;
# without the variable nothing is written.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
check() { if [ "$1" = "$2" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $3: expected [$2], got [$1]"; fi; }
prog='(define (triple x) (* x 3)) (triple 2)'
line_ok() { grep -cE '^[0-9a-f]+ [0-9a-f]*[1-9a-f][0-9a-f]* sx:triple$' "$1" 2>/dev/null; }
SX_JIT_PERFMAP=1 ./sx --jit-threshold=1 --jit-sync -e "$prog" > /dev/null & pid=$!
wait $pid
check "$(line_ok /tmp/perf-$pid.map)" "1" "compiled lambda listed with its address and size"
rm -f /tmp/perf-$pid.map
cache=$(mktemp -d)/cache
./sx --jit-threshold=1 --jit-sync --jit-cache-dir="$cache" -e "$prog" > /dev/null
SX_JIT_PERFMAP=1 ./sx --jit-threshold=1 --jit-sync --jit-cache-dir="$cache" -e "$prog" > /dev/null & pid=$!
wait $pid
check "$(line_ok /tmp/perf-$pid.map)" "1" "lambda loaded from the disk cache listed"
rm -f /tmp/perf-$pid.map
rm -rf "$(dirname "$cache")"
./sx --jit-threshold=1 --jit-sync -e "$prog" > /dev/null & pid=$!
wait $pid
check "$(ls /tmp/perf-$pid.map 2>/dev/null | wc -l)" "0" "no map without SX_JIT_PERFMAP"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
