"""lloyd's KMeans on sparse, TF-IDF-like data against scikit-learn's sparse path (and oneDAL's,
when scikit-learn-intelex is installed): 20 Lloyd iterations from the same start.

Run: ``python benchmarks/bench_sparse.py`` (about 15 min on 2 busy cores), or e.g.
``python benchmarks/bench_sparse.py --cells 0 1 --repeats 5 --threads 1``. To time against a
current OpenBLAS where OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE are set for older builds:
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_sparse.py``.

Data: rows of a document-term matrix with power-law (Zipf, exponent 1) column frequencies,
``1 + log(tf)`` times idf, L2-normalised, as ``TfidfVectorizer`` makes them, in CSR float64.
Every library fits ``KMeans(k, init=<the same k rows>, n_init=1, max_iter=20, tol=0)`` with
``algorithm='lloyd'``: the same 20 iterations (a run that converges sooner stops at the same
iteration in each, as the labels are equal, which the table checks). Runs are interleaved
(lloyd, scikit-learn, oneDAL, lloyd, ...); the table gives the median of the repeats and the
ratio of medians. Thread counts are set with threadpoolctl (OpenMP, BLAS) and, for oneDAL, with
``daal4py.daalinit``.

Cell sizes: scikit-learn's sparse pass reads every centre's value at every stored value of
X, one cache line each, about 5-8 ns per value and centre on this project's machine: 10⁶
stored values at k = 1000 take it about 2.5 minutes for 20 iterations. The cells stay at
10⁵ rows with 10-100 stored values a row so that the whole table runs in about a quarter of an
hour on 2 shared cores; a cell whose scikit-learn run takes over a minute is timed once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

#: (n_samples, n_features, density, n_clusters)
CELLS = [
    (100_000, 10_000, 0.001, 20),
    (100_000, 10_000, 0.001, 200),
    (100_000, 10_000, 0.001, 1000),
    (100_000, 10_000, 0.01, 20),
    (100_000, 100_000, 0.001, 20),
    (100_000, 100_000, 0.001, 100),
    (1_000_000, 10_000, 0.001, 20),  # 10⁶ rows, 10⁷ stored values
]
#: A cell whose scikit-learn run takes longer than this many seconds is timed once.
ONE_REPEAT_SECONDS = 60.0


def tfidf_like(n, d, density, seed=0):
    """A TF-IDF matrix (n, d), CSR float64: about ``density · d`` terms a row drawn from a Zipf
    law over the columns (shuffled, so frequent terms are spread over the indices)."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, d + 1)
    p /= p.sum()
    terms = rng.permutation(d)
    lengths = np.maximum(1, rng.poisson(density * d, n))
    cols = terms[rng.choice(d, size=int(lengths.sum()), p=p)]
    rows = np.repeat(np.arange(n), lengths)
    X = sp.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(n, d))
    X.sum_duplicates()  # term counts
    df = np.bincount(X.indices, minlength=d)
    idf = np.log((1 + n) / (1 + df)) + 1
    X.data = (1 + np.log(X.data)) * idf[X.indices]
    norms = np.sqrt(np.add.reduceat(X.data**2, X.indptr[:-1]))
    X.data /= np.repeat(norms, np.diff(X.indptr))
    return X


def blas_info():
    from threadpoolctl import threadpool_info

    return [f"{m['user_api']}: {m['internal_api']} {m.get('version') or ''} "
            f"{m.get('architecture') or ''} ({Path(m['filepath']).name}), "
            f"{m['num_threads']} threads" for m in threadpool_info()]


def libraries(with_onedal):
    from sklearn.cluster import KMeans as SklearnKMeans

    import lloyd

    libs = {"lloyd": lloyd.KMeans, "scikit-learn": SklearnKMeans}
    if with_onedal:
        try:
            from sklearnex.cluster import KMeans as OneDalKMeans
        except ImportError:
            print("scikit-learn-intelex is not installed: no oneDAL column")
        else:
            libs["oneDAL"] = OneDalKMeans
    return libs


def fit(cls, X, init, max_iter):
    start = time.perf_counter()
    km = cls(init.shape[0], init=init, n_init=1, max_iter=max_iter, tol=0,
             algorithm="lloyd").fit(X)
    return time.perf_counter() - start, km


def bench_cell(libs, X, k, threads, repeats, max_iter, seed=1):
    from threadpoolctl import threadpool_limits

    init = X[np.random.default_rng(seed).choice(X.shape[0], k, replace=False)].toarray()
    times = {name: [] for name in libs}
    fitted = {}
    if "oneDAL" in libs:
        import daal4py

        daal4py.daalinit(threads)
    with threadpool_limits(limits=threads):
        rep = 0
        while rep < repeats:
            for name, cls in libs.items():
                seconds, fitted[name] = fit(cls, X, init, max_iter)
                times[name].append(seconds)
            rep += 1
            if rep == 1 and times["scikit-learn"][0] > ONE_REPEAT_SECONDS:
                break
    medians = {name: statistics.median(t) for name, t in times.items()}
    agree = {name: bool(np.array_equal(km.labels_, fitted["scikit-learn"].labels_))
             for name, km in fitted.items()}
    n_iter = {name: km.n_iter_ for name, km in fitted.items()}
    return medians, len(times["lloyd"]), agree, n_iter


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, nargs="*", default=list(range(len(CELLS))),
                        help="which of CELLS to run (indices)")
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--no-onedal", action="store_true")
    args = parser.parse_args(argv)

    import sklearn

    import lloyd

    print(f"# bench_sparse: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, lloyd "
          f"{lloyd.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
          f"{os.cpu_count()} cores")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    libs = libraries(not args.no_onedal)
    if "oneDAL" in libs:
        from importlib.metadata import version

        print(f"scikit-learn-intelex {version('scikit-learn-intelex')}")
    for line in blas_info():
        print("  ", line)
    others = [name for name in libs if name != "lloyd"]
    header = ("| rows | columns | stored a row | k | threads | lloyd s | "
              + " | ".join(f"{name} s | ratio" for name in others) + " | iterations | "
              "labels equal | repeats |")
    print("\n" + header)
    print("|" + "---|" * (header.count("|") - 1))
    data = {}
    for cell in args.cells:
        n, d, density, k = CELLS[cell]
        if (n, d, density) not in data:
            data = {(n, d, density): tfidf_like(n, d, density)}
        X = data[(n, d, density)]
        for threads in args.threads:
            medians, reps, agree, n_iter = bench_cell(libs, X, k, threads, args.repeats,
                                                      args.iterations)
            ratios = " | ".join(f"{medians[name]:.2f} | {medians[name] / medians['lloyd']:.2f}"
                                for name in others)
            print(f"| {n:,} | {d:,} | {X.nnz / n:.0f} | {k} | {threads} | "
                  f"{medians['lloyd']:.2f} | {ratios} | "
                  f"{'/'.join(str(n_iter[name]) for name in libs)} | "
                  f"{'/'.join('yes' if agree[name] else 'no' for name in libs)} | {reps} |",
                  flush=True)
    print("\nuptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
