"""Yinyang k-means (Ding et al. 2015): one upper bound per row and one lower bound per group of
centres, so a row whose label may change measures only the groups that could hold its nearest.

The centres are split once into ``G`` groups (about k / 10, by k-means on the starting centres);
``lower[i, g]`` bounds the distance from row i to every centre of group g except its own. When a
centre moves, the bounds of its group loosen by the group's largest move. With k in the hundreds
a row that fails the bounds measures a few groups instead of all k centres, where Hamerly's one
lower bound would send it through every centre.

Distances are computed directly in float64 and summed in feature order, as every exact kernel
measures them, and the first centre wins ties, so the labels are Lloyd's; every bound is loosened
by ``margin`` (an absolute bound on the rounding) so rounding can never make one wrong.
"""

from __future__ import annotations

import numpy as np

from lloyd._kernels._numba import njit, prange
from lloyd._kernels.common import (
    add_share,
    block_bounds,
    block_partials,
    load_row,
    offset_or_zeros,
)


@njit(nogil=True, cache=True)
def group_moves(shift, group_start, order, group_shift):
    """OUT: group_shift (G,) = the largest ``shift`` of the centres in each group."""
    for g in range(group_start.shape[0] - 1):
        m = 0.0
        for p in range(group_start[g], group_start[g + 1]):
            m = max(m, shift[order[p]])
        group_shift[g] = m


@njit(nogil=True, cache=True, parallel=True)
def yinyang_pass(X, sample_weight, centers, order, position, group_start, group_of, shift,
                 group_shift, margin, labels, upper, lower, block_sums, block_weights, update,
                 offset=None):
    """One Yinyang pass: exact labels for ``centers`` and (when ``update``) the block sums.

    IN: X (n, d) and offset (d,) or None: the rows are those of ``X − offset``, centred a row
    at a time as a row is read (no centred copy of X); sample_weight (n,), centers (k, d);
    order (k,): the centres listed group by
    group, position (k,) its inverse, group_start (G + 1,): group g is
    ``order[group_start[g]:group_start[g + 1]]``, group_of (k,); shift (k,) and group_shift (G,):
    how far each centre / the farthest of each group moved since the bounds were last valid
    (zeros when they are valid); margin: the absolute slack added to every bound update.
    IN/OUT: labels (n,), upper (n,), lower (n, G), float64 (upper = ∞ means "unknown": the row
    is measured against every centre). OUT: block_sums (B, k, d), block_weights (B, k), float64,
    when ``update``.
    """
    n, d = X.shape
    k = centers.shape[0]
    n_groups = group_start.shape[0] - 1
    n_blocks = block_sums.shape[0]
    offset = offset_or_zeros(X, offset)
    # Centres transposed in group order: a group's distances are one loop over contiguous
    # columns, vectorised over its centres.
    centers_t = np.empty((d, k))
    for p in range(k):
        for f in range(d):
            centers_t[f, p] = centers[order[p], f]
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        sums, weights = block_partials(block_sums, block_weights, b, update)
        dist_sq = np.empty(k)
        bounds = np.empty(n_groups)
        scanned = np.zeros(n_groups, dtype=np.bool_)
        row = np.empty((1, d), dtype=X.dtype)
        for i in range(start, stop):
            label = labels[i]
            ub = upper[i] + shift[label] + margin
            closest_group = np.inf
            for g in range(n_groups):
                v = lower[i, g] - group_shift[g] - margin
                bounds[g] = v
                closest_group = min(closest_group, v)
            if ub + margin >= closest_group:
                load_row(X, i, offset, row, 0)
                p_own = position[label]
                s_own = 0.0
                for f in range(d):
                    diff = np.float64(row[0, f]) - centers_t[f, p_own]
                    s_own += diff * diff
                ub = np.sqrt(s_own)
                if ub + margin >= closest_group:
                    best = label
                    best_sq = s_own
                    for g in range(n_groups):
                        scanned[g] = ub + margin >= bounds[g]
                        if not scanned[g]:
                            continue
                        g0 = group_start[g]
                        g1 = group_start[g + 1]
                        x = np.float64(row[0, 0])
                        for p in range(g0, g1):
                            diff = x - centers_t[0, p]
                            dist_sq[p] = diff * diff
                        for f in range(1, d):
                            x = np.float64(row[0, f])
                            for p in range(g0, g1):
                                diff = x - centers_t[f, p]
                                dist_sq[p] += diff * diff
                        for p in range(g0, g1):
                            s = dist_sq[p]
                            j = order[p]
                            if s < best_sq or (s == best_sq and j < best):
                                best_sq = s
                                best = j
                    # New lower bounds: the nearest centre other than the new label, in every
                    # group measured; the old centre, if it lost the row, joins its group's bound.
                    for g in range(n_groups):
                        if scanned[g]:
                            m = np.inf
                            for p in range(group_start[g], group_start[g + 1]):
                                if order[p] != best:
                                    m = min(m, dist_sq[p])
                            bounds[g] = np.sqrt(m)
                    if best != label and not scanned[group_of[label]]:
                        g_old = group_of[label]
                        bounds[g_old] = min(bounds[g_old], ub)
                    label = best
                    labels[i] = label
                    ub = np.sqrt(best_sq)
            upper[i] = ub
            for g in range(n_groups):
                lower[i, g] = bounds[g]
            if update:
                add_share(X, i, offset, sample_weight[i], label, sums, weights)
