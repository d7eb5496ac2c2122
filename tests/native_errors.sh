#!/usr/bin/env bash
# native_errors.sh — what sx prints for an uncaught error ("FILE:LINE:COL: error: MESSAGE" and the
# backtrace) is the same whether the code runs in the VM, compiled from the first call, or at
# the defaults (where hot code is compiled while it runs and loops switch over).
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
check() { if [ "$1" = "$2" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $3: VM [$1], native [$2]"; fi; }
case_of() { # name, then the program
  printf '%s\n' "$2" > "$dir/$1.sx"
  local vm native
  vm=$(./sx --no-jit "$dir/$1.sx" 2>&1 >/dev/null)
  case $vm in "$dir/$1.sx:"*": error: "*) ;; *) fail=$((fail + 1)); echo "FAIL $1: no position in [$vm]"; return ;; esac
  check "$vm" "$(./sx --jit-threshold=1 --jit-sync "$dir/$1.sx" 2>&1 >/dev/null)" "$1 (compiled)"
  check "$vm" "$(./sx "$dir/$1.sx" 2>&1 >/dev/null)" "$1 (defaults)"
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
case_of hot-loop-then-error '(define (walk v i)
  (if (= i 5000)
      (vector-ref v 10)
      (walk v (+ i 1))))
(define (outer v) (+ 1 (walk v 0)))
(outer [1 2])'
case_of deep-recursion '(define (down n)
  (if (= n 0)
      (car n)
      (+ 1 (down (- n 1)))))
(define (start) (* 2 (down 3000)))
(start)'
case_of through-map '(define (f xs)
  (+ 1 (length (map (fn (x) (* 2 (car x))) xs))))
(define (g n) (+ (f (list (list n) (list n) n)) 1))
(g 7)'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
