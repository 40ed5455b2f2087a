"""Lloyd's iteration, fused: assign every row to its nearest centre and accumulate the new sums.

Up to 4 features, distances are measured directly in float64, a chunk of rows at a time in a
loop vectorised over the rows. Above, they are compared as ``‖c‖² − 2 x·c`` (``‖x‖²`` is the same
for every centre), each chunk's products one BLAS matrix product into a per-block buffer (the
caller pins BLAS to one thread while this runs in parallel), near-ties re-measured directly.
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
def _best_two_4_lanes(offsets, row):
    """(index of the smallest ``offsets + row``, first on ties; the smallest; the second).

    Four independent lanes (j mod 4) merged at the end: four dependency chains instead of one.
    """
    k = row.shape[0]
    b0 = b1 = b2 = b3 = np.inf
    s0 = s1 = s2 = s3 = np.inf
    i0, i1, i2, i3 = 0, 1, 2, 3
    k4 = k - k % 4
    for j in range(0, k4, 4):
        v = offsets[j] + row[j]
        s0 = min(s0, max(b0, v))
        if v < b0:
            b0 = v
            i0 = j
        v = offsets[j + 1] + row[j + 1]
        s1 = min(s1, max(b1, v))
        if v < b1:
            b1 = v
            i1 = j + 1
        v = offsets[j + 2] + row[j + 2]
        s2 = min(s2, max(b2, v))
        if v < b2:
            b2 = v
            i2 = j + 2
        v = offsets[j + 3] + row[j + 3]
        s3 = min(s3, max(b3, v))
        if v < b3:
            b3 = v
            i3 = j + 3
    for j in range(k4, k):
        v = offsets[j] + row[j]
        s0 = min(s0, max(b0, v))
        if v < b0:
            b0 = v
            i0 = j
    best, best_val, second_val = i0, b0, s0
    for lane_best, lane_index, lane_second in ((b1, i1, s1), (b2, i2, s2), (b3, i3, s3)):
        if lane_best < best_val or (lane_best == best_val and lane_index < best):
            second_val = min(second_val, best_val)
            best_val = lane_best
            best = lane_index
        else:
            second_val = min(second_val, lane_best)
        second_val = min(second_val, lane_second)
    return best, best_val, second_val


@njit(nogil=True, cache=True, inline="always")
def _nearest(X, i, row, offsets, centers, centers_sq_max, tie_factor):
    """The nearest centre to row i from its scores ``offsets[j] + row[j]``; the first on ties.

    When the best two scores are closer than the rounding error of ``‖c‖² − 2 x·c`` could
    make them, the distances are recomputed directly in float64, so the answer is the exact
    argmin whatever the dtype (an expansion in float32 alone flips near-ties).
    """
    k = row.shape[0]
    if k >= 16:
        best, best_val, second_val = _best_two_4_lanes(offsets, row)
    else:
        best = 0
        best_val = offsets[0] + row[0]
        second_val = np.inf
        for j in range(1, k):
            v = offsets[j] + row[j]
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


#: Up to this many features the low-dimension kernel runs (features padded to 4 with zeros).
LOW_D_MAX = 4
#: Rows per chunk of the low-dimension kernel (4 columns of float64: 16 KiB in L1).
_LOW_D_CHUNK = 512


def lloyd_pass(X, sample_weight, centers, labels, block_sums, block_weights, use_blas, update,
               offset=None):
    """One Lloyd pass over X: the low-dimension kernel up to ``LOW_D_MAX`` features, else the
    dense one (BLAS when ``use_blas``). Same arguments and results as ``_lloyd_pass_dense``.

    ``offset`` (d,), when given, is subtracted from every row on the fly (in X's dtype, as
    ``X - offset`` would round), as if X had been centred: no centred copy of X is made.
    """
    if offset is None:
        offset = np.zeros(0, dtype=X.dtype)
    else:
        offset = np.ascontiguousarray(offset, dtype=X.dtype)
    if X.shape[1] <= LOW_D_MAX:
        _lloyd_pass_low_d(X, sample_weight, centers, labels, block_sums, block_weights, update,
                          offset)
    else:
        _lloyd_pass_dense(X, sample_weight, centers, labels, block_sums, block_weights, use_blas,
                          update, offset)


@njit(nogil=True, cache=True, parallel=True)
def _lloyd_pass_low_d(X, sample_weight, centers, labels, block_sums, block_weights, update,
                      offset):
    """One Lloyd pass for d <= 4, exact: distances measured directly in float64.

    Each chunk of rows is copied into four column buffers (features past d are zero, as are
    the centres' there, which adds exact zeros), then every centre is compared with every row
    of the chunk in a loop the compiler vectorises over rows; a strictly smaller distance
    replaces the best, so ties go to the lowest index, as in ``find_closest_centroids``.

    IN: X (n, d), sample_weight (n,), centers (k, d), update, offset (d,) or (0,): subtracted
    from every row when given. OUT: labels (n,); when ``update``, block_sums (B, k, d) and
    block_weights (B, k), float64.
    """
    n, d = X.shape
    k = centers.shape[0]
    n_blocks = block_sums.shape[0]
    off = np.zeros(4, dtype=X.dtype)
    if offset.shape[0] > 0:
        for f in range(d):
            off[f] = offset[f]
    c = np.zeros((k, 4))
    for j in range(k):
        for f in range(d):
            c[j, f] = centers[j, f]
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        if update:
            block_sums[b] = 0.0
            block_weights[b] = 0.0
        x0 = np.zeros(_LOW_D_CHUNK)
        x1 = np.zeros(_LOW_D_CHUNK)
        x2 = np.zeros(_LOW_D_CHUNK)
        x3 = np.zeros(_LOW_D_CHUNK)
        best_dist = np.empty(_LOW_D_CHUNK)
        best_j = np.empty(_LOW_D_CHUNK)  # float: one select type keeps the loop vectorised
        for c0 in range(start, stop, _LOW_D_CHUNK):
            m = min(stop, c0 + _LOW_D_CHUNK) - c0
            for i in range(m):  # X's dtype rounds the difference, as ``X - offset`` would
                x0[i] = X[c0 + i, 0] - off[0]
                if d > 1:
                    x1[i] = X[c0 + i, 1] - off[1]
                if d > 2:
                    x2[i] = X[c0 + i, 2] - off[2]
                if d > 3:
                    x3[i] = X[c0 + i, 3] - off[3]
            best_dist[:] = np.inf
            best_j[:] = 0.0
            for j in range(k):
                a0 = c[j, 0]
                a1 = c[j, 1]
                a2 = c[j, 2]
                a3 = c[j, 3]
                fj = float(j)
                for i in range(_LOW_D_CHUNK):
                    e0 = x0[i] - a0
                    e1 = x1[i] - a1
                    e2 = x2[i] - a2
                    e3 = x3[i] - a3
                    dist = e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3
                    better = dist < best_dist[i]
                    best_dist[i] = dist if better else best_dist[i]
                    best_j[i] = fj if better else best_j[i]
            for i in range(m):
                label = int(best_j[i])
                labels[c0 + i] = label
                if update:
                    w = sample_weight[c0 + i]
                    block_weights[b, label] += w
                    for f in range(d):
                        block_sums[b, label, f] += w * (X[c0 + i, f] - off[f])


@njit(nogil=True, cache=True, parallel=True)
def _lloyd_pass_dense(X, sample_weight, centers, labels, block_sums, block_weights, use_blas,
                      update, offset):
    """One Lloyd pass over X.

    IN: X (n, d), sample_weight (n,), centers (k, d), use_blas, update, offset (d,) or (0,):
    when given, each chunk is centred by it into a small buffer first.
    OUT: labels (n,); when ``update``, block_sums (B, k, d) and block_weights (B, k), float64:
    the weighted sums and weights of the rows of each block, per cluster.
    """
    n, d = X.shape
    k = centers.shape[0]
    n_blocks = block_sums.shape[0]
    centers_t = np.ascontiguousarray(centers.T)
    # −2·Cᵀ is exact (a power of two): one matrix product gives −2 x·c, and the argmin adds ‖c‖²
    # on the fly, with no second pass over the scores.
    centers_m2t = np.empty((d, k), dtype=X.dtype)
    for f in range(d):
        for j in range(k):
            centers_m2t[f, j] = -2.0 * centers_t[f, j]
    centers_sq = np.empty(k, dtype=X.dtype)
    no_offsets = np.zeros(k, dtype=X.dtype)
    centers_sq_max = 0.0
    for j in range(k):
        s = 0.0
        for f in range(d):
            s += centers[j, f] * centers[j, f]
        centers_sq[j] = s
        centers_sq_max = max(centers_sq_max, s)
    # A bound on the rounding error of two scores, relative to ‖x‖² + max ‖c‖².
    tie_factor = 4.0 * (d + 2) * np.finfo(X.dtype).eps
    centring = offset.shape[0] > 0
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        sums = block_sums[b]
        weights = block_weights[b]
        if update:
            sums[:] = 0.0
            weights[:] = 0.0
        scores = np.empty((CHUNK, k), dtype=X.dtype)  # once per block, reused by every chunk
        centred = np.empty((CHUNK if centring else 0, d), dtype=X.dtype)
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
            offsets = no_offsets
            if use_blas:
                offsets = centers_sq
                if m == CHUNK:
                    np.dot(xb, centers_m2t, scores)
                else:  # a block's last, shorter chunk (numba's ``out`` must be C-contiguous)
                    chunk_scores = np.dot(xb, centers_m2t)
            else:
                _scores_small_d(xb, 0, m, centers_t, centers_sq, scores)
            for r in range(m):
                label = _nearest(xb, r, chunk_scores[r], offsets, centers, centers_sq_max,
                                 tie_factor)
                labels[c0 + r] = label
                if update:
                    w = sample_weight[c0 + r]
                    weights[label] += w
                    for f in range(d):
                        sums[label, f] += w * xb[r, f]
