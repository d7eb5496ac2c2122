;;; mbrot: Mandelbrot iteration counts over a 200x200 grid of floats (max 100 iterations),
;;; 30 times; prints the total iteration count of one grid.
(import (chezscheme))

(define (mbrot-iters cr ci maxit)
  (let loop ((zr 0.0) (zi 0.0) (i 0))
    (cond ((= i maxit) i)
          ((> (+ (* zr zr) (* zi zi)) 4.0) i)
          (else (loop (+ (- (* zr zr) (* zi zi)) cr)
                      (+ (* 2.0 (* zr zi)) ci)
                      (+ i 1))))))

(define (mbrot n maxit)
  (let ((step (/ 2.5 n)))
    (let yloop ((y 0) (total 0))
      (if (= y n)
          total
          (let ((ci (- (* y step) 1.25)))
            (let xloop ((x 0) (total total))
              (if (= x n)
                  (yloop (+ y 1) total)
                  (xloop (+ x 1)
                         (+ total (mbrot-iters (- (* x step) 2.0) ci maxit))))))))))

(display (let loop ((k 0) (r 0))
           (if (= k 30) r (loop (+ k 1) (mbrot 200 100)))))
(newline)
