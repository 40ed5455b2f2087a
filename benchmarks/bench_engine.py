"""How fast lloyd's KMeans is against scikit-learn, oneDAL, mlpack and faiss, cell by cell.

Run: ``python benchmarks/bench_engine.py`` (everything; ~30 min on 2 cores) or, e.g.,
``python benchmarks/bench_engine.py --cells 0,2 --dtypes float32 --threads 1 --repeats 3``.

Every timing is the median of ``--repeats`` runs, lloyd and its competitors interleaved
(A, B, C, A, B, C, ...), and reported as a ratio measured in the same run: the machine is shared
and noisy. "iterations" are 20 Lloyd iterations (tol=0) from the same initial centres (issue
18's part A); "full" is each library's default fit with k-means++ seeding over ``--repeats``
seeds, timed and compared at its mean inertia (part B; ``--inertia-seeds 30`` compares the
inertia over more seeds as well). oneDAL (``sklearnex.cluster.KMeans``,
threads set by ``daal4py.daalinit``) and mlpack (``mlpack.kmeans``, its fastest exact algorithm
for the data, probed once) run in a process of their own; install them with the ``bench``
extra. mlpack has no iteration count to report: its "iterations" time is divided by 20.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CELLS = [
    (1_000_000, 3, 16),
    (1_000_000, 3, 256),
    (200_000, 32, 64),
    (100_000, 128, 256),
    (60_000, 784, 10),
]
N_ITER = 20


def make_data(n, d, k, dtype, seed=0):
    """Gaussian blobs around k random centres, generated in slices to keep the peak low."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-5, 5, size=(k, d))
    X = np.empty((n, d), dtype=dtype)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        X[start:stop] = centers[rng.integers(0, k, stop - start)] + rng.normal(
            size=(stop - start, d)
        )
    init = X[rng.choice(n, k, replace=False)].copy()
    return X, init


#: Seconds to wait before each timing. OpenBLAS's worker threads keep spinning for about
#: 0.1 s after a multi-threaded call (its THREAD_TIMEOUT), and on two cores a spinning thread
#: takes one from whatever runs next: lloyd's 2-thread default fit at (6·10⁴, 784, 10)
#: float32 took 195–199 ms right after a 2-thread matrix product, 145–164 ms after a 1-thread
#: one and 164–174 ms after a 2-thread one and 0.3 s of sleep (``bench_settle.py``,
#: 2026-12-03). Every library's timing starts on a machine as quiet as that; the inertia check
#: between timings uses one BLAS thread.
SETTLE_S = 0.3


def settle():
    time.sleep(SETTLE_S)


def timed(fn):
    settle()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def blas_info():
    from threadpoolctl import threadpool_info

    return [
        f"{m['internal_api']} {m.get('version')} {m.get('architecture')} "
        f"({Path(m['filepath']).name})"
        for m in threadpool_info()
        if m["user_api"] == "blas"
    ]


