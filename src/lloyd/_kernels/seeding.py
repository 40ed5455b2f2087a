"""k-means++ seeding kernels: each row keeps its squared distance to the nearest chosen centre.

Potentials are summed over fixed blocks and merged in block order, so the chosen centres do not
depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lloyd._kernels.common import block_bounds


@njit(nogil=True, cache=True)
def _sqdist_rows(X, i, r):
    s = 0.0
    for f in range(X.shape[1]):
        diff = X[i, f] - X[r, f]
        s += diff * diff
    return s


@njit(nogil=True, cache=True, parallel=True)
def init_closest(X, sample_weight, first, closest, block_pot):
    """OUT: closest (n,) = ‖x_i − x_first‖², block_pot (B,) = Σ w·closest per block."""
    n = X.shape[0]
    n_blocks = block_pot.shape[0]
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        acc = 0.0
        for i in range(start, stop):
            dist = _sqdist_rows(X, i, first)
            closest[i] = dist
            acc += sample_weight[i] * dist
        block_pot[b] = acc


@njit(nogil=True, cache=True)
def sample_rows(sample_weight, closest, block_pot, targets, out):
    """OUT: out[t] = the first row whose running sum of w·closest exceeds targets[t]
    (the last row if rounding leaves it short): sampling proportional to w·closest."""
    n = closest.shape[0]
    n_blocks = block_pot.shape[0]
    for t in range(targets.shape[0]):
        target = targets[t]
        acc = 0.0
        chosen = n - 1
        for b in range(n_blocks):
            if acc + block_pot[b] <= target and b < n_blocks - 1:
                acc += block_pot[b]
                continue
            start, stop = block_bounds(n, n_blocks, b)
            found = False
            for i in range(start, stop):
                acc += sample_weight[i] * closest[i]
                if acc > target:
                    chosen = i
                    found = True
                    break
            if found or b == n_blocks - 1:
                break
        out[t] = chosen


@njit(nogil=True, cache=True, parallel=True)
def candidate_potentials(X, sample_weight, closest, candidates, block_pots):
    """OUT: block_pots (B, t): per block, Σ w·min(closest, ‖x − x_c‖²) for each candidate c."""
    n, d = X.shape
    n_blocks, n_cand = block_pots.shape
    # The candidates' coordinates transposed and in float64: the inner loop runs over the
    # candidates, contiguous and vectorised, for one row at a time.
    cand_t = np.empty((d, n_cand))
    for t in range(n_cand):
        for f in range(d):
            cand_t[f, t] = X[candidates[t], f]
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        acc = np.zeros(n_cand)
        dist = np.empty(n_cand)
        for i in range(start, stop):
            ci = closest[i]
            w = float(sample_weight[i])
            for t in range(n_cand):
                dist[t] = 0.0
            for f in range(d):
                xf = float(X[i, f])
                for t in range(n_cand):
                    diff = xf - cand_t[f, t]
                    dist[t] += diff * diff
            for t in range(n_cand):
                acc[t] += w * min(dist[t], ci)
        for t in range(n_cand):
            block_pots[b, t] = acc[t]


@njit(nogil=True, cache=True, parallel=True)
def add_center(X, sample_weight, chosen, closest, block_pot):
    """IN/OUT: closest = min(closest, ‖x − x_chosen‖²); OUT: block_pot per block."""
    n = X.shape[0]
    n_blocks = block_pot.shape[0]
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        acc = 0.0
        for i in range(start, stop):
            dist = _sqdist_rows(X, i, chosen)
            if dist < closest[i]:
                closest[i] = dist
            acc += sample_weight[i] * closest[i]
        block_pot[b] = acc
