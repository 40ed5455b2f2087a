"""A/B: lloyd built at another commit (A) against this checkout (B), on bench_engine's cells.

Run: ``git archive 6865df4 | tar -x -C /tmp/base && (cd /tmp/base && python setup.py
build_ext --inplace -q)``, then ``python benchmarks/bench_ab.py /tmp/base/src 0,1,2,3,4
float32,float64 iterations,full 5``. Each version runs in its own long-lived worker process
holding the same data, one thread (numba, OpenMP, BLAS); the runs alternate A, B / B, A and
the table gives medians and B/A. "iterations": 20 iterations from the same start (tol=0);
"full": the default fit (k-means++, random_state = the repeat's number).
"""

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import json, sys, time, os
import numpy as np
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
from bench_engine import make_data
import numba
numba.set_num_threads(1)
from threadpoolctl import threadpool_limits
threadpool_limits(1)
import lloyd
print(json.dumps({"lloyd": lloyd.__file__}), flush=True)
data = {}
for line in sys.stdin:
    cmd = json.loads(line)
    key = (tuple(cmd["cell"]), cmd["dtype"])
    if key not in data:
        data.clear()
        n, d, k = cmd["cell"]
        data[key] = make_data(n, d, k, np.dtype(cmd["dtype"]).type)
        X, init = data[key]
        lloyd.KMeans(k, init=init, n_init=1, max_iter=2, tol=0).fit(X)   # warm
        lloyd.KMeans(k, random_state=0, n_init=1, max_iter=2).fit(X[:max(20 * k, 20000)])
    X, init = data[key]
    k = cmd["cell"][2]
    t0 = time.perf_counter()
    if cmd["what"] == "iterations":
        km = lloyd.KMeans(k, init=init, n_init=1, max_iter=20, tol=0).fit(X)
    else:
        km = lloyd.KMeans(k, random_state=cmd["seed"]).fit(X)
    t = time.perf_counter() - t0
    print(json.dumps({"t": t, "n_iter": int(km.n_iter_), "inertia": float(km.inertia_),
                      "algorithm": km.algorithm_}), flush=True)
"""
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import CELLS  # noqa: E402


def main():
    base_src = sys.argv[1]
    cells = [CELLS[int(c)] for c in sys.argv[2].split(",")]
    dtypes = sys.argv[3].split(",")
    whats = sys.argv[4].split(",")
    repeats = int(sys.argv[5])
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    bench = str(Path(__file__).resolve().parent)
    workers = {}
    for name, src in (("A", base_src), ("B", str(Path(bench).parent / "src"))):
        p = subprocess.Popen(
            [sys.executable, "-c", WORKER, src, bench],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        print(name, p.stdout.readline().strip(), flush=True)
        workers[name] = p

    def ask(name, cmd):
        p = workers[name]
        p.stdin.write(json.dumps(cmd) + "\n")
        p.stdin.flush()
        return json.loads(p.stdout.readline())

    print("| cell | dtype | what | algorithm | A ms | B ms | B/A | n_iter A/B | inertia equal |")
    print("|---|---|---|---|---|---|---|---|---|")
    for cell in cells:
        for dtype in dtypes:
            for what in whats:
                ts = {"A": [], "B": []}
                res = {}
                for r in range(repeats):
                    order = ("A", "B") if r % 2 == 0 else ("B", "A")
                    for name in order:
                        out = ask(name, {"cell": cell, "dtype": dtype, "what": what, "seed": r})
                        ts[name].append(out["t"])
                        res.setdefault(name, []).append(out)
                a = statistics.median(ts["A"])
                b = statistics.median(ts["B"])
                same = all(x["inertia"] == y["inertia"] for x, y in zip(res["A"], res["B"]))
                print(
                    f"| {cell} | {dtype} | {what} | {res['B'][0]['algorithm']} | {1000 * a:.0f} "
                    f"| {1000 * b:.0f} | {b / a:.3f} | {res['A'][0]['n_iter']}/{res['B'][0]['n_iter']} "
                    f"| {same} |",
                    flush=True,
                )
    for p in workers.values():
        p.stdin.close()
        p.wait()


if __name__ == "__main__":
    main()
