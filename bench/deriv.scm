;;; deriv: Gabriel's symbolic derivative benchmark, repeated 500,000 times;
;;; prints the number of atoms in the result.
(define (deriv a)
  (cond ((not (pair? a))
         (if (eq? a 'x) 1 0))
        ((eq? (car a) '+)
         (cons '+ (map deriv (cdr a))))
        ((eq? (car a) '-)
         (cons '- (map deriv (cdr a))))
        ((eq? (car a) '*)
         (list '* a (cons '+ (map (lambda (a) (list '/ (deriv a) a)) (cdr a)))))
        ((eq? (car a) '/)
         (list '-
               (list '/ (deriv (cadr a)) (caddr a))
               (list '/ (cadr a) (list '* (caddr a) (caddr a) (deriv (caddr a))))))
        (else
         (error "no derivation method available" (car a)))))

(define (count-atoms a)
  (cond ((pair? a) (+ (count-atoms (car a)) (count-atoms (cdr a))))
        ((null? a) 0)
        (else 1)))

(define expr '(+ (* 3 x x) (* a x x) (* b x) 5))

(display (count-atoms
          (let loop ((i 0) (r '()))
            (if (= i 500000) r (loop (+ i 1) (deriv expr))))))
(newline)
