#!/usr/bin/env bash
# disk_cache.sh — the on-disk code cache: a second run loads what the first compiled; a
# corrupt file is ignored and recompiled; a directory open to others is refused with a warning.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
check() { if [ "$1" = "$2" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $3: expected [$2], got [$1]"; fi; }
dir=$(mktemp -d)/cache
prog='(define (tak x y z) (if (not (< y x)) z (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y))))
      (tak 18 12 6) (jit-wait) (let ((s (jit-stats))) (list (get s :compiled) (get s :disk-hits)))'
first=$(./sx --jit-cache-dir="$dir" --jit-threshold=1 --jit-sync -e "$prog")
check "$first" "(1 0)" "first run compiles"
check "$(stat -c %a "$dir")" "700" "cache directory is private"
second=$(./sx --jit-cache-dir="$dir" --jit-threshold=1 --jit-sync -e "$prog")
check "$second" "(0 1)" "second run loads from disk"
cut=0
for f in "$dir"/*; do # the compiled objects (.o, or .so where the host uses dlopen), not the shapes
  case $f in *.shape) ;; *) head -c 100 "$f" > "$f.cut" && mv "$f.cut" "$f" && cut=$((cut + 1)) ;; esac
done
check "$cut" "1" "one compiled object in the cache"
third=$(./sx --jit-cache-dir="$dir" --jit-threshold=1 --jit-sync -e "$prog")
check "$third" "(1 0)" "truncated object ignored and recompiled"
fourth=$(./sx --jit-cache-dir="$dir" --jit-threshold=1 --jit-sync -e "$prog")
check "$fourth" "(0 1)" "recompiled object reused"
open=$(mktemp -d); chmod 777 "$open"
out=$(./sx --jit-cache-dir="$open" --jit-threshold=1 --jit-sync -e "$prog" 2>&1)
check "$(echo "$out" | grep -c 'on-disk JIT cache off')" "1" "world-writable directory refused"
check "$(ls "$open" | wc -l)" "0" "nothing written to a refused directory"
check "$(echo "$out" | tail -1)" "(1 0)" "refused cache still compiles"
rm -rf "$(dirname "$dir")" "$open"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
