;;; primes: sieve of Eratosthenes up to 1,000,000 in a vector, count the primes, 20 times.
(import (chezscheme))

(define (sieve n)
  (let ((v (make-vector (+ n 1) #t)))
    (let loop ((i 2) (count 0))
      (if (> i n)
          count
          (if (vector-ref v i)
              (begin
                (let mark ((j (* i i)))
                  (when (<= j n)
                    (vector-set! v j #f)
                    (mark (+ j i))))
                (loop (+ i 1) (+ count 1)))
              (loop (+ i 1) count))))))

(display (let loop ((k 0) (r 0))
           (if (= k 20) r (loop (+ k 1) (sieve 1000000)))))
(newline)
