"""A faiss process for bench_engine.py: faiss's wheel bundles an older OpenBLAS that needs
OPENBLAS_CORETYPE set to run its fast kernel here, which must not leak into the main process.

Reads commands from stdin as JSON lines, answers one JSON line each on stdout. Optional keys:
``spherical`` (faiss's spherical k-means: centroids L2-normalised after each update) and
``centroids_out`` (a .npy path for the trained centroids).
"""

import json
import sys
import time

import numpy as np


def main():
    import faiss
    from threadpoolctl import threadpool_info

    print(json.dumps({"ready": True, "blas": [
        {k: m.get(k) for k in ("internal_api", "architecture", "version", "filepath")}
        for m in threadpool_info() if m["user_api"] == "blas"
    ]}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        X = np.load(cmd["X"], mmap_mode="r")
        X = np.ascontiguousarray(X, dtype=np.float32)
        init = np.load(cmd["init"]).astype(np.float32)
        faiss.omp_set_num_threads(cmd["threads"])
        n, d = X.shape
        k = init.shape[0]
        km = faiss.Kmeans(
            d, k, niter=cmd["niter"], verbose=False, seed=0,
            max_points_per_centroid=n // k + 1, min_points_per_centroid=1,
            spherical=cmd.get("spherical", False), update_index=True,
        )
        start = time.perf_counter()
        km.train(X, init_centroids=init)
        seconds = time.perf_counter() - start
        if "centroids_out" in cmd:
            np.save(cmd["centroids_out"], km.centroids)
        print(json.dumps({"seconds": seconds, "obj": float(km.obj[-1])}), flush=True)


if __name__ == "__main__":
    main()
