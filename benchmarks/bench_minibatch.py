"""lloyd's MiniBatchKMeans against scikit-learn's, and the memory of a streamed `lloyd cluster`.

Run: ``python benchmarks/bench_minibatch.py`` (about 10 min on 2 busy cores), or e.g.
``python benchmarks/bench_minibatch.py --n 200000 --repeats 3 --threads 1 --memory-gb 0``.
To time against a current numpy/OpenBLAS where OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE are set
for older builds, unset both for this command only:
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_minibatch.py``.

Speed: on blobs of shape (n, d) around k centres, both estimators fit with the same parameters
(batch_size 1024, k-means++, compute_labels) from seeds 0, 1, 2, ... in two modes: 'default'
stops early as both do by default (no improvement of the smoothed batch inertia in 10 steps);
'1 epoch' runs exactly n // batch_size steps. Each mode reports the median time and the median
final inertia (on all the rows) of each, run interleaved (lloyd, scikit-learn, lloyd, ...):
the ratio of times is the speed-up at the same inertia, which the inertia ratio shows. A last
table times one step on the same batch, without drawing it: the kernels alone.

Memory: a .npy file of --memory-gb GB (float64, 32 columns, 64 blobs) is written to --tmp
(deleted afterwards), then ``lloyd cluster FILE -k 64 --minibatch --labels L.npy`` runs in a
child process; its peak resident memory is read two ways: VmHWM of the child itself, and
``getrusage(RUSAGE_CHILDREN).ru_maxrss`` (an upper bound: Linux starts a child's count at its
parent's peak, so this part runs first, while this process is small).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_blobs(n, d, k, dtype, seed=0, out=None):
    """Gaussian blobs around k centres in [-5, 5]^d, generated in slices (low peak memory)."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-5, 5, size=(k, d))
    X = np.empty((n, d), dtype=dtype) if out is None else None
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        block = centers[rng.integers(0, k, stop - start)] + rng.normal(size=(stop - start, d))
        if out is None:
            X[start:stop] = block
        else:  # re-open the file for each slice so that written pages leave this process
            mm = np.lib.format.open_memmap(out, mode="r+")
            mm[start:stop] = block
            mm.flush()
            del mm
    return X


def blas_info():
    from threadpoolctl import threadpool_info

    return [f"{m['user_api']}: {m['internal_api']} {m.get('version') or ''} "
            f"{m.get('architecture') or ''} ({Path(m['filepath']).name}), "
            f"{m['num_threads']} threads"
            for m in threadpool_info()]


def bench_memory(gb, workdir, k=64, d=32):
    path = Path(workdir) / "lloyd-bench-big.npy"
    labels = Path(workdir) / "lloyd-bench-labels.npy"
    n = int(gb * 2**30) // (d * 8)
    print(f"\n## Memory: lloyd cluster --minibatch on a {gb:g} GB .npy ({n:,} x {d} float64, "
          f"k={k})\n", flush=True)
    start = time.perf_counter()
    np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, d))
    make_blobs(n, d, k, np.float64, seed=0, out=path)
    print(f"wrote {path} ({path.stat().st_size / 2**30:.2f} GiB) in "
          f"{time.perf_counter() - start:.0f} s; this process peaked at "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    argv = ["cluster", str(path), "-k", str(k), "--minibatch", "--labels", str(labels),
            "--random-state", "0", "-q"]
    code = (
        "import re, sys\n"
        "from lloyd.cli import main\n"
        f"code = main({argv!r})\n"
        "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read())\n"
        "print('VmHWM_kB', hwm.group(1) if hwm else 0)\n"
        "sys.exit(code)\n"
    )
    try:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr)
            raise SystemExit(f"lloyd cluster failed with exit code {proc.returncode}")
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        hwm = int(proc.stdout.split("VmHWM_kB")[-1].split()[0]) / 1024
        report = [ln for ln in proc.stdout.splitlines() if not ln.startswith("VmHWM")]
        print("\n".join(ln[:160] for ln in report))
        n_labels = np.load(labels, mmap_mode="r").shape[0]
        print(f"\nlabels file: {n_labels:,} rows; wall time {seconds:.0f} s")
        print(f"peak RSS of the child: VmHWM {hwm:.0f} MB; RUSAGE_CHILDREN ru_maxrss "
              f"{children:.0f} MB (file: {path.stat().st_size / 2**20:.0f} MB)")
        return {"file_mb": path.stat().st_size / 2**20, "vmhwm_mb": hwm,
                "ru_maxrss_children_mb": children, "seconds": seconds}
    finally:
        path.unlink(missing_ok=True)
        labels.unlink(missing_ok=True)


