"""Elkan's exact algorithm: triangle-inequality bounds skip most distance computations.

Each row keeps an upper bound on the distance to its centre and a lower bound to every centre
(n × k memory), and ``half_dist[a, b] = ‖c_a − c_b‖ / 2`` prunes centres that cannot be closer.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lloyd._kernels.common import block_bounds


@njit(nogil=True, cache=True)
def _sqdist(X, i, centers, j):
    """Squared distance in float64, summed in feature order: the same value Lloyd's and
    Hamerly's kernels compute, so decisions on it are theirs."""
    s = 0.0
    for f in range(X.shape[1]):
        diff = float(X[i, f]) - float(centers[j, f])
        s += diff * diff
    return s


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
def init_bounds(X, centers, half_dist, margin, labels, upper, lower):
    """OUT: labels, upper (n,), lower (n, k): exact nearest centres (ties to the lowest index),
    skipping those that the half-distances rule out by more than ``margin`` (their lower bound
    stays 0)."""
    n = X.shape[0]
    k = centers.shape[0]
    for i in prange(n):
        best = 0
        best_sq = _sqdist(X, i, centers, 0)
        min_dist = np.sqrt(best_sq)
        lower[i, 0] = min_dist
        for j in range(1, k):
            lower[i, j] = 0.0
            if min_dist + margin >= half_dist[best, j]:
                s = _sqdist(X, i, centers, j)
                lower[i, j] = np.sqrt(s)
                if s < best_sq:
                    best_sq = s
                    best = j
                    min_dist = np.sqrt(s)
        labels[i] = best
        upper[i] = min_dist


@njit(nogil=True, cache=True, parallel=True)
def elkan_pass(X, sample_weight, centers, half_dist, next_half, margin, labels, upper, lower,
               block_sums, block_weights, update):
    """One Elkan pass: exact labels for ``centers``, and (when ``update``) the per-block sums.

    IN/OUT: labels, upper, lower (bounds valid for ``centers`` on entry and on exit).
    OUT: block_sums (B, k, d), block_weights (B, k), float64, when ``update``.
    """
    n, d = X.shape
    k = centers.shape[0]
    n_blocks = block_sums.shape[0]
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        sums = block_sums[b]
        weights = block_weights[b]
        if update:
            sums[:] = 0.0
            weights[:] = 0.0
        for i in range(start, stop):
            label = labels[i]
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
                            ub_sq = _sqdist(X, i, centers, label)
                            ub = np.sqrt(ub_sq)
                            lower[i, label] = ub
                            tight = True
                        if ub + margin >= lower[i, j] and ub + margin >= half_dist[label, j]:
                            s = _sqdist(X, i, centers, j)
                            lower[i, j] = np.sqrt(s)
                            if s < ub_sq or (s == ub_sq and j < label):
                                label = j
                                ub_sq = s
                                ub = np.sqrt(s)
                labels[i] = label
                upper[i] = ub
            if update:
                w = sample_weight[i]
                weights[label] += w
                for f in range(d):
                    sums[label, f] += w * X[i, f]


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
