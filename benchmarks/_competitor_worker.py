"""oneDAL (scikit-learn-intelex) and mlpack in a process of their own, for bench_engine.py.

Both bring their own thread pools (oneDAL's TBB workers, mlpack's OpenMP), which must neither
run in lloyd's process nor keep spinning there between its timings. Reads commands from stdin
as JSON lines, answers one JSON line each on stdout:

{"lib": "onedal" | "mlpack", "mode": "iterations" | "full", "X": path, "init": path (iterations),
 "threads": n, "niter": n (iterations), "seed": n (full), "out": path for the centres}
-> {"seconds": s, "algorithm": name}

``iterations``: ``niter`` Lloyd iterations from the given centres (tol 0). ``full``: each
library's default fit with k-means++ seeding and ``seed``. mlpack's "best algorithm" is chosen
per data set by timing each of its exact algorithms once (``probe``) and keeping the fastest.
"""

import json
import sys
import time

import numpy as np

#: mlpack's exact Lloyd-step algorithms; the tree-based ones only pay at low dimension.
MLPACK_ALGORITHMS = ("naive", "elkan", "hamerly", "dualtree", "pelleg-moore")


def onedal(cmd, X):
    import daal4py
    from sklearnex.cluster import KMeans

    daal4py.daalinit(cmd["threads"])
    if cmd["mode"] == "iterations":
        init = np.load(cmd["init"]).astype(X.dtype)
        km = KMeans(init.shape[0], init=init, n_init=1, max_iter=cmd["niter"], tol=0.0)
    else:
        km = KMeans(cmd["k"], random_state=cmd["seed"])
    start = time.perf_counter()
    km.fit(X)
    seconds = time.perf_counter() - start
    return seconds, np.array(km.cluster_centers_), "default", int(km.n_iter_)


def mlpack_fit(X, k, algorithm, init=None, niter=None):
    import mlpack

    kwargs = {"input_": X, "clusters": k, "algorithm": algorithm}
    if init is not None:
        kwargs.update(initial_centroids=init, max_iterations=niter)
    else:
        kwargs.update(kmeans_plus_plus=True)
    start = time.perf_counter()
    out = mlpack.kmeans(**kwargs)
    seconds = time.perf_counter() - start
    # The binding hands back a view of a buffer it frees: copy at once.
    return seconds, np.array(out["centroid"], dtype=np.float64, copy=True)


_best = {}


def mlpack_run(cmd, X):
    from threadpoolctl import threadpool_limits

    X = np.ascontiguousarray(X, dtype=np.float64)  # mlpack computes in float64 only
    init = None
    if cmd["mode"] == "iterations":
        init = np.load(cmd["init"]).astype(np.float64)
    k = init.shape[0] if init is not None else cmd["k"]
    key = (cmd["X"], cmd["mode"], cmd["threads"])
    with threadpool_limits(cmd["threads"]):
        if key not in _best:
            probe = {}
            for algorithm in MLPACK_ALGORITHMS:
                if algorithm in ("dualtree", "pelleg-moore") and X.shape[1] > 16:
                    continue  # trees do not prune above a few dimensions: minutes, no gain
                probe[algorithm] = mlpack_fit(X, k, algorithm, init, cmd.get("niter"))[0]
            _best[key] = min(probe, key=probe.get)
        seconds, centers = mlpack_fit(X, k, _best[key], init, cmd.get("niter"))
    return seconds, centers, _best[key], None


def main():
    from threadpoolctl import threadpool_info

    print(json.dumps({"ready": True, "pools": [
        {k: m.get(k) for k in ("user_api", "internal_api", "version")} for m in threadpool_info()
    ]}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        X = np.load(cmd["X"])
        run = onedal if cmd["lib"] == "onedal" else mlpack_run
        seconds, centers, algorithm, n_iter = run(cmd, X)
        np.save(cmd["out"], centers)
        print(json.dumps({"seconds": seconds, "algorithm": algorithm, "n_iter": n_iter}),
              flush=True)


if __name__ == "__main__":
    main()
