;;; dicts: hash-table-heavy work: insert 200,000 integer keys, look them all up (and as
;;; many missing ones), count key classes in a second table; 25 times; prints a checksum.
(import (chezscheme))

(define (key i) (remainder (* i 7919) 1000003))

(define (run-dicts n)
  (let ((d (make-eqv-hashtable)))
    (let loop ((i 0))
      (when (< i n)
        (hashtable-set! d (key i) i)
        (loop (+ i 1))))
    (let ((sum (let loop ((i 0) (sum 0))
                 (if (= i n)
                     sum
                     (let* ((k (key i))
                            (v (hashtable-ref d k #f))
                            (m (hashtable-ref d (+ k 1000003) #f)))
                       (loop (+ i 1) (if m (+ sum v m) (+ sum v))))))))
      (let ((c (make-eqv-hashtable)))
        (let loop ((i 0))
          (when (< i n)
            (let ((b (remainder (key i) 1000)))
              (hashtable-set! c b (+ (hashtable-ref c b 0) 1)))
            (loop (+ i 1))))
        (let loop ((b 0) (sum sum))
          (if (= b 1000)
              sum
              (loop (+ b 1) (+ sum (* b (hashtable-ref c b 0))))))))))

(display (let loop ((k 0) (r 0))
           (if (= k 25) r (loop (+ k 1) (run-dicts 200000)))))
(newline)
