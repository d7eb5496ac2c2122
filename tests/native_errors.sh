#!/usr/bin/env bash
# native_errors.sh — an uncaught error says where it happened ("FILE:LINE:COL: error: ...", the
# first line sx prints) the same whether the code that raised runs in the VM or as native code.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
check() { if [ "$1" = "$2" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $3: VM [$1], native [$2]"; fi; }
case_of() { # name, then the program
  printf '%s\n' "$2" > "$dir/$1.sx"
  local vm native
  vm=$(./sx --no-jit "$dir/$1.sx" 2>&1 >/dev/null | head -1)
  native=$(./sx --jit-threshold=1 --jit-sync "$dir/$1.sx" 2>&1 >/dev/null | head -1)
  case $vm in "$dir/$1.sx:"*": error: "*) ;; *) fail=$((fail + 1)); echo "FAIL $1: no position in [$vm]"; return ;; esac
  check "$vm" "$native" "$1"
}
case_of car-in-callee '(define (f x)
  (car x))
(define (g x) (+ 1 (f x)))
(g 5)'
case_of overflow-in-loop '(define (up i)
  (if (> i 3)
      (+ i 2305843009213693950)
      (up (+ i 1))))
(up 0)'
case_of user-error-in-tail-position '(define (check x)
  (if (> x 0)
      x
      (error "not positive" x)))
(check -1)'
case_of primitive-type-error '(define (len s)
  (+ 0 (string-length s)))
(len 42)'
case_of calling-a-number '(define (call-it f) (f 1))
(call-it 3)'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
