"""lloyd's KMeans on a Dask LocalCluster against the in-memory fit and dask-ml's KMeans.

Run: ``python benchmarks/bench_dask.py`` (n = 10⁷, d = 8, k = 64, float32; 2 worker processes
on loopback) or smaller with ``--n 2000000``. Per-iteration times come from fits of 10 and 20
iterations (tol=0, same initial centres): (t20 − t10) / 10, so set-up costs cancel. Also an
out-of-core case: X in a ``.npy`` file read lazily, chunk by chunk, never persisted. The
in-memory fit runs ``algorithm="lloyd"``, the algorithm of the distributed path, so the ratio
is the distributed path's own overhead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_data(n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-5, 5, size=(k, d))
    X = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 500_000):
        stop = min(n, start + 500_000)
        X[start:stop] = centers[rng.integers(0, k, stop - start)] + rng.normal(
            size=(stop - start, d))
    return X, X[rng.choice(n, k, replace=False)].copy()


def _read_rows(path, start, stop):
    return np.array(np.load(path, mmap_mode="r")[start:stop])


def lazy_npy(path, chunk_rows):
    """A Dask array over a .npy file: each chunk reads its rows when computed."""
    import dask
    import dask.array as da

    header = np.load(path, mmap_mode="r")
    n, d = header.shape
    parts = [
        da.from_delayed(dask.delayed(_read_rows)(str(path), s, min(n, s + chunk_rows)),
                        shape=(min(n, s + chunk_rows) - s, d), dtype=header.dtype)
        for s in range(0, n, chunk_rows)
    ]
    return da.concatenate(parts)


def per_iteration(fit, repeats):
    """Median over repeats of (t(20 iterations) − t(10 iterations)) / 10, and t(20)."""
    per, total = [], []
    for _ in range(repeats):
        t10 = fit(10)
        t20 = fit(20)
        per.append((t20 - t10) / 10)
        total.append(t20)
    return statistics.median(per), statistics.median(total)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-dask-ml", action="store_true")
    args = parser.parse_args(argv)

    import dask
    import dask.array as da
    import distributed
    import numba
    from threadpoolctl import threadpool_info

    from lloyd import KMeans

    print(f"dask {dask.__version__}, distributed {distributed.__version__}, {os.cpu_count()} CPUs")
    for m in threadpool_info():
        if m["user_api"] == "blas":
            print(f"BLAS: {m['internal_api']} {m.get('version')} {m.get('architecture')}")
    X, init = make_data(args.n, args.d, args.k)
    print(f"X: {args.n:,} x {args.d} float32 ({X.nbytes / 2**20:.0f} MB), k = {args.k}")

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", host="127.0.0.1",
                                       silence_logs=50)
    client = distributed.Client(cluster)
    rows = []
    try:
        dX = client.persist(da.from_array(X, chunks=(args.chunk_rows, args.d)))
        distributed.wait(dX)

        def fit_local(iters):
            start = time.perf_counter()
            KMeans(args.k, init=init, n_init=1, max_iter=iters, tol=0, algorithm="lloyd").fit(X)
            return time.perf_counter() - start

        def fit_dask(iters, data=dX):
            start = time.perf_counter()
            KMeans(args.k, init=init, n_init=1, max_iter=iters, tol=0).fit(data)
            return time.perf_counter() - start

        numba.set_num_threads(2)
        fit_local(2)
        fit_dask(2)
        # interleaved: local, distributed, local, distributed, ...
        local, dist = [], []
        for _ in range(args.repeats):
            local.append(per_iteration(fit_local, 1))
            dist.append(per_iteration(fit_dask, 1))
        rows.append(("lloyd in memory (1 process, 2 threads, algorithm=lloyd)",
                     statistics.median(v[0] for v in local),
                     statistics.median(v[1] for v in local)))
        rows.append(("lloyd on Dask (2 workers, persisted)",
                     statistics.median(v[0] for v in dist),
                     statistics.median(v[1] for v in dist)))

        if not args.no_dask_ml:
            try:
                from dask_ml.cluster import KMeans as DaskMLKMeans

                def fit_daskml(iters):
                    start = time.perf_counter()
                    DaskMLKMeans(n_clusters=args.k, init=init, max_iter=iters, tol=0,
                                 oversampling_factor=2).fit(dX)
                    return time.perf_counter() - start

                fit_daskml(2)
                per, total = per_iteration(fit_daskml, args.repeats)
                rows.append(("dask-ml KMeans (same cluster, persisted)", per, total))
            except Exception as exc:  # dask-ml is optional and unmaintained
                print(f"dask-ml: not measured ({exc.__class__.__name__}: {exc})")

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "X.npy"
            np.save(path, X)
            lazy = lazy_npy(path, args.chunk_rows)
            per, total = per_iteration(lambda it: fit_dask(it, lazy), 1)
            rows.append(("lloyd on Dask, out of core (.npy read every pass)", per, total))
    finally:
        client.close()
        cluster.close()

    base = rows[0][1]
    print("\n| fit | s per iteration | s for 20 iterations | per-iteration vs in memory |")
    print("|---|---|---|---|")
    for name, per, total in rows:
        print(f"| {name} | {per:.3f} | {total:.2f} | {per / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
