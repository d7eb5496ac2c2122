;;; sum: sum the integers 0 .. N-1 in a named let, N = 50,000,000; done 5 times.
(import (chezscheme))

(define (sum-to n)
  (let loop ((i 0) (s 0))
    (if (< i n)
        (loop (+ i 1) (+ s i))
        s)))

(display (let loop ((k 0) (r 0))
           (if (= k 5) r (loop (+ k 1) (sum-to 50000000)))))
(newline)
