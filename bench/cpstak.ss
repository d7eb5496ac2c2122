;;; cpstak: continuation-passing-style Takeuchi, (cpstak 18 12 6) repeated 300 times.
(import (chezscheme))

(define (tak-k x y z k)
  (if (not (< y x))
      (k z)
      (tak-k (- x 1) y z
             (lambda (v1)
               (tak-k (- y 1) z x
                      (lambda (v2)
                        (tak-k (- z 1) x y
                               (lambda (v3)
                                 (tak-k v1 v2 v3 k)))))))))

(define (cpstak x y z)
  (tak-k x y z (lambda (a) a)))

(display (let loop ((i 0) (r 0))
           (if (= i 300) r (loop (+ i 1) (cpstak 18 12 6)))))
(newline)