class FaissWorker:
    """faiss in its own process, with the OpenBLAS kernel it needs on this processor."""

    def __init__(self):
        env = dict(os.environ)
        env.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
        env.pop("OPENBLAS_L2_SIZE", None)
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_faiss_worker.py"))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )
        self.hello = json.loads(self.proc.stdout.readline())

    def fit(self, x_path, init_path, threads, niter=N_ITER, **options):
        """Seconds faiss's ``train`` took; ``options``: the worker's optional keys."""
        settle()
        cmd = {"X": str(x_path), "init": str(init_path), "threads": threads, "niter": niter,
               **options}
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["seconds"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()

    @classmethod
    def start(cls):
        """A worker, its BLAS printed, or None (said why) when faiss cannot run: it is optional."""
        try:
            worker = cls()
        except Exception as exc:
            print(f"faiss: not measured ({exc.__class__.__name__}: {exc})")
            return None
        for m in worker.hello["blas"]:
            print(f"BLAS (faiss process, OPENBLAS_CORETYPE=SkylakeX): {m['internal_api']} "
                  f"{m['version']} {m['architecture']}")
        return worker


class CompetitorWorker:
    """oneDAL and mlpack in a process of their own (``_competitor_worker.py``): their thread
    pools must not run, or spin, in lloyd's process."""

    def __init__(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_competitor_worker.py"))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )
        self.hello = json.loads(self.proc.stdout.readline())

    def fit(self, lib, mode, x_path, threads, *, init_path=None, k=None, seed=0, out):
        settle()
        cmd = {"lib": lib, "mode": mode, "X": str(x_path), "init": str(init_path),
               "threads": threads, "niter": N_ITER, "k": k, "seed": seed, "out": str(out)}
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        return answer["seconds"], np.load(out), answer["algorithm"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def inertia_of(X, centers):
    """Sum of squared distances to the nearest centre, in float64, 50 000 rows at a time."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):  # no spinning BLAS threads left behind
        return _inertia_of(X, centers)


def _inertia_of(X, centers):
    total = 0.0
    c = np.asarray(centers, dtype=np.float64)
    c_sq = (c * c).sum(axis=1)
    for start in range(0, X.shape[0], 50_000):
        x = np.asarray(X[start:start + 50_000], dtype=np.float64)
        d = (x * x).sum(axis=1)[:, None] - 2 * x @ c.T + c_sq
        total += float(np.maximum(d.min(axis=1), 0).sum())
    return total


def measure_rates(threads):
    """Memory bandwidth (bytes/s, one read of a large array) and matrix-product rate (flop/s)."""
    import numba
    from threadpoolctl import threadpool_limits

    from lloyd._kernels.reductions import inertia  # noqa: F401  (warm import only)

    a = np.ones(50_000_000, dtype=np.float64)
    numba.set_num_threads(threads)
    a.sum()
    t = min(timed(a.sum)[0] for _ in range(3))
    bandwidth = a.nbytes / t
    rates = {}
    for dtype in (np.float64, np.float32):
        m = np.ones((2000, 2000), dtype=dtype)
        with threadpool_limits(threads, user_api="blas"):
            m @ m
            t = min(timed(lambda m=m: m @ m)[0] for _ in range(3))
        rates[np.dtype(dtype).name] = 2 * 2000**3 / t
    return bandwidth, rates


def bench_cell(cell, dtype, threads, repeats, faiss_worker, what, workdir, others=None,
               full_others=("onedal", "mlpack"), inertia_seeds=0):
    import numba
    from sklearn.cluster import KMeans as SKKMeans
    from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
    from threadpoolctl import threadpool_limits

    import lloyd

    n, d, k = cell
    X, init = make_data(n, d, k, dtype)
    numba.set_num_threads(threads)
    row = {"cell": cell, "dtype": np.dtype(dtype).name, "threads": threads}

    def lloyd_iters():
        return lloyd.KMeans(k, init=init, n_init=1, max_iter=N_ITER, tol=0).fit(X)

    def sk_iters(algorithm):
        with threadpool_limits(threads):
            return SKKMeans(k, init=init, n_init=1, max_iter=N_ITER, tol=0,
                            algorithm=algorithm).fit(X)

    x_path = Path(workdir) / "X.npy"
    init_path = Path(workdir) / "init.npy"
    out_path = Path(workdir) / "centers.npy"
    if others is not None or (faiss_worker is not None and dtype == np.float32):
        np.save(x_path, X)
        np.save(init_path, init)
    if "iterations" in what:
        runs = {"lloyd": [], "sklearn lloyd": [], "sklearn elkan": [], "faiss": [],
                "onedal": [], "mlpack": []}
        iters = {}
        lloyd_iters()  # compile outside the timing
        for _ in range(repeats):
            t, km = timed(lloyd_iters)
            runs["lloyd"].append(t / km.n_iter_)
            iters["lloyd"] = km.n_iter_
            for alg in ("lloyd", "elkan"):
                t, km = timed(lambda alg=alg: sk_iters(alg))
                runs[f"sklearn {alg}"].append(t / km.n_iter_)
            if faiss_worker is not None and dtype == np.float32:
                runs["faiss"].append(faiss_worker.fit(x_path, init_path, threads) / N_ITER)
            if others is not None:
                for lib in ("onedal", "mlpack"):
                    t, _, algorithm = others.fit(lib, "iterations", x_path, threads,
                                                 init_path=init_path, out=out_path)
                    runs[lib].append(t / N_ITER)
                    row[f"{lib}_algorithm"] = algorithm
        row["iter_ms"] = {
            name: 1000 * statistics.median(v) for name, v in runs.items() if v
        }
        row["n_iter"] = iters["lloyd"]

    if "seeding" in what:
        lloyd.kmeans_plusplus(X[:1000], min(k, 1000), random_state=0)  # compile
        lloyd.afkmc2(X[:2000], min(k, 100), random_state=0)
        runs = {"lloyd": [], "sklearn": [], "afk-mc2": []}
        for r in range(repeats):
            runs["lloyd"].append(timed(lambda r=r: lloyd.kmeans_plusplus(X, k, random_state=r))[0])
            runs["afk-mc2"].append(timed(lambda r=r: lloyd.afkmc2(X, k, random_state=r))[0])
            with threadpool_limits(threads):
                runs["sklearn"].append(
                    timed(lambda r=r: sk_kmeans_plusplus(X, k, random_state=r))[0]
                )
        row["seed_s"] = {name: statistics.median(v) for name, v in runs.items()}

    if "full" in what:
        # Load every kernel this fit touches first: the first call in a process (compiling or
        # loading numba's cache) is reported separately, in a fresh process.
        lloyd.KMeans(k, random_state=0, n_init=1, max_iter=2).fit(X[: max(20 * k, 20_000)])
        runs = {"lloyd": [], "sklearn": [], "onedal": [], "mlpack": []}
        inertias = {name: [] for name in runs}
        for r in range(repeats):
            t, km = timed(lambda r=r: lloyd.KMeans(k, random_state=r).fit(X))
            runs["lloyd"].append(t)
            inertias["lloyd"].append(inertia_of(X, km.cluster_centers_))
            with threadpool_limits(threads):
                t, km = timed(lambda r=r: SKKMeans(k, random_state=r).fit(X))
            runs["sklearn"].append(t)
            inertias["sklearn"].append(inertia_of(X, km.cluster_centers_))
            if others is not None:
                for lib in full_others:
                    t, centers, _ = others.fit(lib, "full", x_path, threads, k=k, seed=r,
                                               out=out_path)
                    runs[lib].append(t)
                    inertias[lib].append(inertia_of(X, centers))
        row["full_s"] = {name: statistics.median(v) for name, v in runs.items() if v}
        # Mean inertia over the seeds (in float64 from the centres): the default fits are
        # compared at equal or lower inertia, not only on time.
        row["full_inertia"] = {name: statistics.mean(v) for name, v in inertias.items() if v}
        # Three seeds cannot tell two k-means++ libraries apart at large k (a fit's inertia
        # varies by a few per cent from seed to seed, and the libraries draw different
        # centres from the same seed), so the inertia can also be compared over more seeds,
        # lloyd against the fastest other library only, untimed.
        fastest = row["full_fastest"] = min(
            (name for name in row["full_s"] if name != "lloyd"), key=row["full_s"].get,
            default=None)
        if inertia_seeds > repeats and fastest is not None:
            for r in range(repeats, inertia_seeds):
                inertias["lloyd"].append(
                    inertia_of(X, lloyd.KMeans(k, random_state=r).fit(X).cluster_centers_))
                if fastest == "sklearn":
                    with threadpool_limits(threads):
                        centers = SKKMeans(k, random_state=r).fit(X).cluster_centers_
                else:
                    centers = others.fit(fastest, "full", x_path, threads, k=k, seed=r,
                                         out=out_path)[1]
                inertias[fastest].append(inertia_of(X, centers))
            row["seeds_inertia"] = {"other": fastest, "lloyd": inertias["lloyd"],
                                    fastest: inertias[fastest]}
    return row


def seeds_comparison(row):
    """'ratio (z)' of lloyd's mean inertia over many seeds to the fastest other library's: z is
    the difference of the means in standard errors (Welch), negative where lloyd is lower."""
    s = row.get("seeds_inertia")
    if not s:
        return "-"
    a, b = np.asarray(s["lloyd"]), np.asarray(s[s["other"]])
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    z = (a.mean() - b.mean()) / se if se > 0 else 0.0
    return f"{a.mean() / b.mean():.4f} over {a.size} seeds (z = {z:+.1f})"


def compile_times():
    """First call (compiling or loading the on-disk cache) and a cached call, in a fresh process."""
    code = (
        "import time, numpy as np\n"
        "t0 = time.perf_counter()\n"
        "import lloyd\n"
        "X = np.random.default_rng(0).normal(size=(1000, 3))\n"
        "t1 = time.perf_counter(); lloyd.KMeans(4, random_state=0).fit(X); "
        "t2 = time.perf_counter()\n"
        "lloyd.KMeans(4, random_state=0).fit(X); t3 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1, t3 - t2)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    return [float(v) for v in out]


def fmt_ratio(a, b):
    return f"{a / b:5.2f}x" if a and b else "  -  "


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="all", help="comma-separated cell numbers (0-4)")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--what", default="iterations,seeding,full",
                        help="any of iterations, seeding, full")
    parser.add_argument("--no-faiss", action="store_true")
    parser.add_argument("--no-others", action="store_true",
                        help="leave out oneDAL (scikit-learn-intelex) and mlpack")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    parser.add_argument("--no-mlpack-full", action="store_true",
                        help="leave mlpack out of the default fits (its k-means++ fit took "
                             "159 s against scikit-learn's 9.6 s at (10⁵, 128, 256): never the "
                             "best other there, and an hour of the run)")
    parser.add_argument("--inertia-seeds", type=int, default=0, metavar="N",
                        help="also compare the default fits' mean inertia over N seeds (the "
                             "timed ones first), lloyd against the fastest other library")
    args = parser.parse_args(argv)

    import numba
    import sklearn

    cells = CELLS if args.cells == "all" else [CELLS[int(i)] for i in args.cells.split(",")]
    dtypes = [np.dtype(s).type for s in args.dtypes.split(",")]
    threads_list = [int(t) for t in args.threads.split(",")]
    what = set(args.what.split(","))

    import lloyd

    print(f"lloyd {lloyd.__version__}, scikit-learn {sklearn.__version__}, numba "
          f"{numba.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    for line in blas_info():
        print(f"BLAS (lloyd, scikit-learn): {line}")
    print("OPENBLAS_CORETYPE in this process:", os.environ.get("OPENBLAS_CORETYPE", "(unset)"))
    faiss_worker = None
    if not args.no_faiss and "iterations" in what:
        faiss_worker = FaissWorker.start()
    others = None
    if not args.no_others:
        try:
            others = CompetitorWorker()
            print("oneDAL and mlpack: in their own process "
                  f"({', '.join(m['internal_api'] for m in others.hello['pools'])})")
        except Exception as exc:  # both are optional (the bench extra)
            print(f"oneDAL, mlpack: not measured ({exc.__class__.__name__}: {exc})")
            others = None
    first, cached = compile_times()[1:]
    print(f"first fit in a fresh process (compile or load cache): {first:.2f} s; "
          f"next fit: {1000 * cached:.1f} ms")

    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for threads in threads_list:
            bandwidth, rates = measure_rates(threads)
            print(f"\n## {threads} thread(s): read bandwidth {bandwidth / 1e9:.1f} GB/s, "
                  f"matrix product {rates['float64'] / 1e9:.0f} GFLOP/s (f64), "
                  f"{rates['float32'] / 1e9:.0f} GFLOP/s (f32)\n")
            print("| cell (n, d, k) | dtype | lloyd ms/iter | sklearn lloyd | sklearn elkan "
                  "| faiss | oneDAL | mlpack | vs best sklearn | vs faiss | vs best other "
                  "| floor ms | lloyd / floor "
                  "| seeding lloyd s | sklearn s | ratio | afk-mc2 s | ratio "
                  "| full fit lloyd s | sklearn s | oneDAL s | mlpack s | vs best other "
                  "| inertia lloyd / best other's | over more seeds |")
            print("|---" * 25 + "|")
            for cell in cells:
                for dtype in dtypes:
                    row = bench_cell(cell, dtype, threads, args.repeats, faiss_worker, what,
                                     workdir, others,
                                     ("onedal",) if args.no_mlpack_full else ("onedal", "mlpack"),
                                     args.inertia_seeds)
                    n, d, k = cell
                    floor = 1000 * max(n * d * np.dtype(dtype).itemsize / bandwidth,
                                       2 * n * k * d / rates[np.dtype(dtype).name])
                    row["floor_ms"] = floor
                    rows.append(row)
                    it = row.get("iter_ms", {})
                    best_sk = min(it.get("sklearn lloyd", np.inf), it.get("sklearn elkan", np.inf))
                    best_other = min((v for name, v in it.items() if name != "lloyd"),
                                     default=None)
                    seed = row.get("seed_s", {})
                    full = row.get("full_s", {})
                    # Part B: the fastest other k-means++ fit, and lloyd's mean inertia over
                    # that library's.
                    fastest = row.get("full_fastest")
                    inertia = row.get("full_inertia", {})
                    inertia_ratio = (inertia["lloyd"] / inertia[fastest]
                                     if fastest in inertia else None)

                    def cellf(v, spec):
                        return format(v, spec) if v is not None else "-"

                    print(
                        f"| {cell} | {row['dtype']} | {cellf(it.get('lloyd'), '.1f')} "
                        f"| {cellf(it.get('sklearn lloyd'), '.1f')} "
                        f"| {cellf(it.get('sklearn elkan'), '.1f')} "
                        f"| {cellf(it.get('faiss'), '.1f')} "
                        f"| {cellf(it.get('onedal'), '.1f')} "
                        f"| {cellf(it.get('mlpack'), '.1f')}"
                        f"{' (' + row['mlpack_algorithm'] + ')' if 'mlpack_algorithm' in row else ''} "
                        f"| {fmt_ratio(best_sk if it else None, it.get('lloyd'))} "
                        f"| {fmt_ratio(it.get('faiss'), it.get('lloyd'))} "
                        f"| {fmt_ratio(best_other, it.get('lloyd'))} "
                        f"| {floor:.1f} | {fmt_ratio(it.get('lloyd'), floor)} "
                        f"| {cellf(seed.get('lloyd'), '.3f')} | {cellf(seed.get('sklearn'), '.3f')} "
                        f"| {fmt_ratio(seed.get('sklearn'), seed.get('lloyd'))} "
                        f"| {cellf(seed.get('afk-mc2'), '.3f')} "
                        f"| {fmt_ratio(seed.get('sklearn'), seed.get('afk-mc2'))} "
                        f"| {cellf(full.get('lloyd'), '.2f')} | {cellf(full.get('sklearn'), '.2f')} "
                        f"| {cellf(full.get('onedal'), '.2f')} | {cellf(full.get('mlpack'), '.2f')} "
                        f"| {fmt_ratio(full.get(fastest), full.get('lloyd'))} "
                        f"| {cellf(inertia_ratio, '.4f')} | {seeds_comparison(row)} |",
                        flush=True,
                    )
    if faiss_worker is not None:
        faiss_worker.close()
    if others is not None:
        others.close()
    print("\nRatios are competitor time / lloyd time (above 1: lloyd is faster); "
          "'lloyd / floor' is how far lloyd is above the floor.")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
