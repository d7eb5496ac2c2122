"""numpy_bench.py - NumPy's figures for bench/arrays (run by run.sh when NumPy is installed).

Same operations and sizes as bench.c, on float64 arrays near 1.0; elementwise results go into a
preallocated array (out=), like the C loops and kernels. Prints "op n ns" lines: nanoseconds per
element (matmul: per multiply-add), best of five trials."""
import time
import numpy as np


def best(f, reps):
    f()
    t = 1e30
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            f()
        t = min(t, time.perf_counter() - t0)
    return t / reps


def main():
    for n in (1000, 100000, 1000000):
        i = np.arange(n)
        a = 1.0 + ((i * 7 + 1) % 13 - 6) * 1e-9
        b = 1.0 + ((i * 7 + 5) % 13 - 6) * 1e-9
        o = np.empty(n)
        reps = max(20, int(2e7 / n))
        ops = [
            ("add", lambda: np.add(a, b, out=o)),
            ("mul", lambda: np.multiply(a, b, out=o)),
            ("div", lambda: np.divide(a, b, out=o)),
            ("add-number", lambda: np.add(a, 0.5, out=o)),
            ("neg", lambda: np.negative(a, out=o)),
            ("sqrt", lambda: np.sqrt(a, out=o)),
            ("exp", lambda: np.exp(a, out=o)),
            ("sum", lambda: a.sum()),
            ("prod", lambda: a.prod()),
            ("max", lambda: a.max()),
            ("dot", lambda: np.dot(a, b)),
            ("cumsum", lambda: np.cumsum(a, out=o)),
            ("cumprod", lambda: np.cumprod(a, out=o)),
        ]
        for name, f in ops:
            print("%s\t%d\t%.4f" % (name, n, best(f, reps) * 1e9 / n), flush=True)
    for n in (64, 128, 256):
        a = np.full((n, n), 1.0)
        b = np.full((n, n), 1.0)
        o = np.empty((n, n))
        reps = max(3, int(2e8 / n ** 3))
        print("matmul\t%d\t%.4f" % (n, best(lambda: np.matmul(a, b, out=o), reps) * 1e9 / n ** 3),
              flush=True)


main()
