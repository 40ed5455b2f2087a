"""Lloyd's iteration, fused: assign every row to its nearest centre and accumulate the new sums.

Distances are compared as ``‖c‖² − 2 x·c`` (``‖x‖²`` is the same for every centre). At small d the
dot products are a loop vectorised over the centres; at larger d each chunk's products are one
BLAS matrix product (the caller pins BLAS to one thread while this runs in parallel).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lloyd._kernels.common import CHUNK, block_bounds


@njit(nogil=True, cache=True)
def _scores_small_d(X, start, stop, centers_t, centers_sq, scores):
    """OUT: scores[i - start, j] = ‖c_j‖² − 2 x_i·c_j for rows [start, stop)."""
    d, k = centers_t.shape
    for i in range(start, stop):
        row = scores[i - start]
        for j in range(k):
            row[j] = 0.0
        for f in range(d):
            x = X[i, f]
            for j in range(k):
                row[j] += x * centers_t[f, j]
        for j in range(k):
            row[j] = centers_sq[j] - 2.0 * row[j]


@njit(nogil=True, cache=True, inline="always")
def _nearest(X, i, row, centers, centers_sq_max, tie_factor):
    """The nearest centre to row i from its scores; the first one on ties.

    When the best two scores are closer than the rounding error of ``‖c‖² − 2 x·c`` could
    make them, the distances are recomputed directly in float64, so the answer is the exact
    argmin whatever the dtype (an expansion in float32 alone flips near-ties).
    """
    k = row.shape[0]
    best = 0
    best_val = row[0]
    second_val = np.inf
    for j in range(1, k):
        v = row[j]
        second_val = min(second_val, max(best_val, v))  # branch-free: no mispredictions
        if v < best_val:
            best_val = v
            best = j
    if k == 1:
        return best
    x_sq = 0.0
    for f in range(X.shape[1]):
        x_sq += float(X[i, f]) * float(X[i, f])
    if second_val - best_val > tie_factor * (x_sq + centers_sq_max):
        return best
    best = 0
    best_dist = np.inf
    for j in range(k):
        s = 0.0
        for f in range(X.shape[1]):
            diff = float(X[i, f]) - float(centers[j, f])
            s += diff * diff
        if s < best_dist:
            best_dist = s
            best = j
    return best


@njit(nogil=True, cache=True, parallel=True)
def lloyd_pass(X, sample_weight, centers, labels, block_sums, block_weights, use_blas, update):
    """One Lloyd pass over X.

    IN: X (n, d), sample_weight (n,), centers (k, d), use_blas, update.
    OUT: labels (n,); when ``update``, block_sums (B, k, d) and block_weights (B, k), float64:
    the weighted sums and weights of the rows of each block, per cluster.
    """
    n, d = X.shape
    k = centers.shape[0]
    n_blocks = block_sums.shape[0]
    centers_t = np.ascontiguousarray(centers.T)
    centers_sq = np.empty(k, dtype=X.dtype)
    centers_sq_max = 0.0
    for j in range(k):
        s = 0.0
        for f in range(d):
            s += centers[j, f] * centers[j, f]
        centers_sq[j] = s
        centers_sq_max = max(centers_sq_max, s)
    # A bound on the rounding error of two scores, relative to ‖x‖² + max ‖c‖².
    tie_factor = 4.0 * (d + 2) * np.finfo(X.dtype).eps
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        sums = block_sums[b]
        weights = block_weights[b]
        if update:
            sums[:] = 0.0
            weights[:] = 0.0
        scores = np.empty((CHUNK, k), dtype=X.dtype)
        for c0 in range(start, stop, CHUNK):
            c1 = min(stop, c0 + CHUNK)
            if use_blas:
                products = np.dot(X[c0:c1], centers_t)
                for i in range(c1 - c0):
                    for j in range(k):
                        scores[i, j] = centers_sq[j] - 2.0 * products[i, j]
            else:
                _scores_small_d(X, c0, c1, centers_t, centers_sq, scores)
            for i in range(c0, c1):
                label = _nearest(X, i, scores[i - c0], centers, centers_sq_max, tie_factor)
                labels[i] = label
                if update:
                    w = sample_weight[i]
                    weights[label] += w
                    for f in range(d):
                        sums[label, f] += w * X[i, f]
