"""A/B: lloyd at another commit (A) against this checkout (B), on bench_engine's cells, in one
process on the same data.

Run: ``git worktree add /tmp/base d9380ab && (cd /tmp/base && python setup.py build_ext
--inplace -q)`` (the build only where that commit has compiled kernels), then
``python benchmarks/bench_ab.py /tmp/base/src --cells 0,1,2,3,4 --threads 1,2 --rounds 9``.

A's package is copied into a temporary folder as ``lloyd_base`` (its imports rewritten), so that
one worker process imports both versions and times them alternately (A, B / B, A) on the very
same array. On this shared 2-core machine two processes, or two copies of X in one process,
differ by up to 20% for one and the same code (where their pages land, other tenants), which
is more than the differences measured here; alternating within a process on one array removes
both. One worker per thread count (numba, OpenMP and BLAS all set to it). The table gives
medians of the fit times and the median of the paired ratios B/A (each B run against the A run
beside it); B/A < 1 means this checkout is faster.

"iterations": 20 iterations from the same start (tol=0); "full": the default fit (k-means++,
``random_state`` = the round's number).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from bench_engine import CELLS  # noqa: E402

WORKER = r"""
import json, sys, time
import numpy as np
sys.path[:0] = [sys.argv[1], sys.argv[2], sys.argv[3]]
from bench_engine import make_data
import lloyd, lloyd_base
print(json.dumps({"A": lloyd_base.__file__, "B": lloyd.__file__}), flush=True)
libs = {"A": lloyd_base, "B": lloyd}
data = {}

def fit(lib, cmd, X, init):
    k = cmd["cell"][2]
    if cmd["what"] == "iterations":
        return lib.KMeans(k, init=init, n_init=1, max_iter=20, tol=0).fit(X)
    return lib.KMeans(k, random_state=cmd["seed"]).fit(X)

for line in sys.stdin:
    cmd = json.loads(line)
    key = (tuple(cmd["cell"]), cmd["dtype"])
    if key not in data:
        data.clear()
        n, d, k = cmd["cell"]
        data[key] = make_data(n, d, k, np.dtype(cmd["dtype"]).type)
        for lib in libs.values():  # load (or compile) every kernel the cell runs
            fit(lib, dict(cmd, what="iterations"), *data[key])
            fit(lib, dict(cmd, what="full", seed=0), *data[key])
    X, init = data[key]
    t0 = time.perf_counter()
    km = fit(libs[cmd["lib"]], cmd, X, init)
    t = time.perf_counter() - t0
    print(json.dumps({"t": t, "n_iter": int(km.n_iter_), "inertia": float(km.inertia_),
                      "algorithm": km.algorithm_}), flush=True)
"""


def copy_as_base(src: Path, dest: Path) -> None:
    """``src/lloyd`` copied to ``dest/lloyd_base``, every import of ``lloyd`` rewritten."""
    shutil.copytree(src / "lloyd", dest / "lloyd_base",
                    ignore=shutil.ignore_patterns("__pycache__", "*.c"))
    for path in (dest / "lloyd_base").rglob("*"):
        if path.suffix in (".py", ".pyx", ".pxd"):
            text = path.read_text()
            text = re.sub(r"\blloyd\.", "lloyd_base.", text)
            text = re.sub(r"\bfrom lloyd import\b", "from lloyd_base import", text)
            text = re.sub(r"^import lloyd$", "import lloyd_base as lloyd", text, flags=re.M)
            path.write_text(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_src", type=Path, help="the other commit's src folder")
    parser.add_argument("--cells", default="0,1,2,3,4")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--what", default="iterations")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--keep", type=Path, default=None,
                        help="copy A's package here and keep it (and numba's cache of it) for "
                             "the next run; default: a temporary folder")
    args = parser.parse_args()
    cells = [CELLS[int(c)] for c in args.cells.split(",")]
    env0 = {k: v for k, v in os.environ.items()
            if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    subprocess.run(["uptime"])
    with (contextlib.nullcontext(str(args.keep)) if args.keep is not None
          else tempfile.TemporaryDirectory()) as tmp:
        if not (Path(tmp) / "lloyd_base").is_dir():
            copy_as_base(args.base_src, Path(tmp))
        for threads in args.threads.split(","):
            env = dict(env0, OMP_NUM_THREADS=threads, NUMBA_NUM_THREADS=threads,
                       OPENBLAS_NUM_THREADS=threads)
            worker = subprocess.Popen(
                [sys.executable, "-c", WORKER, str(BENCH.parent / "src"), tmp, str(BENCH)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
            print(f"\n{threads} thread(s):", worker.stdout.readline().strip(), flush=True)

            def ask(cmd, worker=worker):
                worker.stdin.write(json.dumps(cmd) + "\n")
                worker.stdin.flush()
                return json.loads(worker.stdout.readline())

            print("| cell | dtype | what | algorithm | A ms | B ms | B/A (paired) | "
                  "n_iter A/B | same inertia (1e-9) |")
            print("|---|---|---|---|---|---|---|---|---|")
            for cell in cells:
                for dtype in args.dtypes.split(","):
                    for what in args.what.split(","):
                        res = {"A": [], "B": []}
                        for r in range(args.rounds):
                            for lib in (("A", "B") if r % 2 == 0 else ("B", "A")):
                                res[lib].append(ask({"cell": cell, "dtype": dtype, "what": what,
                                                     "seed": r, "lib": lib}))
                        a = statistics.median(x["t"] for x in res["A"])
                        b = statistics.median(x["t"] for x in res["B"])
                        paired = statistics.median(y["t"] / x["t"]
                                                   for x, y in zip(res["A"], res["B"]))
                        same = all(abs(x["inertia"] - y["inertia"]) <= 1e-9 * abs(x["inertia"])
                                   for x, y in zip(res["A"], res["B"]))
                        print(f"| {cell} | {dtype} | {what} | {res['B'][0]['algorithm']} "
                              f"| {1000 * a:.1f} | {1000 * b:.1f} | {paired:.3f} "
                              f"| {res['A'][0]['n_iter']}/{res['B'][0]['n_iter']} | {same} |",
                              flush=True)
            worker.stdin.close()
            worker.wait()
    subprocess.run(["uptime"])


if __name__ == "__main__":
    main()
