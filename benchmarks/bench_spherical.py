"""How fast lloyd's SphericalKMeans is against faiss's spherical k-means, and what the sphere
costs over lloyd's KMeans on the same unit rows.

Run: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_spherical.py``
(~10 min on 2 cores) or, e.g., ``--cells 0 --threads 1 --repeats 3``.

Rows are unit-length float32 embeddings-like data (a mixture around k random directions, with
as much noise as signal, so that 20 iterations do not converge). Every method runs 20
iterations (tol=0) from the same initial centres (k rows); times are per iteration, the
median of ``--repeats`` runs interleaved (A, B, C, A, B, C, ...), and reported as ratios
measured in the same run. faiss (``faiss.Kmeans(spherical=True)``, every row used: no
subsampling) runs the same algorithm: assignment by the largest inner product, centroids
L2-normalised after each update; its centroids after 20 iterations are compared with lloyd's.
They agree to float32 rounding until a cluster empties: lloyd then moves it to the row of
lowest cosine (scikit-learn's rule), faiss splits a large cluster in two, and the runs part
(at (10⁵, 384, 64) a cluster empties at iteration 2).

``--sparse``: TF-IDF rows instead (``bench_sparse.tfidf_like``: CSR float64, already of unit
length, so SphericalKMeans reads them with no copy), SphericalKMeans against lloyd's KMeans on
the same rows, 20 iterations from the same k rows; faiss takes no sparse input.
``--quick``: one tiny cell, to check that the script runs (its times mean nothing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import FaissWorker, blas_info, timed

CELLS = [
    (100_000, 384, 64),  # sentence embeddings (MiniLM), topics
    (50_000, 768, 16),  # BERT-size embeddings, few clusters
    (200_000, 64, 256),  # short vectors, many clusters
]
N_ITER = 20
#: (n_samples, n_features, density, n_clusters), for --sparse (bench_sparse's first cells)
SPARSE_CELLS = [
    (100_000, 10_000, 0.001, 20),
    (100_000, 10_000, 0.001, 200),
    (100_000, 10_000, 0.01, 20),
]
QUICK_CELL, QUICK_SPARSE_CELL = (2_000, 16, 4), (2_000, 500, 0.02, 4)


def make_unit_rows(n, d, k, seed=0):
    """n unit rows around k random directions (noise as strong as the direction), and k of
    them drawn at random as the initial centres."""
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(k, d))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    X = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 50_000):
        stop = min(n, start + 50_000)
        rows = directions[rng.integers(0, k, stop - start)]
        rows += rng.normal(size=(stop - start, d)) / np.sqrt(d)
        X[start:stop] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return X, X[rng.choice(n, k, replace=False)].copy()


def bench_cell(cell, threads, repeats, faiss_worker, workdir):
    from threadpoolctl import threadpool_limits

    import lloyd
    from lloyd._threads import limit_threads

    n, d, k = cell
    X, init = make_unit_rows(n, d, k)
    x_path, init_path = Path(workdir) / "X.npy", Path(workdir) / "init.npy"
    centroids_path = Path(workdir) / "centroids.npy"
    np.save(x_path, X)
    np.save(init_path, init)

    def spherical():
        with limit_threads(threads):
            return lloyd.SphericalKMeans(k, init=init, n_init=1, max_iter=N_ITER, tol=0).fit(X)

    def euclidean():
        with limit_threads(threads):
            return lloyd.KMeans(k, init=init, n_init=1, max_iter=N_ITER, tol=0).fit(X)

    def sk_euclidean():
        from sklearn.cluster import KMeans as SKKMeans

        with threadpool_limits(threads):
            return SKKMeans(k, init=init, n_init=1, max_iter=N_ITER, tol=0).fit(X)

    spherical()  # load the kernels outside the timing
    runs = {"spherical": [], "kmeans": [], "sklearn": [], "faiss": []}
    n_iter = {}
    for _ in range(repeats):
        for name, fit in (("spherical", spherical), ("kmeans", euclidean),
                          ("sklearn", sk_euclidean)):
            t, km = timed(fit)
            runs[name].append(t / km.n_iter_)
            n_iter[name] = km.n_iter_
            if name == "spherical":
                ours = km
        if faiss_worker is not None:
            t = faiss_worker.fit(x_path, init_path, threads, niter=N_ITER, spherical=True,
                                 centroids_out=str(centroids_path))
            runs["faiss"].append(t / N_ITER)
    row = {name: 1000 * statistics.median(v) for name, v in runs.items() if v}
    row["n_iter"] = n_iter
    row["algorithm"] = ours.algorithm_
    if faiss_worker is not None and ours.n_iter_ == N_ITER:
        theirs = np.load(centroids_path)
        row["centroid_diff"] = float(np.abs(theirs - ours.cluster_centers_).max())
        labels = np.argmax(X @ theirs.T, axis=1)
        row["label_agreement"] = float(np.mean(labels == ours.predict(X)))
    return row


def bench_sparse_cell(cell, threads, repeats):
    """SphericalKMeans and KMeans on the same TF-IDF rows (CSR, unit length), ``N_ITER``
    iterations from the same k rows, interleaved: the median milliseconds per iteration."""
    from bench_sparse import tfidf_like

    import lloyd
    from lloyd._threads import limit_threads

    n, d, density, k = cell
    X = tfidf_like(n, d, density)
    init = X[np.random.default_rng(1).choice(n, k, replace=False)].toarray()

    def fit(cls):
        with limit_threads(threads):
            return cls(k, init=init, n_init=1, max_iter=N_ITER, tol=0).fit(X)

    fit(lloyd.SphericalKMeans)  # load the kernels outside the timing
    runs = {"spherical": [], "kmeans": []}
    n_iter = {}
    for _ in range(repeats):
        for name, cls in (("spherical", lloyd.SphericalKMeans), ("kmeans", lloyd.KMeans)):
            t, km = timed(lambda cls=cls: fit(cls))
            runs[name].append(t / km.n_iter_)
            n_iter[name] = km.n_iter_
    row = {name: 1000 * statistics.median(v) for name, v in runs.items()}
    row["n_iter"] = n_iter
    row["nnz"] = X.nnz
    return row


def main_sparse(cells, threads, repeats):
    print("\n| cell (n, d, density, k) float64 CSR | stored values | threads "
          "| SphericalKMeans ms/iter | lloyd KMeans ms/iter | spherical / KMeans |")
    print("|---" * 6 + "|")
    for n_threads in threads:
        for cell in cells:
            row = bench_sparse_cell(cell, n_threads, repeats)
            print(f"| {cell} | {row['nnz']} | {n_threads} | {row['spherical']:.1f} "
                  f"| {row['kmeans']:.1f} | {row['spherical'] / row['kmeans']:.2f} |",
                  flush=True)
            if len(set(row["n_iter"].values())) > 1 or row["n_iter"]["spherical"] != N_ITER:
                print(f"  (iterations run: {row['n_iter']})")
    print(f"\nPer iteration, {N_ITER} iterations from the same start; 'spherical / KMeans': "
          "the sphere's cost on the same unit rows (one projection of the centres per "
          "iteration; the answers differ).")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="all",
                        help="comma-separated cell numbers (0-2) of the table run (dense, or "
                             "--sparse)")
    parser.add_argument("--threads", default="1")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-faiss", action="store_true")
    parser.add_argument("--sparse", action="store_true",
                        help="TF-IDF rows (CSR): SphericalKMeans against KMeans, no faiss")
    parser.add_argument("--quick", action="store_true",
                        help="one tiny cell: a check that the script runs, not a timing")
    args = parser.parse_args(argv)

    import sklearn

    import lloyd

    table = SPARSE_CELLS if args.sparse else CELLS
    cells = table if args.cells == "all" else [table[int(i)] for i in args.cells.split(",")]
    if args.quick:
        cells = [QUICK_SPARSE_CELL if args.sparse else QUICK_CELL]
    print(f"lloyd {lloyd.__version__}, scikit-learn {sklearn.__version__}, numpy "
          f"{np.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()}")
    for line in blas_info():
        print(f"BLAS (lloyd, scikit-learn): {line}")
    if args.sparse:
        return main_sparse(cells, [int(t) for t in args.threads.split(",")], args.repeats)
    faiss_worker = None if args.no_faiss else FaissWorker.start()
    print("\n| cell (n, d, k) float32 | threads | algorithm | SphericalKMeans ms/iter "
          "| faiss spherical | faiss / lloyd | lloyd KMeans | spherical / KMeans "
          "| sklearn KMeans | max |Δ centroid| vs faiss | labels equal |")
    print("|---" * 11 + "|")
    with tempfile.TemporaryDirectory() as workdir:
        for threads in (int(t) for t in args.threads.split(",")):
            for cell in cells:
                row = bench_cell(cell, threads, args.repeats, faiss_worker, workdir)
                faiss_ms = row.get("faiss")
                print(
                    f"| {cell} | {threads} | {row['algorithm']} | {row['spherical']:.1f} "
                    f"| {faiss_ms:.1f} | {faiss_ms / row['spherical']:.2f}x "
                    if faiss_ms else f"| {cell} | {threads} | {row['algorithm']} "
                    f"| {row['spherical']:.1f} | - | - ",
                    end="",
                )
                print(
                    f"| {row['kmeans']:.1f} | {row['spherical'] / row['kmeans']:.2f} "
                    f"| {row['sklearn']:.1f} | {row.get('centroid_diff', float('nan')):.1e} "
                    f"| {100 * row.get('label_agreement', float('nan')):.2f}% |",
                    flush=True,
                )
                if len(set(row["n_iter"].values())) > 1 or row["n_iter"]["spherical"] != N_ITER:
                    print(f"  (iterations run: {row['n_iter']})")
    if faiss_worker is not None:
        faiss_worker.close()
    print(f"\nPer iteration, {N_ITER} iterations from the same start; 'faiss / lloyd' above 1: "
          "lloyd is faster. 'spherical / KMeans': the sphere's cost on the same unit rows "
          "(KMeans also centres them; its answer differs: no projection).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
