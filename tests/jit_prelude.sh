#!/usr/bin/env bash
# jit_prelude.sh — the prelude's native code, compiled by the build (build/sx-jit-prelude,
# installed beside sx-jitc): map, filter, sort ... load it instead of compiling; the directory
# is only read (never written, a bad file is skipped, not removed), refused when others may
# write it, and SX_JIT_PRELUDE= turns it off.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
check() { if [ "$1" = "$2" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $3: expected [$2], got [$1]"; fi; }
if [ ! -d build/sx-jit-prelude ] || [ -z "$(ls build/sx-jit-prelude)" ]; then
  echo "jit_prelude: no build/sx-jit-prelude (native tier not built here)"; echo "0 passed, 0 failed"; exit 0
fi
prog='(define r (sort (map (fn (x) (* x 2)) (filter odd? (list 5 3 4 1))) <))
      (jit-wait)
      (let ((s (jit-stats))) (list r (jit-compiled? map) (jit-compiled? sort) (> (get s :disk-hits) 2)))'
check "$(./sx --jit-threshold=1 --jit-sync -e "$prog")" "((2 6 10) true true true)" "prelude code loaded, not compiled"
check "$(SX_JIT_PRELUDE= ./sx --jit-threshold=1 --jit-sync -e "$prog")" "((2 6 10) true true false)" "SX_JIT_PRELUDE= turns it off"
tmp=$(mktemp -d)
cp -r build/sx-jit-prelude "$tmp/p"
chmod 775 "$tmp/p"
check "$(SX_JIT_PRELUDE=$tmp/p ./sx --jit-threshold=1 --jit-sync -e "$prog")" "((2 6 10) true true false)" "a directory others may write is refused"
chmod 755 "$tmp/p"
n=$(ls "$tmp/p" | wc -l)
for f in "$tmp"/p/*.o "$tmp"/p/*.so; do [ -f "$f" ] && head -c 64 "$f" > "$f.cut" && mv "$f.cut" "$f"; done
check "$(SX_JIT_PRELUDE=$tmp/p ./sx --jit-threshold=1 --jit-sync -e "$prog")" "((2 6 10) true true false)" "truncated objects are skipped (and compiled)"
check "$(ls "$tmp/p" | wc -l)" "$n" "nothing removed from or added to it"
rm -rf "$tmp"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
