"""Why bench_engine.py waits before each timing: a fit timed right after a multi-threaded BLAS
call runs with a core taken.

OpenBLAS's worker threads keep spinning for about 0.1 s after a multi-threaded call (its
THREAD_TIMEOUT). On a two-core machine one of them then takes a core from whatever runs next.
This times lloyd's default fit (2 threads) at (6·10⁴, 784, 10) float32 right after a 2-thread
matrix product, right after a 1-thread one, and after a 2-thread one and ``--settle`` seconds
of sleep, interleaved, median of ``--repeats``.

Run: ``env -u OPENBLAS_CORETYPE python benchmarks/bench_settle.py``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_engine import blas_info, make_data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--settle", type=float, default=0.3)
    args = parser.parse_args(argv)

    import numba
    from threadpoolctl import threadpool_limits

    import lloyd

    for line in blas_info():
        print(f"BLAS: {line}")
    X, _ = make_data(60_000, 784, 10, np.float32)
    numba.set_num_threads(2)
    lloyd.KMeans(10, random_state=0, n_init=1, max_iter=2).fit(X[:20_000])  # load the kernels
    a = np.ones((1000, 1000))

    def fit(seed):
        start = time.perf_counter()
        lloyd.KMeans(10, random_state=seed).fit(X)
        return time.perf_counter() - start

    def one_thread_product():
        with threadpool_limits(1, user_api="blas"):
            a @ a

    cases = {
        "after a 2-thread product": lambda: a @ a,
        "after a 1-thread product": one_thread_product,
        f"after a 2-thread product and {args.settle} s": lambda: (a @ a, time.sleep(args.settle)),
    }
    times = {name: [] for name in cases}
    for seed in range(args.repeats):
        for name, before in cases.items():
            before()
            times[name].append(fit(seed))
    print("\n| lloyd.KMeans(10).fit, 2 threads, (6·10⁴, 784, 10) float32 | median ms |")
    print("|---|---|")
    for name, v in times.items():
        print(f"| {name} | {1000 * statistics.median(v):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
