"""Lloyd's iteration, fused: assign every row to its nearest centre and accumulate the new sums.

Up to 4 features, distances are measured directly in float64, a chunk of rows at a time in a
loop vectorised over the rows. Above, they are compared as ``‖c‖² − 2 x·c`` (``‖x‖²`` is the same
for every centre), each chunk's products one BLAS matrix product into a per-block buffer (the
caller pins BLAS to one thread while this runs in parallel), near-ties re-measured directly.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lloyd._kernels.common import (
    CHUNK,
    block_bounds,
    load_columns,
    rounding_tie,
    row_sq,
    sqdist_feature_order,
)


@njit(nogil=True, cache=True, inline="always")
def _nearest_exact(X, i, centers):
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


#: Up to this many features the low-dimension kernel runs (features padded to 4 with zeros).
LOW_D_MAX = 4
#: Rows per chunk of the low-dimension kernel (4 columns of float64: 16 KiB in L1).
_LOW_D_CHUNK = 512


def lloyd_pass(X, sample_weight, centers, labels, block_sums, block_weights, update,
               offset=None):
    """One Lloyd pass over X: the low-dimension kernel up to ``LOW_D_MAX`` features, else the
    dense one on BLAS. Same arguments and results as ``_lloyd_pass_dense``.

    ``offset`` (d,), when given, is subtracted from every row on the fly (in X's dtype, as
    ``X - offset`` would round), as if X had been centred: no centred copy of X is made.
    """
    if offset is None:
        offset = np.zeros(0, dtype=X.dtype)
    else:
        offset = np.ascontiguousarray(offset, dtype=X.dtype)
    if X.shape[1] <= LOW_D_MAX and X.dtype == np.float32 and offset.shape[0] == 0:
        changed = _lloyd_pass_low_d32(X, sample_weight, centers, labels, block_sums,
                                      block_weights, update)
    elif X.shape[1] <= LOW_D_MAX:
        changed = _lloyd_pass_low_d(X, sample_weight, centers, labels, block_sums, block_weights,
                                    update, offset)
    else:
        changed = _lloyd_pass_dense(X, sample_weight, centers, labels, block_sums, block_weights,
                                    update, offset)
    return int(changed)


@njit(nogil=True, cache=True, parallel=True)
def _lloyd_pass_low_d(X, sample_weight, centers, labels, block_sums, block_weights, update,
                      offset):
    """One Lloyd pass for d <= 4, exact: distances measured directly in float64.

    Each chunk of rows is copied into four column buffers (features past d are zero, as are
    the centres' there, which adds exact zeros), then the centres, four at a time, are compared
    with every row of the chunk in a loop the compiler vectorises over rows (four distances for
    each load and store of a row's best: at (10⁶, 3, 16) 25% faster than one at a time); a
    strictly smaller distance replaces the best, so ties go to the lowest index, as in
    ``find_closest_centroids``.

    IN: X (n, d), sample_weight (n,), centers (k, d), update, offset (d,) or (0,): subtracted
    from every row when given. OUT: labels (n,); when ``update``, block_sums (B, k, d) and
    block_weights (B, k), float64. Returns how many labels changed (IN labels: the last pass's).
    """
    n, d = X.shape
    n_blocks = block_sums.shape[0]
    off = np.zeros(4, dtype=X.dtype)
    if offset.shape[0] > 0:
        for f in range(d):
            off[f] = offset[f]
    c = _padded_centers(centers, np.float64)
    changed = 0
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        if update:
            block_sums[b] = 0.0
            block_weights[b] = 0.0
        x0 = np.zeros(_LOW_D_CHUNK)
        x1 = np.zeros(_LOW_D_CHUNK)
        x2 = np.zeros(_LOW_D_CHUNK)
        x3 = np.zeros(_LOW_D_CHUNK)
        best = np.empty(_LOW_D_CHUNK)
        best_j = np.empty(_LOW_D_CHUNK)  # float: one select type keeps the loop vectorised
        for c0 in range(start, stop, _LOW_D_CHUNK):
            m = min(stop, c0 + _LOW_D_CHUNK) - c0
            load_columns(X, c0, m, off, x0, x1, x2, x3)
            best[:] = np.inf
            best_j[:] = 0.0
            if d <= 3:  # the fourth, zero term adds nothing: the same sums without it
                for j in range(0, c.shape[0], 4):
                    _sweep4(c, j, 3, x0, x1, x2, x3, best, best, best_j, False)
            else:
                for j in range(0, c.shape[0], 4):
                    _sweep4(c, j, 4, x0, x1, x2, x3, best, best, best_j, False)
            changed += _store_chunk(X, sample_weight, c0, m, off, best_j, labels,
                                    block_sums[b], block_weights[b], update)
    return changed


@njit(nogil=True, cache=True)
def _padded_centers(centers, dtype):
    """The centres in ``dtype``, features padded to 4 with zeros and rows to a multiple of 4
    with centres at +∞ (never nearer than anything), for the kernels that take 4 at a time."""
    k, d = centers.shape
    c = np.zeros(((k + 3) // 4 * 4, 4), dtype=dtype)
    for j in range(k):
        for f in range(d):
            c[j, f] = centers[j, f]
    for j in range(k, c.shape[0]):
        c[j, 0] = np.inf
    return c


@njit(nogil=True, cache=True, inline="always")
def _take(t, new, old):
    """``new`` where t, else ``old``: a select, so that the loops around it vectorise."""
    return new if t else old


@njit(nogil=True, cache=True, inline="always")
def _sweep4(c, j, n_terms, x0, x1, x2, x3, best, second, best_j, keep_second):
    """IN/OUT best, best_j (and second when ``keep_second``): centres j .. j+3 against every
    row of the chunk, four distances a row for each load and store of its best, taken in
    centre order (the first on ties). Distances are sums of ``n_terms`` (3 or 4) squares in
    the buffers' dtype; the caller calls it with literal ``n_terms`` and ``keep_second``, so
    each call site compiles to one branch-free loop."""
    a0, a1, a2, a3 = c[j, 0], c[j, 1], c[j, 2], c[j, 3]
    b0, b1, b2, b3 = c[j + 1, 0], c[j + 1, 1], c[j + 1, 2], c[j + 1, 3]
    g0, g1, g2, g3 = c[j + 2, 0], c[j + 2, 1], c[j + 2, 2], c[j + 2, 3]
    h0, h1, h2, h3 = c[j + 3, 0], c[j + 3, 1], c[j + 3, 2], c[j + 3, 3]
    fa = best_j.dtype.type(j)
    fb = best_j.dtype.type(j + 1)
    fg = best_j.dtype.type(j + 2)
    fh = best_j.dtype.type(j + 3)
    for i in range(best.shape[0]):
        u0, u1, u2, u3 = x0[i], x1[i], x2[i], x3[i]
        da = (u0 - a0) * (u0 - a0) + (u1 - a1) * (u1 - a1) + (u2 - a2) * (u2 - a2)
        db = (u0 - b0) * (u0 - b0) + (u1 - b1) * (u1 - b1) + (u2 - b2) * (u2 - b2)
        dg = (u0 - g0) * (u0 - g0) + (u1 - g1) * (u1 - g1) + (u2 - g2) * (u2 - g2)
        dh = (u0 - h0) * (u0 - h0) + (u1 - h1) * (u1 - h1) + (u2 - h2) * (u2 - h2)
        if n_terms == 4:
            da += (u3 - a3) * (u3 - a3)
            db += (u3 - b3) * (u3 - b3)
            dg += (u3 - g3) * (u3 - g3)
            dh += (u3 - h3) * (u3 - h3)
        v = best[i]
        vj = best_j[i]
        if keep_second:
            s = second[i]
            s = min(s, max(v, da))
            v, vj = _take(da < v, da, v), _take(da < v, fa, vj)
            s = min(s, max(v, db))
            v, vj = _take(db < v, db, v), _take(db < v, fb, vj)
            s = min(s, max(v, dg))
            v, vj = _take(dg < v, dg, v), _take(dg < v, fg, vj)
            s = min(s, max(v, dh))
            v, vj = _take(dh < v, dh, v), _take(dh < v, fh, vj)
            second[i] = s
        else:
            t = da < v
            vj = _take(t, fa, vj)
            v = _take(t, da, v)
            t = db < v
            vj = _take(t, fb, vj)
            v = _take(t, db, v)
            t = dg < v
            vj = _take(t, fg, vj)
            v = _take(t, dg, v)
            t = dh < v
            vj = _take(t, fh, vj)
            v = _take(t, dh, v)
        best[i] = v
        best_j[i] = vj


@njit(nogil=True, cache=True, inline="always")
def _store_chunk(X, sample_weight, c0, m, off, best_j, labels, sums, weights, update):
    """OUT labels[c0 : c0 + m] from the chunk's best centres; when ``update``, IN/OUT sums
    (k, d) and weights (k,) += each row's share (w · (x − off), in X's dtype, row by row).
    Returns how many of the rows changed label."""
    d = X.shape[1]
    changed = 0
    if not update:
        for i in range(m):
            label = int(best_j[i])
            changed += labels[c0 + i] != label
            labels[c0 + i] = label
    elif d == 3:  # unrolled: the feature loop costs more than its three additions
        for i in range(m):
            label = int(best_j[i])
            changed += labels[c0 + i] != label
            labels[c0 + i] = label
            w = sample_weight[c0 + i]
            weights[label] += w
            sums[label, 0] += w * (X[c0 + i, 0] - off[0])
            sums[label, 1] += w * (X[c0 + i, 1] - off[1])
            sums[label, 2] += w * (X[c0 + i, 2] - off[2])
    else:
        for i in range(m):
            label = int(best_j[i])
            changed += labels[c0 + i] != label
            labels[c0 + i] = label
            w = sample_weight[c0 + i]
            weights[label] += w
            for f in range(d):
                sums[label, f] += w * (X[c0 + i, f] - off[f])
    return changed


@njit(nogil=True, cache=True, parallel=True)
def _lloyd_pass_dense(X, sample_weight, centers, labels, block_sums, block_weights, update,
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
        sums = block_sums[b]
        weights = block_weights[b]
        if update:
            sums[:] = 0.0
            weights[:] = 0.0
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
                        label = _nearest_exact(xb, r, centers)
                changed += labels[c0 + r] != label
                labels[c0 + r] = label
                if update:
                    w = sample_weight[c0 + r]
                    weights[label] += w
                    for f in range(d):
                        sums[label, f] += w * xb[r, f]
    return changed


#: A float32 distance (sum of up to 4 squares of rounded differences) is within this many
#: float32 epsilons of the exact one, relative to it (one rounding a subtraction, a square and
#: an addition each, with room to spare).
_F32_DIST_EPS = 16.0 * float(np.finfo(np.float32).eps)


@njit(nogil=True, cache=True, parallel=True)
def _lloyd_pass_low_d32(X, sample_weight, centers, labels, block_sums, block_weights, update):
    """``_lloyd_pass_low_d`` for float32 data: distances in float32, twice the lanes a vector.

    The best and second-best distances of every row are kept; where they are closer than
    float32 rounding could make them, the row is re-measured in float64 over every centre
    (``_nearest_exact``), so the labels are those of the float64 kernel, ties included.
    Same arguments as ``_lloyd_pass_low_d`` without ``offset``.
    """
    n, d = X.shape
    k = centers.shape[0]
    n_blocks = block_sums.shape[0]
    c = _padded_centers(centers, np.float32)
    inf32 = np.float32(np.inf)
    no_offset = np.zeros(4, dtype=np.float32)  # subtracting exact zeros: the rows as they are
    changed = 0
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        if update:
            block_sums[b] = 0.0
            block_weights[b] = 0.0
        x0 = np.zeros(_LOW_D_CHUNK, dtype=np.float32)
        x1 = np.zeros(_LOW_D_CHUNK, dtype=np.float32)
        x2 = np.zeros(_LOW_D_CHUNK, dtype=np.float32)
        x3 = np.zeros(_LOW_D_CHUNK, dtype=np.float32)
        best = np.empty(_LOW_D_CHUNK, dtype=np.float32)
        second = np.empty(_LOW_D_CHUNK, dtype=np.float32)
        best_j = np.empty(_LOW_D_CHUNK, dtype=np.float32)  # exact up to 2**24 centres
        for c0 in range(start, stop, _LOW_D_CHUNK):
            m = min(stop, c0 + _LOW_D_CHUNK) - c0
            load_columns(X, c0, m, no_offset, x0, x1, x2, x3)
            best[:] = inf32
            second[:] = inf32
            best_j[:] = 0.0
            if d <= 3:
                for j in range(0, c.shape[0], 4):
                    _sweep4(c, j, 3, x0, x1, x2, x3, best, second, best_j, True)
            else:
                for j in range(0, c.shape[0], 4):
                    _sweep4(c, j, 4, x0, x1, x2, x3, best, second, best_j, True)
            for i in range(m):
                if k > 1 and second[i] - best[i] <= _F32_DIST_EPS * second[i]:
                    best_j[i] = _nearest_exact(X, c0 + i, centers)
            changed += _store_chunk(X, sample_weight, c0, m, no_offset, best_j, labels,
                                    block_sums[b], block_weights[b], update)
    return changed