def bench_speed(n, d, k, dtype, threads, repeats):
    import numba
    from sklearn.cluster import MiniBatchKMeans as SKMiniBatchKMeans
    from threadpoolctl import threadpool_limits

    from lloyd import MiniBatchKMeans

    X = make_blobs(n, d, k, dtype, seed=1)
    numba.set_num_threads(threads)
    MiniBatchKMeans(k, random_state=0, max_iter=1).fit(X[:20_000])  # compile outside timings
    modes = {"default": {}, "1 epoch": {"max_iter": 1, "max_no_improvement": None}}
    rows = []
    for mode, params in modes.items():
        runs = {"lloyd": [], "sklearn": []}
        for seed in range(repeats):
            for name in ("lloyd", "sklearn"):
                cls = MiniBatchKMeans if name == "lloyd" else SKMiniBatchKMeans
                est = cls(k, random_state=seed, batch_size=1024, **params)
                with threadpool_limits(threads):
                    start = time.perf_counter()
                    est.fit(X)
                    seconds = time.perf_counter() - start
                runs[name].append((seconds, est.inertia_, est.n_steps_))
        med = {name: [statistics.median(v[i] for v in r) for i in range(3)]
               for name, r in runs.items()}
        rows.append((mode, med))
        (t_l, i_l, s_l), (t_s, i_s, s_s) = med["lloyd"], med["sklearn"]
        print(f"| {threads} | {mode} | {t_l:.2f} | {t_s:.2f} | **{t_s / t_l:.1f}x** "
              f"| {i_l:.6g} | {i_s:.6g} | {i_l / i_s:.4f} | {s_l:.0f} | {s_s:.0f} "
              f"| {1000 * t_l / s_l:.2f} | {1000 * t_s / s_s:.2f} |", flush=True)
    return rows


def bench_step(d, k, dtype, threads, repeats, batch_size=1024, n_steps=200):
    """One mini-batch step on the same batch (no sampling): the kernels alone."""
    import numba
    from sklearn.cluster._kmeans import _mini_batch_step as sk_step
    from threadpoolctl import threadpool_limits

    from lloyd._threads import blas_single_thread as _blas_single_thread
    from lloyd._threads import threads_for as _threads_for
    from lloyd.minibatch import _mini_batch_step

    X = make_blobs(batch_size, d, k, dtype, seed=2)
    w = np.ones(batch_size, dtype=dtype)
    numba.set_num_threads(threads)
    runs = {"lloyd": [], "sklearn": []}
    for _ in range(repeats + 1):  # the first round warms up
        centers, centers_new = X[:k].copy(), np.empty((k, d), dtype=dtype)
        counts = np.zeros(k)
        with _blas_single_thread(), _threads_for(batch_size, k, d):
            start = time.perf_counter()
            for _ in range(n_steps):
                _mini_batch_step(X, w, centers, centers_new, counts, None, False, 0.0, 0)
            runs["lloyd"].append((time.perf_counter() - start) / n_steps)
        centers, centers_new = X[:k].copy(), np.empty((k, d), dtype=dtype)
        counts = np.zeros(k, dtype=dtype)
        with threadpool_limits(limits=1, user_api="blas"), threadpool_limits(threads):
            start = time.perf_counter()
            for _ in range(n_steps):
                sk_step(X, w, centers, centers_new, counts, None, False, 0.0, False, threads)
            runs["sklearn"].append((time.perf_counter() - start) / n_steps)
    lloyd_ms, sk_ms = (1000 * statistics.median(runs[name][1:]) for name in ("lloyd", "sklearn"))
    print(f"| {threads} | one step, same batch (no sampling) | {lloyd_ms:.3f} ms | "
          f"{sk_ms:.3f} ms | {sk_ms / lloyd_ms:.1f}x |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-gb", type=float, default=2.0, help="0: skip the memory part")
    parser.add_argument("--tmp", default=tempfile.gettempdir(), help="folder for the big file")
    parser.add_argument("--parts", default="memory,speed,step",
                        help="any of memory, speed (whole fits), step (one step, no sampling)")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    threads_list = [int(t) for t in args.threads.split(",")]

    if args.memory_gb > 0 and "memory" in parts:
        bench_memory(args.memory_gb, args.tmp)

    import numba
    import sklearn

    import lloyd

    print(f"\n## Speed: MiniBatchKMeans on ({args.n:,}, {args.d}, {args.k}) {args.dtype}, "
          f"median of {args.repeats} repeats, interleaved\n")
    print(f"lloyd {lloyd.__version__}, scikit-learn {sklearn.__version__}, numba "
          f"{numba.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        print(f"{name}: {os.environ.get(name, '(unset)')}")
    from sklearn.cluster import MiniBatchKMeans as SKMiniBatchKMeans

    SKMiniBatchKMeans(2, n_init=1).fit(np.ones((10, 2)) + np.arange(10)[:, None])  # load BLAS
    lloyd.KMeans(2).fit(np.arange(20.0).reshape(10, 2))
    for line in blas_info():
        print(line)
    if "speed" in parts:
        print("\n| threads | mode | lloyd s | sklearn s | speed-up | lloyd inertia "
              "| sklearn inertia | inertia ratio | lloyd steps | sklearn steps | lloyd ms/step "
              "| sklearn ms/step |")
        print("|---" * 12 + "|")
        for threads in threads_list:
            bench_speed(args.n, args.d, args.k, np.dtype(args.dtype).type, threads,
                        args.repeats)
    if "step" in parts:
        print("\n| threads | what | lloyd | sklearn | speed-up |")
        print("|---" * 5 + "|")
        for threads in threads_list:
            bench_step(args.d, args.k, np.dtype(args.dtype).type, threads, args.repeats)
    print("\nspeed-up: scikit-learn's median time / lloyd's; inertia ratio: lloyd's / "
          "scikit-learn's (1 = the same quality). Timings from a shared machine: compare ratios, "
          "not absolute times.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
