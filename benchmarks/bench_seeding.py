"""Seeding quality and speed: scikit-learn's greedy k-means++ against lloyd's k-means++ and AFK-MC².

On bench_engine's cells (Gaussian blobs), over several seeds: the time of each seeding (median),
the potential right after seeding and the inertia after Lloyd's iterations from those seeds (both
means, relative to scikit-learn's greedy k-means++ with seeds 0, 1, ...; the fits all run on
lloyd's engine, so only the seeds differ). A row of scikit-learn's own with other seeds (1000,
1001, ...) shows how far two sets of seeds of the same algorithm differ: the noise of the
comparison. Timings interleave the seedings seed by seed on one thread.

    python benchmarks/bench_seeding.py [--cells 0,2,3,4] [--seeds 10] [--dtype float64]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_engine import CELLS, blas_info, make_data


def potential(X, centers):
    """Σ min ‖x − c‖² (scikit-learn's chunked nearest-centre search, an independent measure)."""
    from sklearn.metrics import pairwise_distances_argmin_min

    _, dist = pairwise_distances_argmin_min(X, centers)
    return float(np.sum(dist.astype(np.float64) ** 2))


def ratio(values, reference):
    """mean(values) / mean(reference) ± its standard error, from the spread over the seeds."""
    a, b = np.asarray(values), np.asarray(reference)
    r = a.mean() / b.mean()
    rel = np.sqrt((a.std(ddof=1) / a.mean()) ** 2 / len(a) + (b.std(ddof=1) / b.mean()) ** 2
                  / len(b)) if len(a) > 1 else 0.0
    return f"{r:.4f} ± {r * rel:.4f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="0,1,2,3,4")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = parser.parse_args(argv)

    import numba
    from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
    from threadpoolctl import threadpool_limits

    import lloyd

    numba.set_num_threads(1)
    dtype = np.dtype(args.dtype)
    print("# Seeding: quality and time, 1 thread, "
          f"{args.seeds} seeds, {dtype.name}, Gaussian blobs (bench_engine's cells)")
    print("BLAS: " + "; ".join(blas_info()))
    print("\n| cell (n, d, k) | seeding | s (median) | speed vs sklearn | potential after "
          "seeding / sklearn's | inertia after the fit / sklearn's |")
    print("|---|---|---:|---:|---:|---:|")
    seedings = {
        "scikit-learn k-means++ (greedy)": lambda X, k, s: sk_kmeans_plusplus(
            X, k, random_state=s)[0],
        "scikit-learn, other seeds": lambda X, k, s: sk_kmeans_plusplus(
            X, k, random_state=1000 + s)[0],
        "lloyd k-means++ (greedy)": lambda X, k, s: lloyd.kmeans_plusplus(X, k, random_state=s)[0],
        "lloyd AFK-MC² (greedy)": lambda X, k, s: lloyd.afkmc2(X, k, random_state=s)[0],
    }
    fitted = ("scikit-learn k-means++ (greedy)", "scikit-learn, other seeds",
              "lloyd AFK-MC² (greedy)")
    for index in (int(i) for i in args.cells.split(",")):
        n, d, k = CELLS[index]
        X, _ = make_data(n, d, k, dtype)
        lloyd.kmeans_plusplus(X[:2000], min(k, 100), random_state=0)  # compile / load caches
        lloyd.afkmc2(X[:2000], min(k, 100), random_state=0)
        times = {name: [] for name in seedings}
        pots = {name: [] for name in seedings}
        inertias = {name: [] for name in fitted}
        with threadpool_limits(1):
            for seed in range(args.seeds):
                for name, seeding in seedings.items():
                    start = time.perf_counter()
                    centers = seeding(X, k, seed)
                    times[name].append(time.perf_counter() - start)
                    pots[name].append(potential(X, centers))
                    if name in fitted:
                        fit = lloyd.KMeans(k, init=centers, n_init=1).fit(X)
                        inertias[name].append(fit.inertia_)
        ref = "scikit-learn k-means++ (greedy)"
        t_ref = statistics.median(times[ref])
        for name in seedings:
            t = statistics.median(times[name])
            fit = (ratio(inertias[name], inertias[ref]) if name in inertias else "-")
            print(f"| {(n, d, k)} | {name} | {t:.3f} | {t_ref / t:.2f}× "
                  f"| {ratio(pots[name], pots[ref])} | {fit} |", flush=True)
    print("\nQuality: mean over the seeds / scikit-learn's mean (1.0000: the same as its greedy "
          "k-means++; above: worse) ± one standard error of that ratio (the seeds' spread). "
          "Speed: scikit-learn's median time / this seeding's.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
