"""Hamerly's exact algorithm: one upper and one lower bound per row skip most distance work.

Each row keeps an upper bound on the distance to its centre and a lower bound on the distance to
every other centre (O(n) memory); ``half_min[a]`` is half the distance from centre a to the
nearest other centre. Where the bounds prove the label cannot change, the row costs a few
comparisons and its share of the sums: this wins at low dimension (colours, coordinates).

Distances are computed directly in float64, as the exact argmin (the first centre on ties), so
the labels are Lloyd's. Every bound update is loosened by ``margin``, an absolute bound on the
rounding of the distances and shifts, so rounding can never make a bound wrong.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lloyd._kernels.common import block_bounds


@njit(nogil=True, cache=True)
def half_min_distances(centers, half_min):
    """OUT: half_min (k,) float64 = half the distance from each centre to the nearest other one
    (∞ when k = 1)."""
    k, d = centers.shape
    half_min[:] = np.inf
    for a in range(k):
        for b in range(a + 1, k):
            s = 0.0
            for f in range(d):
                diff = float(centers[a, f]) - float(centers[b, f])
                s += diff * diff
            h = 0.5 * np.sqrt(s)
            if h < half_min[a]:
                half_min[a] = h
            if h < half_min[b]:
                half_min[b] = h


@njit(nogil=True, cache=True)
def center_moves(centers_old, centers_new, shift):
    """OUT: shift (k,) float64 = ‖c_new − c_old‖, computed in float64 whatever the dtype."""
    k, d = centers_old.shape
    for j in range(k):
        s = 0.0
        for f in range(d):
            diff = float(centers_new[j, f]) - float(centers_old[j, f])
            s += diff * diff
        shift[j] = np.sqrt(s)


@njit(nogil=True, cache=True, parallel=True)
def hamerly_pass(X, sample_weight, centers, half_min, shift, labels, upper, lower, margin,
                 block_sums, block_weights, update):
    """One Hamerly pass: exact labels for ``centers`` and (when ``update``) the block sums.

    IN: X (n, d), sample_weight (n,), centers (k, d), half_min (k,) for ``centers``, shift (k,):
    how far each centre moved since the bounds were last valid (zeros when they are valid),
    margin: the absolute slack added to every bound update.
    IN/OUT: labels (n,), upper (n,), lower (n,) float64 (upper = ∞ means "unknown": the row is
    measured against every centre). OUT: block_sums (B, k, d), block_weights (B, k), float64,
    when ``update``.
    """
    n, d = X.shape
    k = centers.shape[0]
    n_blocks = block_sums.shape[0]
    # The largest and second-largest shifts: a row's lower bound loosens by the largest shift
    # of a centre other than its own.
    max1 = 0.0
    max2 = 0.0
    arg1 = -1
    for j in range(k):
        s = shift[j]
        if s > max1:
            max2 = max1
            max1 = s
            arg1 = j
        elif s > max2:
            max2 = s
    centers_t = np.empty((d, k))
    for j in range(k):
        for f in range(d):
            centers_t[f, j] = centers[j, f]
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        sums = block_sums[b]
        weights = block_weights[b]
        if update:
            sums[:] = 0.0
            weights[:] = 0.0
        dist_sq = np.empty(k)
        for i in range(start, stop):
            label = labels[i]
            ub = upper[i] + shift[label] + margin
            lb = lower[i] - (max2 if label == arg1 else max1) - margin
            bound = max(half_min[label], lb)
            if ub + margin >= bound:
                s = 0.0
                for f in range(d):
                    diff = float(X[i, f]) - centers_t[f, label]
                    s += diff * diff
                ub = np.sqrt(s)
                if ub + margin >= bound:
                    for j in range(k):
                        dist_sq[j] = 0.0
                    for f in range(d):
                        x = float(X[i, f])
                        for j in range(k):
                            diff = x - centers_t[f, j]
                            dist_sq[j] += diff * diff
                    best = 0
                    best_sq = dist_sq[0]
                    second_sq = np.inf
                    for j in range(1, k):
                        v = dist_sq[j]
                        second_sq = min(second_sq, max(best_sq, v))  # branch-free
                        if v < best_sq:
                            best_sq = v
                            best = j
                    label = best
                    ub = np.sqrt(best_sq)
                    lb = np.sqrt(second_sq)
                    labels[i] = label
            upper[i] = ub
            lower[i] = lb
            if update:
                w = sample_weight[i]
                weights[label] += w
                for f in range(d):
                    sums[label, f] += w * X[i, f]
