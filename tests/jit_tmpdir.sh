#!/usr/bin/env bash
# jit_tmpdir.sh — the native tier leaves nothing in TMPDIR: objects come back from sx-jitc over
# its pipe (jit/wire.h), so the host has no temporary directory to forget, even when it is
# killed in the middle of a compile. Regression: every host that died without running its
# atexit handlers (killed, or a forked child leaving with _exit) left an empty sx-jit-XXXXXX.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
check() { if [ "$1" = "$2" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $3: expected [$2], got [$1]"; fi; }
tmp=$(mktemp -d)
prog='(define (f x) (* x 3)) (define (g x) (+ (f x) 1)) (g 2) (jit-wait) (get (jit-stats) :compiled)'
check "$(TMPDIR=$tmp ./sx --jit-threshold=1 -e "$prog")" "2" "compiles happened"
check "$(ls -A "$tmp" | wc -l)" "0" "nothing left after a normal exit"
TMPDIR=$tmp ./sx --jit-threshold=1 -e '(define (f x) (* x 3)) (f 2) (exit 3)'
check "$?" "3" "exit status"
check "$(ls -A "$tmp" | wc -l)" "0" "nothing left after (exit 3)"
# killed while its compiles are under way: a stream of distinct lambdas keeps the server busy
TMPDIR=$tmp ./sx --jit-threshold=1 -e '(let loop ((i 0)) ((eval-string (string-append "(fn (x) (+ x " (number->string i) "))")) 1) (loop (+ i 1)))' &
pid=$!
sleep 1
kill -KILL $pid
wait $pid 2>/dev/null || true
sleep 1 # the server sees its pipe close and leaves; libgccjit clears its own directory
check "$(ls -A "$tmp" | grep -c '^sx-jit')" "0" "nothing of the host's left after SIGKILL"
rm -rf "$tmp"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
