"""Distance primitives the numba kernels share: one home each (the ahead-of-time kernels have
their own twins of ``nearest_exact`` in C until every kernel is ported).
"""

from __future__ import annotations

import numpy as np

from lloyd._kernels._numba import njit
from lloyd._kernels.common import sqdist_feature_order


@njit(nogil=True, cache=True, inline="always")
def nearest_exact(X, i, centers):
    """The nearest centre to row i, distances measured directly in float64 and summed in
    feature order (as every kernel measures a near-tie); the first centre on ties."""
    best = 0
    best_dist = np.inf
    for j in range(centers.shape[0]):
        s = sqdist_feature_order(X, i, centers, j)
        if s < best_dist:
            best_dist = s
            best = j
    return best


@njit(nogil=True, cache=True)
def score_centers(centers, centers_m2, centers_sq):
    """OUT: centers_m2 = −2·centers (exact: a power of two, so one matrix product gives −2 x·c)
    and centers_sq = ‖c‖², in the centres' dtype; returns max ‖c‖² (for the rounding bound)."""
    k, d = centers.shape
    centers_sq_max = 0.0
    for j in range(k):
        s = 0.0
        for f in range(d):
            centers_m2[j, f] = -2.0 * centers[j, f]
            s += centers[j, f] * centers[j, f]
        centers_sq[j] = s
        centers_sq_max = max(centers_sq_max, s)
    return centers_sq_max


@njit(nogil=True, cache=True, inline="always")
def best_two_scores(chunk_scores, centers_sq, m, best, second, best_j):
    """OUT: for the first m rows of a chunk whose products with every centre are
    ``chunk_scores`` (k, ≥ m), the best and second-best scores ‖c‖² − 2 x·c and the best
    centre (as a float: one select type keeps the loop vectorised; the first on ties). One
    centre at a time over all rows, vectorised: a per-row argmin is a chain of dependent
    comparisons."""
    best[:] = np.inf
    second[:] = np.inf
    best_j[:] = 0.0
    for j in range(centers_sq.shape[0]):
        cj = centers_sq[j]
        fj = best_j.dtype.type(j)
        row = chunk_scores[j]
        for r in range(m):
            v = cj + row[r]
            second[r] = min(second[r], max(best[r], v))  # branch-free
            better = v < best[r]
            best[r] = v if better else best[r]
            best_j[r] = fj if better else best_j[r]
