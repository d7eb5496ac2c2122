;;; sumfp: sum the floats 0.0 .. N-1 in a named let, N = 20,000,000; done 6 times;
;;; prints the sum as an integer.
(import (chezscheme))

(define (sumfp n)
  (let loop ((i 0.0) (s 0.0))
    (if (< i n)
        (loop (+ i 1.0) (+ s i))
        s)))

(display (inexact->exact
          (let loop ((k 0) (r 0.0))
            (if (= k 6) r (loop (+ k 1) (sumfp 20000000.0))))))
(newline)
