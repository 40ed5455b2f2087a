"""k-means++ seeding kernels of two source trees, side by side: e.g. the ahead-of-time kernels
against the numba ones they replaced.

Two worker processes, one per tree (``src`` folders), run the same cases interleaved (the order
alternates each repeat): kernel by kernel (``init_closest``, ``plusplus_steps``,
``product_add_center``) and the whole ``lloyd.kmeans_plusplus``, on bench_engine's cells and on
a palette (the distinct colours of the sample photograph at 768×512, weighted by pixel counts),
on 1 and 2 threads (OpenMP's limit and numba's). Prints medians of wall and CPU time, their
ratios, and whether both trees chose the same rows. Build both trees' kernels first.

    git worktree add /tmp/base REV && (cd /tmp/base && python setup.py build_ext --inplace)
    python benchmarks/bench_seeding_kernels.py src /tmp/base/src [--repeats 7]
        [--cases "data == 'palette'"]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

WORKER = r'''
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
import lloyd
from lloyd._kernels import seeding as K
from lloyd._kernels import common
from threadpoolctl import threadpool_limits
import numba
AOT = hasattr(K, "plusplus")  # the tree's kernels take n_threads
data = {}

def make(case):
    key = case["data"]
    if key in data:
        return data[key]
    kind = key.split(":")[0]
    if kind == "cell":
        from bench_engine import make_data
        n, d, k = map(int, key.split(":")[1:4])
        X, _ = make_data(n, d, k, np.float64)
        w = np.ones(n)
    else:  # palette: distinct colours of the sample photo at 768x512, weighted by pixel counts
        from PIL import Image
        from lloyd.datasets import sample_image_path
        with Image.open(sample_image_path()) as im:
            px = np.asarray(im.convert("RGB").resize((768, 512), Image.BICUBIC))
        colors, counts = np.unique(px.reshape(-1, 3), axis=0, return_counts=True)
        X = np.ascontiguousarray(colors, dtype=np.float64)
        w = counts.astype(np.float64)
    data[key] = (X, w)
    return X, w

def run(case):
    X, w = make(case)
    t = case["threads"]
    numba.set_num_threads(t)
    n, d = X.shape
    k = case["k"]
    kw = {"n_threads": t} if AOT else {}
    with threadpool_limits(t, user_api="openmp"):
        if case["what"] == "kmeans_plusplus":
            t0, c0 = time.perf_counter(), time.process_time()
            _, idx = lloyd.kmeans_plusplus(X, k, sample_weight=w, random_state=0)
            return time.perf_counter() - t0, idx.tolist()[:8], time.process_time() - c0
        n_local = 2 + int(np.log(k))
        n_blocks = min(common.n_blocks(n, n_local, 1), max(1, n // 2048))
        closest, pot = np.empty(n), np.empty(n_blocks)
        if case["what"] == "init_closest":
            t0, c0 = time.perf_counter(), time.process_time()
            K.init_closest(X, w, 0, closest, pot, **kw)
            return time.perf_counter() - t0, float(pot.sum()), time.process_time() - c0
        if case["what"] == "plusplus_steps":
            K.init_closest(X, w, 0, closest, pot)
            uniforms = np.random.RandomState(0).uniform(size=(k - 1, n_local))
            idx = np.zeros(k, np.intp)
            t0, c0 = time.perf_counter(), time.process_time()
            K.plusplus_steps(X, w, closest, pot, uniforms, d <= 4, idx, np.empty(n_local, np.intp),
                             np.empty((n_blocks, n_local)), np.empty(n_local), **kw)
            return time.perf_counter() - t0, idx.tolist()[-4:], time.process_time() - c0
        if case["what"] == "product_add_center":
            K.init_closest(X, w, 0, closest, pot)
            x_sq = (X * X).sum(1)
            products = np.ascontiguousarray(X @ X[:n_local].T)
            nearest = np.zeros(n, np.int32)
            t0, c0 = time.perf_counter(), time.process_time()
            K.product_add_center(products, 1, 1, x_sq, x_sq[:n_local], w, closest, nearest, True,
                                 pot, **kw)
            return time.perf_counter() - t0, float(pot.sum()), time.process_time() - c0
    raise ValueError(case)

for line in sys.stdin:
    case = json.loads(line)
    dt, check, cpu = run(case)
    print(json.dumps([dt, check, cpu]), flush=True)
'''

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("new", help="the src folder of the tree under test (its kernels: 'aot')")
    p.add_argument("base", help="the src folder of the reference tree ('numba')")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--cases", default="all",
                   help="a Python condition on data, k, what, threads; default all")
    a = p.parse_args()
    cells = ["cell:1000000:3:16", "cell:1000000:3:256", "cell:200000:32:64",
             "cell:100000:128:256", "cell:60000:784:10"]
    cases = []
    for t in (1, 2):
        for c in cells:
            d, k = (int(v) for v in c.split(":")[2:4])
            cases.append({"data": c, "k": k, "what": "init_closest", "threads": t})
            if d <= 16:
                cases.append({"data": c, "k": k, "what": "plusplus_steps", "threads": t})
            else:
                cases.append({"data": c, "k": k, "what": "product_add_center", "threads": t})
            cases.append({"data": c, "k": k, "what": "kmeans_plusplus", "threads": t})
        for k in (16, 64, 256):
            cases.append({"data": "palette", "k": k, "what": "plusplus_steps", "threads": t})
            cases.append({"data": "palette", "k": k, "what": "kmeans_plusplus", "threads": t})
    if a.cases != "all":
        cases = [c for c in cases if eval(a.cases, {}, dict(c))]  # the user's own condition
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    here = str(Path(__file__).resolve().parent)
    workers = {name: subprocess.Popen([sys.executable, "-c", WORKER, os.path.abspath(src), here],
                                      stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, env=env)
               for name, src in (("aot", a.new), ("numba", a.base))}
    def ask(name, case):
        w = workers[name]
        w.stdin.write(json.dumps(case) + "\n")
        w.stdin.flush()
        return json.loads(w.stdout.readline())
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print("| case | threads | numba ms | aot ms | wall numba/aot (>1: aot faster) | "
          "CPU numba/aot | same |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for case in cases:
        for name in workers:  # warm up: numba cache load, data
            ask(name, case)
        times = {n: [] for n in workers}
        cpus = {n: [] for n in workers}
        same = True
        for r in range(a.repeats):
            order = list(workers) if r % 2 == 0 else list(workers)[::-1]
            res = {}
            for name in order:
                dt, check, cpu = ask(name, case)
                times[name].append(dt)
                cpus[name].append(cpu)
                res[name] = check
            same &= res["aot"] == res["numba"]
        med = {n: statistics.median(v) * 1e3 for n, v in times.items()}
        cmed = {n: statistics.median(v) for n, v in cpus.items()}
        label = f'{case["what"]} {case["data"]} k={case["k"]}'
        print(f'| {label} | {case["threads"]} | {med["numba"]:.2f} | {med["aot"]:.2f} | '
              f'{med["numba"] / med["aot"]:.2f} | {cmed["numba"] / cmed["aot"]:.2f} | {same} |',
              flush=True)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
