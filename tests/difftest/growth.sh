#!/usr/bin/env bash
# growth.sh — leak and growth check under churn (make difftest runs it after the differential
# run): N programs from gen.sx (size 4) run one after another in one sx process with every
# lambda compiled asynchronously on its first call into a 4-entry code cache (constant
# eviction), then the same with jit-reset! injected; growth.sx samples RSS and decides.
#
#   bash tests/difftest/growth.sh [N]          (default 1000)
set -u
cd "$(dirname "$0")/../.." || exit 1
n=${1:-1000}
dir=build/difftest/growth
mkdir -p "$dir"
# programs are generated once and kept (their text depends only on the seed and gen.sx)
stamp=$(cksum < tests/difftest/gen.sx | cut -d' ' -f1)
[ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ] || { rm -f "$dir"/*.sx; echo "$stamp" > "$dir/stamp"; }
seq 1 "$n" | xargs -P 2 -I{} sh -c "[ -s $dir/{}.sx ] || ./sx --no-jit tests/difftest/gen.sx {} plain 4 > $dir/{}.sx"
seq 1 "$n" | xargs -P 2 -I{} sh -c "[ -s $dir/r{}.sx ] || ./sx --no-jit tests/difftest/gen.sx {} reset 4 > $dir/r{}.sx"
status=0
for prefix in "" r; do
  echo "\$ ./sx --jit-threshold=1 --jit-budget=4 tests/difftest/growth.sx $dir $n $prefix"
  start=$SECONDS
  out=$(./sx --jit-threshold=1 --jit-budget=4 tests/difftest/growth.sx "$dir" "$n" $prefix 2>&1); rc=$?
  printf '%s\n' "$out" | grep -E '^growth:|^[0-9]+ passed'
  echo "($((SECONDS - start))s, exit $rc)"
  printf '%s\n' "$out" | grep -qE '^1 passed, 0 failed' && [ "$rc" = 0 ] || status=1
done
if [ "$status" = 0 ]; then echo "2 passed, 0 failed"; else echo "1 passed, 1 failed"; fi
exit "$status"
