;; f64.wat — the WebAssembly kernels behind SX's f64 arrays (prims/array.c calls them).
;;
;; Every kernel works on byte offsets into the memory the host imports ("env" "mem"); counts are
;; element counts. The host checks shapes, indices and sizes before it calls a kernel, so a trap
;; here means a host bug or a value the kernel itself refuses (arange_count); either way the host
;; turns it into an SX error. Kernels never execute memory.grow: the host sizes the memory.
;;
;; Built by the Makefile: wat2wasm, then wasm2c, then cc. wasm2c (wabt 1.0.32) has no SIMD, so
;; the elementwise loops are scalar, unrolled by four with the loads grouped before the stores:
;; wasm2c re-reads the memory bounds after every store, so grouped loads share one read.
;; Reductions and scans run strictly left to right, so (array-sum a) equals a left fold of +.
(module
  (import "env" "mem" (memory 0))
  (import "env" "exp" (func $exp (param f64) (result f64)))
  (import "env" "log" (func $log (param f64) (result f64)))

  ;; ---- elementwise, array with array: o[i] = a[i] OP b[i] (o may be a or b)
  ;; o[i] = a[i] add b[i]
  (func (export "add") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $o)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.add (f64.load (local.get $a)) (f64.load (local.get $b))))
        (local.set $x1 (f64.add (f64.load offset=8 (local.get $a)) (f64.load offset=8 (local.get $b))))
        (local.set $x2 (f64.add (f64.load offset=16 (local.get $a)) (f64.load offset=16 (local.get $b))))
        (local.set $x3 (f64.add (f64.load offset=24 (local.get $a)) (f64.load offset=24 (local.get $b))))
        (f64.store (local.get $o) (local.get $x0))
        (f64.store offset=8 (local.get $o) (local.get $x1))
        (f64.store offset=16 (local.get $o) (local.get $x2))
        (f64.store offset=24 (local.get $o) (local.get $x3))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $o) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.add (f64.load (local.get $a)) (f64.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = a[i] sub b[i]
  (func (export "sub") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $o)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.sub (f64.load (local.get $a)) (f64.load (local.get $b))))
        (local.set $x1 (f64.sub (f64.load offset=8 (local.get $a)) (f64.load offset=8 (local.get $b))))
        (local.set $x2 (f64.sub (f64.load offset=16 (local.get $a)) (f64.load offset=16 (local.get $b))))
        (local.set $x3 (f64.sub (f64.load offset=24 (local.get $a)) (f64.load offset=24 (local.get $b))))
        (f64.store (local.get $o) (local.get $x0))
        (f64.store offset=8 (local.get $o) (local.get $x1))
        (f64.store offset=16 (local.get $o) (local.get $x2))
        (f64.store offset=24 (local.get $o) (local.get $x3))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $o) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.sub (f64.load (local.get $a)) (f64.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = a[i] mul b[i]
  (func (export "mul") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $o)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.mul (f64.load (local.get $a)) (f64.load (local.get $b))))
        (local.set $x1 (f64.mul (f64.load offset=8 (local.get $a)) (f64.load offset=8 (local.get $b))))
        (local.set $x2 (f64.mul (f64.load offset=16 (local.get $a)) (f64.load offset=16 (local.get $b))))
        (local.set $x3 (f64.mul (f64.load offset=24 (local.get $a)) (f64.load offset=24 (local.get $b))))
        (f64.store (local.get $o) (local.get $x0))
        (f64.store offset=8 (local.get $o) (local.get $x1))
        (f64.store offset=16 (local.get $o) (local.get $x2))
        (f64.store offset=24 (local.get $o) (local.get $x3))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $o) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.mul (f64.load (local.get $a)) (f64.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = a[i] div b[i]
  (func (export "div") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $o)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.div (f64.load (local.get $a)) (f64.load (local.get $b))))
        (local.set $x1 (f64.div (f64.load offset=8 (local.get $a)) (f64.load offset=8 (local.get $b))))
        (local.set $x2 (f64.div (f64.load offset=16 (local.get $a)) (f64.load offset=16 (local.get $b))))
        (local.set $x3 (f64.div (f64.load offset=24 (local.get $a)) (f64.load offset=24 (local.get $b))))
        (f64.store (local.get $o) (local.get $x0))
        (f64.store offset=8 (local.get $o) (local.get $x1))
        (f64.store offset=16 (local.get $o) (local.get $x2))
        (f64.store offset=24 (local.get $o) (local.get $x3))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $o) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.div (f64.load (local.get $a)) (f64.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; ---- elementwise, array with number: o[i] = a[i] OP s, or s OP a[i] for the r- forms
  ;; o[i] = a[i] add s
  (func (export "add_s") (param $a i32) (param $s f64) (param $o i32) (param $n i32)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $o)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.add (f64.load (local.get $a)) (local.get $s)))
        (local.set $x1 (f64.add (f64.load offset=8 (local.get $a)) (local.get $s)))
        (local.set $x2 (f64.add (f64.load offset=16 (local.get $a)) (local.get $s)))
        (local.set $x3 (f64.add (f64.load offset=24 (local.get $a)) (local.get $s)))
        (f64.store (local.get $o) (local.get $x0))
        (f64.store offset=8 (local.get $o) (local.get $x1))
        (f64.store offset=16 (local.get $o) (local.get $x2))
        (f64.store offset=24 (local.get $o) (local.get $x3))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $o) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.add (f64.load (local.get $a)) (local.get $s)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = a[i] sub s
  (func (export "sub_s") (param $a i32) (param $s f64) (param $o i32) (param $n i32)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $o)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.sub (f64.load (local.get $a)) (local.get $s)))
        (local.set $x1 (f64.sub (f64.load offset=8 (local.get $a)) (local.get $s)))
        (local.set $x2 (f64.sub (f64.load offset=16 (local.get $a)) (local.get $s)))
        (local.set $x3 (f64.sub (f64.load offset=24 (local.get $a)) (local.get $s)))
        (f64.store (local.get $o) (local.get $x0))
        (f64.store offset=8 (local.get $o) (local.get $x1))
        (f64.store offset=16 (local.get $o) (local.get $x2))
        (f64.store offset=24 (local.get $o) (local.get $x3))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $o) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.sub (f64.load (local.get $a)) (local.get $s)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = a[i] mul s
  (func (export "mul_s") (param $a i32) (param $s f64) (param $o i32) (param $n i32)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $o)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.mul (f64.load (local.get $a)) (local.get $s)))
        (local.set $x1 (f64.mul (f64.load offset=8 (local.get $a)) (local.get $s)))
        (local.set $x2 (f64.mul (f64.load offset=16 (local.get $a)) (local.get $s)))
        (local.set $x3 (f64.mul (f64.load offset=24 (local.get $a)) (local.get $s)))
        (f64.store (local.get $o) (local.get $x0))
        (f64.store offset=8 (local.get $o) (local.get $x1))
        (f64.store offset=16 (local.get $o) (local.get $x2))
        (f64.store offset=24 (local.get $o) (local.get $x3))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $o) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.mul (f64.load (local.get $a)) (local.get $s)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = a[i] div s
  (func (export "div_s") (param $a i32) (param $s f64) (param $o i32) (param $n i32)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $o)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.div (f64.load (local.get $a)) (local.get $s)))
        (local.set $x1 (f64.div (f64.load offset=8 (local.get $a)) (local.get $s)))
        (local.set $x2 (f64.div (f64.load offset=16 (local.get $a)) (local.get $s)))
        (local.set $x3 (f64.div (f64.load offset=24 (local.get $a)) (local.get $s)))
        (f64.store (local.get $o) (local.get $x0))
        (f64.store offset=8 (local.get $o) (local.get $x1))
        (f64.store offset=16 (local.get $o) (local.get $x2))
        (f64.store offset=24 (local.get $o) (local.get $x3))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $o) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.div (f64.load (local.get $a)) (local.get $s)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = s sub a[i]
  (func (export "rsub_s") (param $a i32) (param $s f64) (param $o i32) (param $n i32)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $o)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.sub (local.get $s) (f64.load (local.get $a))))
        (local.set $x1 (f64.sub (local.get $s) (f64.load offset=8 (local.get $a))))
        (local.set $x2 (f64.sub (local.get $s) (f64.load offset=16 (local.get $a))))
        (local.set $x3 (f64.sub (local.get $s) (f64.load offset=24 (local.get $a))))
        (f64.store (local.get $o) (local.get $x0))
        (f64.store offset=8 (local.get $o) (local.get $x1))
        (f64.store offset=16 (local.get $o) (local.get $x2))
        (f64.store offset=24 (local.get $o) (local.get $x3))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $o) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.sub (local.get $s) (f64.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = s div a[i]
  (func (export "rdiv_s") (param $a i32) (param $s f64) (param $o i32) (param $n i32)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $o)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.div (local.get $s) (f64.load (local.get $a))))
        (local.set $x1 (f64.div (local.get $s) (f64.load offset=8 (local.get $a))))
        (local.set $x2 (f64.div (local.get $s) (f64.load offset=16 (local.get $a))))
        (local.set $x3 (f64.div (local.get $s) (f64.load offset=24 (local.get $a))))
        (f64.store (local.get $o) (local.get $x0))
        (f64.store offset=8 (local.get $o) (local.get $x1))
        (f64.store offset=16 (local.get $o) (local.get $x2))
        (f64.store offset=24 (local.get $o) (local.get $x3))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $o) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.div (local.get $s) (f64.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; ---- elementwise, one array
  ;; o[i] = neg(a[i])
  (func (export "neg") (param $a i32) (param $o i32) (param $n i32)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $o)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.neg (f64.load (local.get $a))))
        (local.set $x1 (f64.neg (f64.load offset=8 (local.get $a))))
        (local.set $x2 (f64.neg (f64.load offset=16 (local.get $a))))
        (local.set $x3 (f64.neg (f64.load offset=24 (local.get $a))))
        (f64.store (local.get $o) (local.get $x0))
        (f64.store offset=8 (local.get $o) (local.get $x1))
        (f64.store offset=16 (local.get $o) (local.get $x2))
        (f64.store offset=24 (local.get $o) (local.get $x3))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $o) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.neg (f64.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = abs(a[i])
  (func (export "abs") (param $a i32) (param $o i32) (param $n i32)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $o)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.abs (f64.load (local.get $a))))
        (local.set $x1 (f64.abs (f64.load offset=8 (local.get $a))))
        (local.set $x2 (f64.abs (f64.load offset=16 (local.get $a))))
        (local.set $x3 (f64.abs (f64.load offset=24 (local.get $a))))
        (f64.store (local.get $o) (local.get $x0))
        (f64.store offset=8 (local.get $o) (local.get $x1))
        (f64.store offset=16 (local.get $o) (local.get $x2))
        (f64.store offset=24 (local.get $o) (local.get $x3))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $o) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.abs (f64.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = sqrt(a[i])
  (func (export "sqrt") (param $a i32) (param $o i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $o) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (f64.sqrt (f64.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = exp(a[i]) (the host's libm exp, imported)
  (func (export "exp") (param $a i32) (param $o i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $o) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (call $exp (f64.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = log(a[i]) (the host's libm log, imported)
  (func (export "log") (param $a i32) (param $o i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $o) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (call $log (f64.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; ---- making arrays
  ;; o[i] = v
  (func (export "fill") (param $o i32) (param $n i32) (param $v f64)
    (local $end i32)
    (local.set $end (i32.add (local.get $o) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o) (local.get $v))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; o[i] = start + (i0 + i) * step; i0 lets the host fill a long array chunk by chunk
  (func (export "arange_fill") (param $o i32) (param $n i32) (param $start f64) (param $step f64)
                               (param $i0 i32)
    (local $end i32) (local $i i32)
    (local.set $end (i32.add (local.get $o) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $i (local.get $i0))
    (block $done
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (loop $by1
        (f64.store (local.get $o)
          (f64.add (local.get $start)
                   (f64.mul (f64.convert_i32_u (local.get $i)) (local.get $step))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $o) (local.get $end))))))

  ;; ceil((stop - start) / step) as a count, 0 when it is not positive. A NaN or a count past
  ;; 2^32 - 1 traps in i32.trunc_f64_u (invalid conversion, integer overflow): arange reports it.
  (func (export "arange_count") (param $start f64) (param $stop f64) (param $step f64) (result i32)
    (local $q f64)
    (local.set $q (f64.ceil (f64.div (f64.sub (local.get $stop) (local.get $start))
                                     (local.get $step))))
    (if (result i32) (f64.le (local.get $q) (f64.const 0))
      (then (i32.const 0))
      (else (i32.trunc_f64_u (local.get $q)))))

  ;; dst[0..n) = src[0..n) (blocks never overlap partially)
  (func (export "copy") (param $src i32) (param $dst i32) (param $n i32)
    (memory.copy (local.get $dst) (local.get $src) (i32.shl (local.get $n) (i32.const 3))))

  ;; ---- reductions and scans: strictly left to right from acc (the host passes the running value
  ;; from one chunk to the next). Unrolled by four, loads first; the additions stay in order.
  ;; acc + a[0] + a[1] + ...
  (func (export "sum") (param $a i32) (param $n i32) (param $acc f64) (result f64)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $a)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.load (local.get $a)))
        (local.set $x1 (f64.load offset=8 (local.get $a)))
        (local.set $x2 (f64.load offset=16 (local.get $a)))
        (local.set $x3 (f64.load offset=24 (local.get $a)))
        (local.set $acc (f64.add (local.get $acc) (local.get $x0)))
        (local.set $acc (f64.add (local.get $acc) (local.get $x1)))
        (local.set $acc (f64.add (local.get $acc) (local.get $x2)))
        (local.set $acc (f64.add (local.get $acc) (local.get $x3)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $a) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by1
        (local.set $x0 (f64.load (local.get $a)))
        (local.set $acc (f64.add (local.get $acc) (local.get $x0)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $a) (local.get $end)))))
    (local.get $acc))

  ;; acc * a[0] * a[1] * ...
  (func (export "prod") (param $a i32) (param $n i32) (param $acc f64) (result f64)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $a)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.load (local.get $a)))
        (local.set $x1 (f64.load offset=8 (local.get $a)))
        (local.set $x2 (f64.load offset=16 (local.get $a)))
        (local.set $x3 (f64.load offset=24 (local.get $a)))
        (local.set $acc (f64.mul (local.get $acc) (local.get $x0)))
        (local.set $acc (f64.mul (local.get $acc) (local.get $x1)))
        (local.set $acc (f64.mul (local.get $acc) (local.get $x2)))
        (local.set $acc (f64.mul (local.get $acc) (local.get $x3)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $a) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by1
        (local.set $x0 (f64.load (local.get $a)))
        (local.set $acc (f64.mul (local.get $acc) (local.get $x0)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $a) (local.get $end)))))
    (local.get $acc))

  ;; min(acc, a[0], a[1], ...), NaN if any is NaN. f64.min runs only when an element ties
  ;; or beats acc (it settles -0.0 against 0.0): the usual element costs a compare, not a call
  (func (export "min") (param $a i32) (param $n i32) (param $acc f64) (result f64)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64) (local $nan i32)
    (local.set $end (i32.add (local.get $a)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.load (local.get $a)))
        (local.set $x1 (f64.load offset=8 (local.get $a)))
        (local.set $x2 (f64.load offset=16 (local.get $a)))
        (local.set $x3 (f64.load offset=24 (local.get $a)))
        (if (f64.le (local.get $x0) (local.get $acc))
          (then (local.set $acc (f64.min (local.get $acc) (local.get $x0)))))
        (local.set $nan (i32.or (local.get $nan) (f64.ne (local.get $x0) (local.get $x0))))
        (if (f64.le (local.get $x1) (local.get $acc))
          (then (local.set $acc (f64.min (local.get $acc) (local.get $x1)))))
        (local.set $nan (i32.or (local.get $nan) (f64.ne (local.get $x1) (local.get $x1))))
        (if (f64.le (local.get $x2) (local.get $acc))
          (then (local.set $acc (f64.min (local.get $acc) (local.get $x2)))))
        (local.set $nan (i32.or (local.get $nan) (f64.ne (local.get $x2) (local.get $x2))))
        (if (f64.le (local.get $x3) (local.get $acc))
          (then (local.set $acc (f64.min (local.get $acc) (local.get $x3)))))
        (local.set $nan (i32.or (local.get $nan) (f64.ne (local.get $x3) (local.get $x3))))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $a) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by1
        (local.set $x0 (f64.load (local.get $a)))
        (if (f64.le (local.get $x0) (local.get $acc))
          (then (local.set $acc (f64.min (local.get $acc) (local.get $x0)))))
        (local.set $nan (i32.or (local.get $nan) (f64.ne (local.get $x0) (local.get $x0))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $a) (local.get $end)))))
    (if (result f64) (local.get $nan) (then (f64.const nan)) (else (local.get $acc))))

  ;; max(acc, a[0], a[1], ...), NaN if any is NaN. f64.max runs only when an element ties
  ;; or beats acc (it settles -0.0 against 0.0): the usual element costs a compare, not a call
  (func (export "max") (param $a i32) (param $n i32) (param $acc f64) (result f64)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64) (local $nan i32)
    (local.set $end (i32.add (local.get $a)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.load (local.get $a)))
        (local.set $x1 (f64.load offset=8 (local.get $a)))
        (local.set $x2 (f64.load offset=16 (local.get $a)))
        (local.set $x3 (f64.load offset=24 (local.get $a)))
        (if (f64.ge (local.get $x0) (local.get $acc))
          (then (local.set $acc (f64.max (local.get $acc) (local.get $x0)))))
        (local.set $nan (i32.or (local.get $nan) (f64.ne (local.get $x0) (local.get $x0))))
        (if (f64.ge (local.get $x1) (local.get $acc))
          (then (local.set $acc (f64.max (local.get $acc) (local.get $x1)))))
        (local.set $nan (i32.or (local.get $nan) (f64.ne (local.get $x1) (local.get $x1))))
        (if (f64.ge (local.get $x2) (local.get $acc))
          (then (local.set $acc (f64.max (local.get $acc) (local.get $x2)))))
        (local.set $nan (i32.or (local.get $nan) (f64.ne (local.get $x2) (local.get $x2))))
        (if (f64.ge (local.get $x3) (local.get $acc))
          (then (local.set $acc (f64.max (local.get $acc) (local.get $x3)))))
        (local.set $nan (i32.or (local.get $nan) (f64.ne (local.get $x3) (local.get $x3))))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $a) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by1
        (local.set $x0 (f64.load (local.get $a)))
        (if (f64.ge (local.get $x0) (local.get $acc))
          (then (local.set $acc (f64.max (local.get $acc) (local.get $x0)))))
        (local.set $nan (i32.or (local.get $nan) (f64.ne (local.get $x0) (local.get $x0))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $a) (local.get $end)))))
    (if (result f64) (local.get $nan) (then (f64.const nan)) (else (local.get $acc))))

  ;; acc + a[0]*b[0] + a[1]*b[1] + ...
  (func (export "dot") (param $a i32) (param $b i32) (param $n i32) (param $acc f64) (result f64)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $a)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.mul (f64.load (local.get $a)) (f64.load (local.get $b))))
        (local.set $x1 (f64.mul (f64.load offset=8 (local.get $a)) (f64.load offset=8 (local.get $b))))
        (local.set $x2 (f64.mul (f64.load offset=16 (local.get $a)) (f64.load offset=16 (local.get $b))))
        (local.set $x3 (f64.mul (f64.load offset=24 (local.get $a)) (f64.load offset=24 (local.get $b))))
        (local.set $acc (f64.add (local.get $acc) (local.get $x0)))
        (local.set $acc (f64.add (local.get $acc) (local.get $x1)))
        (local.set $acc (f64.add (local.get $acc) (local.get $x2)))
        (local.set $acc (f64.add (local.get $acc) (local.get $x3)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $a) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by1
        (local.set $x0 (f64.mul (f64.load (local.get $a)) (f64.load (local.get $b))))
        (local.set $acc (f64.add (local.get $acc) (local.get $x0)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $a) (local.get $end)))))
    (local.get $acc))

  ;; o[i] = acc add a[0] add ... add a[i]; returns the last value
  (func (export "cumsum") (param $a i32) (param $o i32) (param $n i32) (param $acc f64) (result f64)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $a)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.load (local.get $a)))
        (local.set $x1 (f64.load offset=8 (local.get $a)))
        (local.set $x2 (f64.load offset=16 (local.get $a)))
        (local.set $x3 (f64.load offset=24 (local.get $a)))
        (local.set $acc (f64.add (local.get $acc) (local.get $x0)))
        (f64.store (local.get $o) (local.get $acc))
        (local.set $acc (f64.add (local.get $acc) (local.get $x1)))
        (f64.store offset=8 (local.get $o) (local.get $acc))
        (local.set $acc (f64.add (local.get $acc) (local.get $x2)))
        (f64.store offset=16 (local.get $o) (local.get $acc))
        (local.set $acc (f64.add (local.get $acc) (local.get $x3)))
        (f64.store offset=24 (local.get $o) (local.get $acc))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $a) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by1
        (local.set $x0 (f64.load (local.get $a)))
        (local.set $acc (f64.add (local.get $acc) (local.get $x0)))
        (f64.store (local.get $o) (local.get $acc))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $a) (local.get $end)))))
    (local.get $acc))

  ;; o[i] = acc mul a[0] mul ... mul a[i]; returns the last value
  (func (export "cumprod") (param $a i32) (param $o i32) (param $n i32) (param $acc f64) (result f64)
    (local $end i32) (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local.set $end (i32.add (local.get $a)
      (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $rest
      (br_if $rest (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by4
        (local.set $x0 (f64.load (local.get $a)))
        (local.set $x1 (f64.load offset=8 (local.get $a)))
        (local.set $x2 (f64.load offset=16 (local.get $a)))
        (local.set $x3 (f64.load offset=24 (local.get $a)))
        (local.set $acc (f64.mul (local.get $acc) (local.get $x0)))
        (f64.store (local.get $o) (local.get $acc))
        (local.set $acc (f64.mul (local.get $acc) (local.get $x1)))
        (f64.store offset=8 (local.get $o) (local.get $acc))
        (local.set $acc (f64.mul (local.get $acc) (local.get $x2)))
        (f64.store offset=16 (local.get $o) (local.get $acc))
        (local.set $acc (f64.mul (local.get $acc) (local.get $x3)))
        (f64.store offset=24 (local.get $o) (local.get $acc))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (br_if $by4 (i32.lt_u (local.get $a) (local.get $end)))))
    (local.set $end (i32.add (local.get $end)
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $by1
        (local.set $x0 (f64.load (local.get $a)))
        (local.set $acc (f64.mul (local.get $acc) (local.get $x0)))
        (f64.store (local.get $o) (local.get $acc))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $by1 (i32.lt_u (local.get $a) (local.get $end)))))
    (local.get $acc))

  ;; ---- o (rows x n) = a (rows x k) . b (k x n), all row-major. Four output columns at a time,
  ;; their sums kept in locals over the whole k loop, so the inner loop stores nothing. Each
  ;; o[i][j] is 0 + a[i][0]*b[0][j] + a[i][1]*b[1][j] + ..., the same sum in the same order as
  ;; the textbook i-j-k loop.
  (func (export "matmul") (param $a i32) (param $b i32) (param $o i32)
                          (param $rows i32) (param $k i32) (param $n i32)
    (local $rowbytes i32) (local $aend i32) (local $j i32) (local $jend i32) (local $jend4 i32)
    (local $p i32) (local $q i32) (local $x f64)
    (local $s0 f64) (local $s1 f64) (local $s2 f64) (local $s3 f64)
    (local.set $rowbytes (i32.shl (local.get $n) (i32.const 3)))
    (local.set $jend (i32.add (local.get $b) (local.get $rowbytes)))
    (local.set $jend4 (i32.sub (local.get $jend) (i32.and (local.get $rowbytes) (i32.const 31))))
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.eqz (local.get $rows)))
        (local.set $aend (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 3))))
        (local.set $j (local.get $b))
        (block $j4_done
          (loop $j4
            (br_if $j4_done (i32.ge_u (local.get $j) (local.get $jend4)))
            (local.set $s0 (f64.const 0))
            (local.set $s1 (f64.const 0))
            (local.set $s2 (f64.const 0))
            (local.set $s3 (f64.const 0))
            (local.set $p (local.get $a))
            (local.set $q (local.get $j))
            (block $k4_done
              (loop $k4
                (br_if $k4_done (i32.ge_u (local.get $p) (local.get $aend)))
                (local.set $x (f64.load (local.get $p)))
                (local.set $s0 (f64.add (local.get $s0)
                                        (f64.mul (local.get $x) (f64.load (local.get $q)))))
                (local.set $s1 (f64.add (local.get $s1)
                                        (f64.mul (local.get $x) (f64.load offset=8 (local.get $q)))))
                (local.set $s2 (f64.add (local.get $s2)
                                        (f64.mul (local.get $x) (f64.load offset=16 (local.get $q)))))
                (local.set $s3 (f64.add (local.get $s3)
                                        (f64.mul (local.get $x) (f64.load offset=24 (local.get $q)))))
                (local.set $p (i32.add (local.get $p) (i32.const 8)))
                (local.set $q (i32.add (local.get $q) (local.get $rowbytes)))
                (br $k4)))
            (f64.store (local.get $o) (local.get $s0))
            (f64.store offset=8 (local.get $o) (local.get $s1))
            (f64.store offset=16 (local.get $o) (local.get $s2))
            (f64.store offset=24 (local.get $o) (local.get $s3))
            (local.set $o (i32.add (local.get $o) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 32)))
            (br $j4)))
        (block $j1_done ;; the last n % 4 columns
          (loop $j1
            (br_if $j1_done (i32.ge_u (local.get $j) (local.get $jend)))
            (local.set $s0 (f64.const 0))
            (local.set $p (local.get $a))
            (local.set $q (local.get $j))
            (block $k1_done
              (loop $k1
                (br_if $k1_done (i32.ge_u (local.get $p) (local.get $aend)))
                (local.set $s0 (f64.add (local.get $s0)
                                        (f64.mul (f64.load (local.get $p)) (f64.load (local.get $q)))))
                (local.set $p (i32.add (local.get $p) (i32.const 8)))
                (local.set $q (i32.add (local.get $q) (local.get $rowbytes)))
                (br $k1)))
            (f64.store (local.get $o) (local.get $s0))
            (local.set $o (i32.add (local.get $o) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $j1)))
        (local.set $a (local.get $aend))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))
)
