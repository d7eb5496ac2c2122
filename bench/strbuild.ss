;;; strbuild: build strings from number->string pieces collected in a list and joined,
;;; 3000 rows of 1000 pieces; prints the total length of the joined rows.
(import (chezscheme))

(define (make-row k n)
  (let loop ((i (- n 1)) (parts '()))
    (if (< i 0)
        (apply string-append parts)
        (loop (- i 1)
              (cons (string-append (number->string (+ (* k n) i)) ",") parts)))))

(define (strbuild rows n)
  (let loop ((k 0) (total 0))
    (if (= k rows)
        total
        (loop (+ k 1) (+ total (string-length (make-row k n)))))))

(display (strbuild 3000 1000))
(newline)
