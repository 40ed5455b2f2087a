"""Lloyd's pass above 4 features: each chunk's scores ``‖c‖² − 2 x·c`` from one BLAS product.

The caller pins BLAS to one thread while this runs in parallel; near-ties are re-measured
directly in float64, so the labels are the exact argmin whatever the dtype.
"""

from __future__ import annotations

import numpy as np

from lloyd._kernels._numba import njit, prange
from lloyd._kernels.common import block_bounds, block_partials, rounding_tie, row_sq
from lloyd._kernels.distances import best_two_scores, nearest_exact, score_centers
from lloyd._kernels.layout import CHUNK


@njit(nogil=True, cache=True, parallel=True)
def lloyd_pass_dense(X, sample_weight, centers, labels, block_sums, block_weights, update,
                      offset):
    """One Lloyd pass over X.

    Each chunk's scores ``‖c‖² − 2 x·c`` (``‖x‖²`` is the same for every centre) come from one
    BLAS product, centres × chunkᵀ, so that the scores of one centre for the chunk's rows are
    contiguous: the running best and second-best scores are then kept for all rows at once, in
    a loop the compiler vectorises (a per-row argmin is a chain of dependent comparisons, and
    cost more than the product at k = 256). Where the best two are closer than the expansion's
    rounding could make them, the row is re-measured directly in float64, so the labels are the
    exact argmin (first centre on ties) whatever the dtype.

    IN: X (n, d), sample_weight (n,), centers (k, d), update, offset (d,) or (0,): when given,
    each chunk is centred by it into a small buffer first.
    OUT: labels (n,); when ``update``, block_sums (B, k, d) and block_weights (B, k), float64:
    the weighted sums and weights of the rows of each block, per cluster.
    Returns how many labels changed
    (IN labels: the last pass's).
    """
    n, d = X.shape
    k = centers.shape[0]
    n_blocks = block_sums.shape[0]
    centers_m2 = np.empty((k, d), dtype=X.dtype)
    centers_sq = np.empty(k, dtype=X.dtype)
    centers_sq_max = score_centers(centers, centers_m2, centers_sq)
    # A bound on the rounding error of two scores, relative to ‖x‖² + max ‖c‖².
    tie_factor = rounding_tie(X)
    centring = offset.shape[0] > 0
    changed = 0
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        sums, weights = block_partials(block_sums, block_weights, b, update)
        # once per block, reused by every chunk
        scores = np.empty((k, CHUNK), dtype=X.dtype)
        centred = np.empty((CHUNK if centring else 0, d), dtype=X.dtype)
        best = np.empty(CHUNK, dtype=X.dtype)
        second = np.empty(CHUNK, dtype=X.dtype)
        best_j = np.empty(CHUNK, dtype=X.dtype)  # one select type keeps the loop vectorised
        for c0 in range(start, stop, CHUNK):
            c1 = min(stop, c0 + CHUNK)
            m = c1 - c0
            if centring:
                for r in range(m):
                    for f in range(d):
                        centred[r, f] = X[c0 + r, f] - offset[f]
                xb = centred[:m]
            else:
                xb = X[c0:c1]
            chunk_scores = scores
            if m == CHUNK:
                np.dot(centers_m2, xb.T, scores)
            else:  # a block's last, shorter chunk (numba's ``out`` must be C-contiguous)
                chunk_scores = np.dot(centers_m2, xb.T)
            best_two_scores(chunk_scores, centers_sq, m, best, second, best_j)
            for r in range(m):
                label = int(best_j[r])
                if k > 1:
                    x_sq = row_sq(xb, r)
                    if second[r] - best[r] <= tie_factor * (x_sq + centers_sq_max):
                        label = nearest_exact(xb, r, centers)
                changed += labels[c0 + r] != label
                labels[c0 + r] = label
                if update:
                    w = sample_weight[c0 + r]
                    weights[label] += w
                    for f in range(d):
                        sums[label, f] += w * xb[r, f]
    return changed
