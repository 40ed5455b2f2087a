"""Peak memory of KMeans.fit over what the process held just before it (X already loaded).

Run: ``python benchmarks/bench_memory.py`` (the cells below: n = 5·10⁶, d = 3, k = 256,
float32, X 60 MB; and n = 6·10⁴, d = 784, k = 10, float64, X 359 MiB, the size of MNIST), or
one cell: ``--n 60000 --d 784 --k 10 --dtype float64 --algorithms elkan,hamerly``.
``--sparse``: TF-IDF-like CSR float64 instead (``bench_sparse.tfidf_like``), KMeans and
SphericalKMeans, on rows of unit length (as TF-IDF comes) and on the same rows scaled by
random lengths (SphericalKMeans then needs its unit rows: one array the size of ``X.data``);
"X MB" is then data + indices + indptr.
Each measurement runs in a fresh process; the kernel's peak resident size (``VmHWM``) is reset
just before ``fit`` (``/proc/self/clear_refs``), so the peak after it minus the resident size
before it is the fit's own peak. A fit centres each row as
it reads it: it should add its labels and bounds, not a copy of X.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

#: What both children share: reading the kernel's RSS figures, and measuring one fit.
COMMON = r"""
import json, resource, sys
import numpy as np

def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])

def reset_peak():
    # Reset the kernel's peak RSS (VmHWM) to the current RSS: the peak measured after is the
    # fit's, not that of making X (Linux >= 4.0).
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

def measure(fit, x_mb):
    # Run fit(); returns its result and the RSS figures (MB) around it.
    reset = reset_peak()
    before = status_kib("VmRSS")
    peak_before = status_kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    km = fit()
    peak = status_kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return km, {"x_mb": x_mb, "rss_before_mb": before / 1024,
                "peak_before_mb": peak_before / 1024, "peak_mb": peak / 1024,
                "added_mb": (peak - max(before, peak_before)) / 1024, "n_iter": km.n_iter_}
"""

CHILD = COMMON + r"""
n, d, k, dtype, algorithm, max_iter, init_name = json.loads(sys.argv[1])
import lloyd
from lloyd import KMeans
# compile (or load the cache) on a small problem first, so compilation is not counted
KMeans(4, n_init=1, max_iter=2, algorithm=algorithm, random_state=0).fit(
    np.random.default_rng(1).normal(size=(2000, d)).astype(dtype))
rng = np.random.default_rng(0)
X = np.empty((n, d), dtype=dtype)
step = max(1, 2**22 // d)  # slices of 32 MB at most: making X leaves no high peak behind
for start in range(0, n, step):
    stop = min(n, start + step)
    X[start:stop] = rng.normal(size=(stop - start, d))
init = X[:k].copy() if init_name == "array" else init_name
km, figures = measure(lambda: KMeans(k, init=init, n_init=1, max_iter=max_iter, tol=0,
                                     algorithm=algorithm, random_state=0).fit(X),
                      X.nbytes / 2**20)
print(json.dumps(figures))
"""


CHILD_SPARSE = COMMON + r"""
n, d, density, k, estimator, max_iter, lengths = json.loads(sys.argv[1])
sys.path.insert(0, sys.argv[2])
from bench_sparse import tfidf_like
import lloyd
cls = getattr(lloyd, estimator)
X = tfidf_like(n, d, density)
if lengths == "random":  # rows no longer of unit length
    X.data *= np.repeat(np.random.default_rng(1).uniform(0.5, 2.0, n), np.diff(X.indptr))
cls(4, n_init=1, max_iter=2, random_state=0).fit(X[:2000])  # load the kernels first
km, figures = measure(lambda: cls(k, n_init=1, max_iter=max_iter, tol=0, random_state=0).fit(X),
                      (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20)
print(json.dumps(dict(figures, centres_mb=k * d * 8 / 2**20)))
"""

#: (n, d, density, k) of the --sparse table: bench_sparse's shapes, at 10⁵ and 10⁶ rows.
SPARSE_CELLS = [
    (100_000, 10_000, 0.01, 20),
    (1_000_000, 10_000, 0.001, 20),
]

#: (n, d, k, dtype, algorithms): the palette-sized cell and MNIST's shape in float64.
CELLS = [
    (5_000_000, 3, 256, "float32", "lloyd"),
    (60_000, 784, 10, "float64", "lloyd,elkan,hamerly,yinyang"),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, help="one cell: rows (with --d, --k)")
    parser.add_argument("--d", type=int, default=3)
    parser.add_argument("--k", type=int, default=256)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--algorithms", default="lloyd")
    parser.add_argument("--inits", default="array,k-means++",
                        help="'array' (X's first k rows) and/or 'k-means++' (seeding counted)")
    parser.add_argument("--max-iter", type=int, default=5)
    parser.add_argument("--sparse", action="store_true",
                        help="the sparse table (KMeans, SphericalKMeans on CSR TF-IDF rows)")
    args = parser.parse_args(argv)
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
    if args.sparse:
        return main_sparse(args.max_iter, env)
    cells = CELLS if args.n is None else [(args.n, args.d, args.k, args.dtype, args.algorithms)]
    print("| algorithm | init | n | d | k | dtype | X MB | RSS before fit MB "
          "| peak during fit MB | added by fit MB | added / X | labels MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n, d, k, dtype, algorithms in cells:
        for algorithm in algorithms.split(","):
            for init in args.inits.split(","):
                spec = json.dumps([n, d, k, dtype, algorithm, args.max_iter, init])
                # A fixed mmap threshold (env): every large block is mapped and unmapped, so
                # memory freed before the fit (making X) is not reused unseen from the heap.
                out = subprocess.run([sys.executable, "-c", CHILD, spec], capture_output=True,
                                     text=True, check=True, env=env).stdout
                r = json.loads(out.strip().splitlines()[-1])
                labels_mb = n * 4 / 2**20  # int32 labels
                print(f"| {algorithm} | {init} | {n:,} | {d} | {k} | {dtype} "
                      f"| {r['x_mb']:.0f} | {r['rss_before_mb']:.0f} | {r['peak_mb']:.0f} "
                      f"| {r['added_mb']:.1f} | {r['added_mb'] / r['x_mb']:.1%} "
                      f"| {labels_mb:.1f} |")
    return 0


def main_sparse(max_iter, env):
    here = os.path.dirname(os.path.abspath(__file__))
    print("| estimator | row lengths | n | d | stored values | k | X MB (data, indices, indptr) "
          "| peak during fit MB | added by fit MB | added / X | labels + row norms MB "
          "| centres MB (k × d float64) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n, d, density, k in SPARSE_CELLS:
        for estimator, lengths in (("KMeans", "unit"), ("SphericalKMeans", "unit"),
                                   ("SphericalKMeans", "random")):
            spec = json.dumps([n, d, density, k, estimator, max_iter, lengths])
            out = subprocess.run([sys.executable, "-c", CHILD_SPARSE, spec, here],
                                 capture_output=True, text=True, check=True, env=env).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"| {estimator} | {lengths} | {n:,} | {d:,} | ~{n * d * density:,.0f} | {k} "
                  f"| {r['x_mb']:.0f} | {r['peak_mb']:.0f} | {r['added_mb']:.1f} "
                  f"| {r['added_mb'] / r['x_mb']:.1%} | {n * 12 / 2**20:.1f} "
                  f"| {r['centres_mb']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
