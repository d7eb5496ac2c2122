#!/usr/bin/env bash
# jit_floats.sh — compiled float loops keep their floats unboxed: once a loop's lambda runs as
# native code, a million rounds of float arithmetic allocate (almost) nothing, where the VM
# allocates a box per result. Each program prints the bytes allocated by one call.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
# allocated bytes of (CALL), after a first call compiled everything (threshold 1, sync)
alloc() {
  ./sx --jit-threshold=1 --jit-sync -e "$1
    $2
    (let ((before (get (memory-stats) :allocated-bytes)))
      $2
      (- (get (memory-stats) :allocated-bytes) before))"
}
check_small() { # label bytes
  [ -n "${VERBOSE:-}" ] && echo "$1: $2 bytes"
  if [ -n "$2" ] && [ "$2" -lt 65536 ]; then pass=$((pass + 1))
  else fail=$((fail + 1)); echo "FAIL $1: allocated [$2] bytes (want < 65536)"; fi
}
sumfp='(define (sumfp n) (let loop ((i 0.0) (s 0.0)) (if (< i n) (loop (+ i 1.0) (+ s i)) s)))'
check_small "named-let float sum" "$(alloc "$sumfp" '(sumfp 1000000.0)')"
check_small "float sum against a fixnum bound" "$(alloc "$sumfp" '(sumfp 1000000)')"
mbrot='(define (escape cr ci maxit)
  (let loop ((zr 0.0) (zi 0.0) (i 0))
    (cond ((= i maxit) i)
          ((> (+ (* zr zr) (* zi zi)) 4.0) i)
          (else (loop (+ (- (* zr zr) (* zi zi)) cr) (+ (* 2.0 (* zr zi)) ci) (+ i 1))))))'
check_small "mandelbrot inner loop" "$(alloc "$mbrot" '(escape -0.5 0.5 1000000)')"
fixstart='(define (halving n) (let loop ((k 0) (x 1)) (if (= k n) x (loop (+ k 1) (* x 0.999999)))))'
check_small "loop variable starting as a fixnum" "$(alloc "$fixstart" '(halving 1000000)')"
gself='(define (gsum i s n) (if (>= i n) s (gsum (+ i 1.0) (+ s (* i 0.5)) n)))'
check_small "global self tail call" "$(alloc "$gself" '(gsum 0.0 0.0 1000000.0)')"
# the VM does allocate: the measurement can see boxing
vm=$(./sx --no-jit -e "$sumfp (let ((b (get (memory-stats) :allocated-bytes))) (sumfp 100000.0) (- (get (memory-stats) :allocated-bytes) b))")
if [ -n "$vm" ] && [ "$vm" -gt 1000000 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL vm boxes floats: [$vm]"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
