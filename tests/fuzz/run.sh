#!/usr/bin/env bash
# run.sh — what `make fuzz` runs once the targets are built: seed corpora from the conformance
# suite, the C hosts of tests/fuzz/regress/*.c and a replay of tests/fuzz/regress/TARGET/ (every
# input that ever crashed a target), then each libFuzzer target for SECONDS. Prints executions and crashes per target; a new crash is copied
# into tests/fuzz/regress/TARGET/ so the next run replays it. Last line "N passed, N failed".
#
#   bash tests/fuzz/run.sh [SECONDS] [BUILD_DIR]        (defaults 60, build-fuzz)
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=${1:-60} dir=${2:-build-fuzz}
# Boehm and ASan: see tests/fuzz/sancheck.sh
export ASAN_OPTIONS=detect_stack_use_after_return=0:detect_leaks=0:abort_on_error=1:print_summary=1
corpus=$dir/corpus
pass=0 fail=0

# Seeds: every form of the suite for the reader and eval targets, every 40th for the native one
# (each compile takes tens of milliseconds), call sequences for the API target.
if [ ! -d "$corpus/seeds" ]; then
  mkdir -p "$corpus/seeds/text" "$corpus/seeds/api" "$corpus/native-seeds/text" "$corpus/native-seeds/api"
  ./sx --no-jit tests/fuzz/seeds.sx "$corpus/seeds" 1 spec/tests/*.sx spec/tests/regress/*.sx
  ./sx --no-jit tests/fuzz/seeds.sx "$corpus/native-seeds" 40 spec/tests/*.sx
fi

# C hosts that reproduce earlier findings (tests/fuzz/regress/*.c, built by make fuzz)
for h in "$dir"/regress/*; do
  [ -x "$h" ] || continue
  if out=$(timeout 600 "$h" 2>&1); then
    pass=$((pass + 1)); echo "[regress] $(basename "$h"): $(echo "$out" | tail -1)"
  else
    fail=$((fail + 1)); echo "[regress] $(basename "$h") FAILED:"
    echo "$out" | grep -vE '^    #([4-9]|[1-9][0-9])' | grep -v '^$' | head -12
  fi
done

# findings in $dir/crashes/$t: crash-, timeout-, oom- and leak- files (slow-unit- files are notes)
findings() {
  find "$dir/crashes/$t" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l
}

# target, its seed folder, the longest input, libFuzzer's per-input timeout
targets="fuzz_read:seeds/text:4096:20 fuzz_eval:seeds/text:4096:20
         fuzz_eval_native:native-seeds/text:1024:60 fuzz_api:seeds/api:2048:20"

for spec in $targets; do
  IFS=: read -r t seeds maxlen tmo <<< "$spec"
  reg=tests/fuzz/regress/$t known=0
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
    if out=$(timeout 300 "$dir/$t-file" "$reg" 2>&1); then
      pass=$((pass + 1)); echo "[$t] replay of $reg: $(echo "$out" | tail -1)"
    else
      fail=$((fail + 1)) known=1; echo "[$t] replay of $reg FAILED (a hang is exit 124):"
      echo "$out" | grep -E 'ERROR|SUMMARY|fuzz_|^    #[0-9] ' | head -12
    fi
  fi
  mkdir -p "$corpus/$t" "$dir/crashes/$t"
  before=$(findings) slow_before=$(find "$dir/crashes/$t" -name 'slow-unit-*' | wc -l)
  log=$dir/$t.log
  "$dir/$t" -max_total_time="$secs" -print_final_stats=1 -max_len="$maxlen" -timeout="$tmo" \
    -rss_limit_mb=4096 -artifact_prefix="$dir/crashes/$t/" "$corpus/$t" "$corpus/$seeds" > "$log" 2>&1
  rc=$?
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')
  rate=$(grep -E '^stat::average_exec_per_sec' "$log" | tail -1 | awk '{print $2}')
  new=$(( $(findings) - before ))
  slow=$(( $(find "$dir/crashes/$t" -name 'slow-unit-*' | wc -l) - slow_before ))
  echo "[$t] ${execs:-?} executions (${rate:-?}/s), corpus $(ls "$corpus/$t" | wc -l) new units," \
    "$new crashes, $slow slow inputs noted (exit $rc)"
  if [ "$new" -gt 0 ] || { [ "$rc" -ne 0 ] && [ -z "$execs" ]; }; then
    fail=$((fail + 1))
    grep -E -A20 'ERROR: (AddressSanitizer|libFuzzer)|runtime error|fuzz_(read|eval|api):|deadly signal' "$log" | head -30
    if [ "$known" = 1 ]; then
      # most likely the bug its regression inputs still show: not added again
      echo "[$t] not copied to $reg/ (its regression inputs still fail); see $dir/crashes/$t/, $log"
    else
      mkdir -p "$reg"
      for c in "$dir/crashes/$t"/crash-* "$dir/crashes/$t"/timeout-* "$dir/crashes/$t"/oom-* \
               "$dir/crashes/$t"/leak-*; do [ -f "$c" ] && cp -n "$c" "$reg/"; done
      echo "[$t] crash inputs copied to $reg/ (replayed by every make fuzz; log $log)"
    fi
  else
    pass=$((pass + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
