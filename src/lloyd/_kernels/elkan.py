"""Elkan's exact algorithm: triangle-inequality bounds skip most distance computations.

Each row keeps an upper bound on the distance to its centre and a lower bound to every centre
(n × k memory), and ``half_dist[a, b] = ‖c_a − c_b‖ / 2`` prunes centres that cannot be closer.
"""

from __future__ import annotations

import numpy as np

from lloyd._kernels._numba import njit, prange
from lloyd._kernels.common import (
    add_share,
    block_bounds,
    block_partials,
    block_partials_counted,
    load_row,
    move_share,
    offset_or_zeros,
    rounding_tie,
    sqdist_feature_order,
)
from lloyd._kernels.layout import CHANGES, FULL, LABELS_ONLY


@njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _sqdist_fast(X, i, centers, j):
    """Squared distance in X's dtype, summed in whatever order vectorises (a single chain of
    additions waits 4 cycles a feature at d = 784). For float32 data its error is float32's
    (within the bounds' margin, which is float32's then too, and within
    ``common.rounding_tie(X)``, beyond which a near-tie is settled with
    ``sqdist_feature_order``)."""
    s = X.dtype.type(0)
    for f in range(X.shape[1]):
        a = X[i, f] - centers[j, f]
        s += a * a
    return np.float64(s)


@njit(nogil=True, cache=True, inline="always")
def _closer(X, i, centers, j, s, label, ub_sq, tie):
    """Is centre j (fast squared distance s) closer to row i than ``label`` (ub_sq), first
    index on ties? Within ``tie`` (relative) of each other, both are re-measured in feature
    order, as Lloyd's kernel measures a near-tie, so the decision is Lloyd's."""
    if abs(s - ub_sq) > tie * (s + ub_sq):
        return s < ub_sq
    a = sqdist_feature_order(X, i, centers, j)
    b = sqdist_feature_order(X, i, centers, label)
    return a < b or (a == b and j < label)


@njit(nogil=True, cache=True)
def half_distances(centers, half_dist, next_half):
    """OUT: half_dist (k, k) = half the distance between centres; next_half (k,) = the smallest
    half-distance from each centre to another (∞ when k = 1)."""
    k = centers.shape[0]
    d = centers.shape[1]
    for a in range(k):
        half_dist[a, a] = 0.0
        for b in range(a + 1, k):
            s = 0.0
            for f in range(d):
                diff = centers[a, f] - centers[b, f]
                s += diff * diff
            h = 0.5 * np.sqrt(s)
            half_dist[a, b] = h
            half_dist[b, a] = h
    for a in range(k):
        m = np.inf
        for b in range(k):
            if b != a and half_dist[a, b] < m:
                m = half_dist[a, b]
        next_half[a] = m


@njit(nogil=True, cache=True, parallel=True)
def init_bounds(X, sample_weight, centers, half_dist, margin, labels, upper, lower, block_sums,
                block_weights, block_counts, mode, offset=None):
    """OUT: labels, upper (n,), lower (n, k): exact nearest centres (ties to the lowest index)
    of the rows of ``X − offset`` (when given: centred a row at a time, never copied whole),
    skipping those that the half-distances rule out by more than ``margin`` (their lower bound
    stays 0); and, in the same read of X, what an :func:`elkan_pass` in ``mode`` would report
    for these labels (``FULL``: each block's sums, in its blocks and row order, so the first
    pass of a run need not read X again)."""
    n, d = X.shape
    k = centers.shape[0]
    tie = rounding_tie(X)
    offset = offset_or_zeros(X, offset)
    n_blocks = block_sums.shape[0]
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        sums, weights = block_partials(block_sums, block_weights, b, mode != LABELS_ONLY)
        block_counts[b, :] = 0  # every row is new to its cluster: no change to report
        row = np.empty((1, d), dtype=X.dtype)
        for i in range(start, stop):
            load_row(X, i, offset, row, 0)
            best = 0
            best_sq = _sqdist_fast(row, 0, centers, 0)
            min_dist = np.sqrt(best_sq)
            lower[i, 0] = min_dist
            for j in range(1, k):
                lower[i, j] = 0.0
                if min_dist + margin >= half_dist[best, j]:
                    s = _sqdist_fast(row, 0, centers, j)
                    lower[i, j] = np.sqrt(s)
                    if _closer(row, 0, centers, j, s, best, best_sq, tie):
                        best_sq = s
                        best = j
                        min_dist = np.sqrt(s)
            labels[i] = best
            upper[i] = min_dist
            if mode == FULL:
                add_share(X, i, offset, sample_weight[i], best, sums, weights)


