;;; fib: doubly recursive Fibonacci, fib(30) computed 20 times.
(import (chezscheme))

(define (fib n)
  (if (< n 2)
      n
      (+ (fib (- n 1)) (fib (- n 2)))))

(display (let loop ((i 0) (r 0))
           (if (= i 20) r (loop (+ i 1) (fib 30)))))
(newline)
