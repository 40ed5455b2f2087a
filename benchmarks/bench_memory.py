"""Peak memory of KMeans.fit over what the process held just before it (X already loaded).

Run: ``python benchmarks/bench_memory.py`` (n = 5·10⁶, d = 3, k = 256, float32; X is 60 MB).
Each measurement runs in a fresh process, so ``ru_maxrss`` (the peak since the process started)
minus the resident size just before ``fit`` is the fit's own peak.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys
import numpy as np

def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

n, d, k, dtype, algorithm, max_iter = json.loads(sys.argv[1])
import lloyd
from lloyd import KMeans
# compile (or load the cache) on a small problem first, so compilation is not counted
KMeans(4, n_init=1, max_iter=2, algorithm=algorithm, random_state=0).fit(
    np.random.default_rng(1).normal(size=(2000, d)).astype(dtype))
rng = np.random.default_rng(0)
X = np.empty((n, d), dtype=dtype)
for start in range(0, n, 250_000):
    stop = min(n, start + 250_000)
    X[start:stop] = rng.normal(size=(stop - start, d))
init = X[:k].copy()
before = rss_kib()
peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
km = KMeans(k, init=init, n_init=1, max_iter=max_iter, tol=0, algorithm=algorithm).fit(X)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"x_mb": X.nbytes / 2**20, "rss_before_mb": before / 1024,
                  "peak_before_mb": peak_before / 1024, "peak_mb": peak / 1024,
                  "added_mb": (peak - max(before, 0)) / 1024, "n_iter": km.n_iter_}))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5_000_000)
    parser.add_argument("--d", type=int, default=3)
    parser.add_argument("--k", type=int, default=256)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--algorithms", default="lloyd")
    parser.add_argument("--max-iter", type=int, default=5)
    args = parser.parse_args(argv)
    print("| algorithm | n | d | k | dtype | X MB | RSS before fit MB | peak during fit MB "
          "| added by fit MB | labels + copy of X MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for algorithm in args.algorithms.split(","):
        spec = json.dumps([args.n, args.d, args.k, args.dtype, algorithm, args.max_iter])
        out = subprocess.run([sys.executable, "-c", CHILD, spec], capture_output=True,
                             text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        expected = r["x_mb"] + args.n * 4 / 2**20  # copy_x=True centres a copy; int32 labels
        print(f"| {algorithm} | {args.n:,} | {args.d} | {args.k} | {args.dtype} "
              f"| {r['x_mb']:.0f} | {r['rss_before_mb']:.0f} | {r['peak_mb']:.0f} "
              f"| {r['added_mb']:.0f} | {expected:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