@njit(nogil=True, cache=True, parallel=True)
def elkan_pass(X, sample_weight, centers, half_dist, next_half, margin, labels, upper, lower,
               block_sums, block_weights, block_counts, mode, offset=None):
    """One Elkan pass on the rows of ``X − offset`` (d,) (when given: centred a row at a time, as
    a row is read): exact labels for ``centers``, and the per-block sums ``mode`` asks for.

    ``mode`` (``common.LABELS_ONLY | FULL | CHANGES``): with ``FULL``, block_sums (B, k, d) and
    block_weights (B, k), float64, are each block's weighted sums per cluster; with
    ``CHANGES`` they are only the changes (a row whose label changed moves its share from its
    old cluster to its new one) and block_counts (B, k) the change in rows per cluster: the
    rows whose bounds hold, nearly all of them after a few iterations, are never read.

    IN/OUT: labels, upper, lower (bounds valid for ``centers`` on entry and on exit).
    """
    n, d = X.shape
    k = centers.shape[0]
    n_blocks = block_sums.shape[0]
    tie = rounding_tie(X)
    offset = offset_or_zeros(X, offset)
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        sums, weights, counts = block_partials_counted(block_sums, block_weights,
                                                              block_counts, b, mode)
        row = np.empty((1, d), dtype=X.dtype)
        for i in range(start, stop):
            label = labels[i]
            old = label
            ub = upper[i]
            # A centre is skipped only when a bound rules it out by more than ``margin`` (the
            # rounding of stored bounds), and decisions compare float64 squared distances,
            # ties to the lowest index: the labels are Lloyd's exactly.
            if next_half[label] <= ub + margin:
                tight = False
                ub_sq = 0.0
                for j in range(k):
                    if j != label and ub + margin >= lower[i, j] and \
                            ub + margin >= half_dist[label, j]:
                        if not tight:
                            load_row(X, i, offset, row, 0)
                            ub_sq = _sqdist_fast(row, 0, centers, label)
                            ub = np.sqrt(ub_sq)
                            lower[i, label] = ub
                            tight = True
                        if ub + margin >= lower[i, j] and ub + margin >= half_dist[label, j]:
                            s = _sqdist_fast(row, 0, centers, j)
                            lower[i, j] = np.sqrt(s)
                            if _closer(row, 0, centers, j, s, label, ub_sq, tie):
                                label = j
                                ub_sq = s
                                ub = np.sqrt(s)
                labels[i] = label
                upper[i] = ub
            if mode == FULL:
                add_share(X, i, offset, sample_weight[i], label, sums, weights)
            elif mode == CHANGES and label != old:  # the row was loaded: it was measured
                move_share(row, 0, sample_weight[i], old, label, sums, weights, counts)


@njit(nogil=True, cache=True, parallel=True)
def shift_bounds(labels, shift, margin, upper, lower):
    """After the centres moved by ``shift`` (k,): loosen the bounds, by ``margin`` more than the
    move to cover rounding, so they stay valid."""
    n, k = lower.shape
    for i in prange(n):
        upper[i] += shift[labels[i]] + margin
        for j in range(k):
            v = lower[i, j] - shift[j] - margin
            lower[i, j] = v if v > 0.0 else 0.0
