;;; nqueens: count the solutions of 8 queens, Gabriel-style with lists, repeated 2000 times.
(import (chezscheme))

(define (iota1 n)
  (let loop ((i n) (l '()))
    (if (= i 0) l (loop (- i 1) (cons i l)))))

(define (ok? row dist placed)
  (if (null? placed)
      #t
      (and (not (= (car placed) (+ row dist)))
           (not (= (car placed) (- row dist)))
           (ok? row (+ dist 1) (cdr placed)))))

(define (my-try x y z)
  (if (null? x)
      (if (null? y) 1 0)
      (+ (if (ok? (car x) 1 z)
             (my-try (append (cdr x) y) '() (cons (car x) z))
             0)
         (my-try (cdr x) (cons (car x) y) z))))

(define (queens n)
  (my-try (iota1 n) '() '()))

(display (let loop ((i 0) (r 0))
           (if (= i 2000) r (loop (+ i 1) (queens 8)))))
(newline)
