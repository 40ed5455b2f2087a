"""Hamerly's exact algorithm: one upper and one lower bound per row skip most distance work.

Each row keeps an upper bound on the distance to its centre and a lower bound on the distance to
every other centre (O(n) memory); ``half_min[a]`` is half the distance from centre a to the
nearest other centre. Where the bounds prove the label cannot change, the row costs a few
comparisons (the clusters' sums are kept and moved only by the rows that changed cluster):
this wins at low dimension (colours, coordinates).

A row whose bounds fail is measured only against the centres that could be nearer: those
within twice its distance of its own centre (triangle inequality), found in a table of every
centre's nearest neighbours sorted by distance (as Exponion, Newling & Fleuret 2016, does),
kept while the centres drift little; at 256 colours that is a tenth of the centres. The first
centre beyond that ball bounds the rest from below. The table also tightens the lower bound:
it loosens by the largest move among the centre's listed neighbours, not among all centres.

Distances are computed directly in float64, as the exact argmin (the first centre on ties), so
the labels are Lloyd's. Every bound update is loosened by ``margin``, an absolute bound on the
rounding of the distances and shifts, so rounding can never make a bound wrong.
"""

from __future__ import annotations

import numpy as np

from lloyd._kernels._numba import njit, prange
from lloyd._kernels.common import (
    add_share,
    block_bounds,
    block_partials_counted,
    load_row,
    move_share,
    offset_or_zeros,
    rounding_tie,
    row_sq,
    sqdist_centred,
)
from lloyd._kernels.distances import best_two_scores, nearest_exact, score_centers
from lloyd._kernels.layout import CHANGES, CHUNK, FULL


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
                diff = np.float64(centers[a, f]) - np.float64(centers[b, f])
                s += diff * diff
            h = 0.5 * np.sqrt(s)
            if h < half_min[a]:
                half_min[a] = h
            if h < half_min[b]:
                half_min[b] = h


@njit(nogil=True, cache=True, parallel=True)
def neighbour_table(centers, half_min, nbr_index, nbr_dist, nbr_coords, built, slack):
    """Every centre's ``m`` nearest other centres, nearest first (in index order among equal
    distances).

    OUT also: built (k, d) float64 the positions the table is for, slack (k,) zeros (see
    ``refresh_neighbours``).
    OUT: nbr_index (k, m) intp, nbr_dist (k, m) float64 their distances, nbr_coords (k, d, m)
    float64 their coordinates (a feature of a centre's neighbours contiguous, for the scan),
    half_min (k,) half the distance to the nearest other centre (∞ when k = 1). m <= k - 1;
    every centre not listed is at least ``nbr_dist[a, m - 1]`` from centre a.

    Selection without a sort of k: a centre's squared distances are counted into k buckets
    of equal width; the buckets up to the one holding the m-th nearest (about m + 3 centres)
    are laid out in bucket order and insertion-sorted, which moves little. Keeping a sorted
    top m while scanning cost twice as long at k = 256 (a hundred insertions shifting a dozen
    entries each, per centre), and the table is rebuilt a score of times per palette.
    """
    k, d = centers.shape
    m = nbr_index.shape[1]
    c = np.empty((k, d))
    c_t = np.empty((d, k))
    for a in range(k):
        slack[a] = 0.0
        for f in range(d):
            c[a, f] = centers[a, f]
            c_t[f, a] = c[a, f]
            built[a, f] = c[a, f]
    n_buckets = k
    for a in prange(k):
        if m == 0:
            half_min[a] = np.inf
            continue
        dist_sq = np.zeros(k)
        for f in range(d):
            x = c[a, f]
            for b in range(k):
                diff = x - c_t[f, b]
                dist_sq[b] += diff * diff
        dist_sq[a] = 0.0
        farthest = dist_sq.max()
        scale = (n_buckets - 1) / farthest if farthest > 0 else 0.0
        bucket = np.empty(k, dtype=np.intp)
        start = np.zeros(n_buckets + 1, dtype=np.intp)
        for b in range(k):
            if b != a:
                j = min(n_buckets - 1, int(dist_sq[b] * scale))
                bucket[b] = j
                start[j + 1] += 1
        for j in range(n_buckets):
            start[j + 1] += start[j]
        last = 0  # the bucket that holds the m-th nearest
        while start[last + 1] < m:
            last += 1
        n_cand = start[last + 1]
        order = np.empty(n_cand, dtype=np.intp)
        for b in range(k):  # in index order within a bucket
            if b != a and bucket[b] <= last:
                order[start[bucket[b]]] = b
                start[bucket[b]] += 1
        for q in range(1, n_cand):  # stable: equal distances keep index order
            j = order[q]
            s = dist_sq[j]
            p = q
            while p > 0 and dist_sq[order[p - 1]] > s:
                order[p] = order[p - 1]
                p -= 1
            order[p] = j
        for q in range(m):
            j = order[q]
            nbr_index[a, q] = j
            nbr_dist[a, q] = np.sqrt(dist_sq[j])
            for f in range(d):
                nbr_coords[a, f, q] = c[j, f]
        half_min[a] = 0.5 * nbr_dist[a, 0]


@njit(nogil=True, cache=True)
def refresh_neighbours(centers, built, nbr_index, nbr_dist, nbr_coords, half_min, slack,
                       margin):
    """Reuse a table built for the positions ``built`` after the centres moved a little.

    A centre a has drifted ``δ_a = ‖c_a − built_a‖``; the distance between two centres has
    changed by at most ``δ_a + δ_b``, so the table's distances and order stay true up to
    ``slack[a] = δ_a + max δ + margin``: ``_ball_scan`` widens the ball by it and lowers its
    bound on the centres beyond by it. The listed neighbours' coordinates are refreshed, and
    half_min becomes half of the least of their current distances and the lowest any unlisted
    centre can be at (a lower bound, which is all Hamerly's test needs).

    IN: centers (k, d), built (k, d), nbr_index, nbr_dist from ``neighbour_table``.
    OUT: nbr_coords, half_min, slack. Returns max δ (the caller rebuilds the table when it
    grows: the balls widen with it).
    """
    k, d = centers.shape
    m = nbr_index.shape[1]
    center_moves(built, centers, slack)  # each centre's drift since the table was built
    max_drift = slack.max()
    for a in range(k):
        slack[a] += max_drift + margin
        nearest_sq = np.inf
        for q in range(m):
            b = nbr_index[a, q]
            s = 0.0
            for f in range(d):
                cf = np.float64(centers[b, f])
                nbr_coords[a, f, q] = cf
                diff = np.float64(centers[a, f]) - cf
                s += diff * diff
            nearest_sq = min(nearest_sq, s)
        nearest = np.sqrt(nearest_sq)
        if m < k - 1:
            nearest = min(nearest, max(0.0, nbr_dist[a, m - 1] - slack[a]))
        half_min[a] = 0.5 * nearest if m > 0 else np.inf
    return max_drift


@njit(nogil=True, cache=True, inline="always")
def _ball_scan(X, i, label, own_sq, own, margin, nbr_index, nbr_dist, nbr_coords, slack, k,
               dist_sq):
    """Row i against the centres within ``2 · own`` of its centre ``label`` (``own`` = the
    distance to it, ``own_sq`` its square); no other centre can be nearer. Their distances go
    to ``dist_sq`` (scratch) in a loop vectorised over the centres. The table's distances may
    be off by ``slack[label]`` (a table reused after the centres moved): the ball is widened,
    and the bound beyond it lowered, by that much.

    Returns (nearest centre, first on ties; its squared distance; a lower bound on the distance
    to every other centre), or (-1, 0, 0) when the ball reaches past the table: the caller then
    measures every centre.
    """
    d = X.shape[1]
    m = nbr_index.shape[1]
    limit = 2.0 * own + 2.0 * margin + slack[label]
    inside = 0
    while inside < m and nbr_dist[label, inside] <= limit:
        inside += 1
    if inside == m and m < k - 1:  # every listed centre in the ball: others may be too
        return -1, 0.0, 0.0
    # a lower bound on the distance to the centres not measured (triangle inequality)
    beyond = nbr_dist[label, inside] - slack[label] - own - margin if inside < m else np.inf
    x = np.float64(X[i, 0])
    for q in range(inside):
        diff = x - nbr_coords[label, 0, q]
        dist_sq[q] = diff * diff
    for f in range(1, d):
        x = np.float64(X[i, f])
        for q in range(inside):
            diff = x - nbr_coords[label, f, q]
            dist_sq[q] += diff * diff
    best = label
    best_sq = own_sq
    second_sq = np.inf
    for q in range(inside):
        s = dist_sq[q]
        j = nbr_index[label, q]
        if s < best_sq or (s == best_sq and j < best):
            second_sq = best_sq
            best_sq = s
            best = j
        else:
            second_sq = min(second_sq, s)
    # The bound beyond the ball is often the weaker one (half the failing rows of a palette's
    # fit): measure the next listed centres until it passes the second-nearest distance, so the
    # row's lower bound is that distance and holds longer. Outside the ball, none is nearer.
    q = inside
    while q < m and beyond > 0.0 and beyond * beyond < second_sq:
        s = 0.0
        for f in range(d):
            diff = np.float64(X[i, f]) - nbr_coords[label, f, q]
            s += diff * diff
        j = nbr_index[label, q]
        if s < best_sq or (s == best_sq and j < best):  # rounding only
            second_sq = best_sq
            best_sq = s
            best = j
        else:
            second_sq = min(second_sq, s)
        q += 1
        if q < m:
            beyond = nbr_dist[label, q] - slack[label] - own - margin
        elif m < k - 1:  # every listed centre measured: the unlisted are farther than the last
            beyond = nbr_dist[label, m - 1] - slack[label] - own - margin
        else:
            beyond = np.inf
    return best, best_sq, min(np.sqrt(second_sq), beyond)


@njit(nogil=True, cache=True)
def center_moves(centers_old, centers_new, shift):
    """OUT: shift (k,) float64 = ‖c_new − c_old‖, computed in float64 whatever the dtype."""
    k, d = centers_old.shape
    for j in range(k):
        s = 0.0
        for f in range(d):
            diff = np.float64(centers_new[j, f]) - np.float64(centers_old[j, f])
            s += diff * diff
        shift[j] = np.sqrt(s)


@njit(nogil=True, cache=True, inline="always")
def _distances_to_all(X, i, centers_t, dist_sq):
    """OUT: dist_sq[j] = ‖x_i − c_j‖² in float64 (vectorised over the centres)."""
    d, k = centers_t.shape
    # The first feature assigns rather than adds: zeroing first becomes a memset call per row.
    x = np.float64(X[i, 0])
    for j in range(k):
        diff = x - centers_t[0, j]
        dist_sq[j] = diff * diff
    for f in range(1, d):
        x = np.float64(X[i, f])
        for j in range(k):
            diff = x - centers_t[f, j]
            dist_sq[j] += diff * diff


@njit(nogil=True, cache=True, inline="always")
def _two_smallest(dist_sq):
    """(index of the smallest, first on ties; the smallest; the second smallest)."""
    best = 0
    best_sq = dist_sq[0]
    second_sq = np.inf
    for j in range(1, dist_sq.shape[0]):
        v = dist_sq[j]
        second_sq = min(second_sq, max(best_sq, v))  # branch-free
        if v < best_sq:
            best_sq = v
            best = j
    return best, best_sq, second_sq


@njit(nogil=True, cache=True, inline="always")
def _two_smallest_4_lanes(dist_sq):
    """As ``_two_smallest``, with four independent lanes (j mod 4) merged at the end: four
    dependency chains instead of one, about 1.7× faster at k = 256."""
    k = dist_sq.shape[0]
    b0 = b1 = b2 = b3 = np.inf
    s0 = s1 = s2 = s3 = np.inf
    i0, i1, i2, i3 = 0, 1, 2, 3
    k4 = k - k % 4
    for j in range(0, k4, 4):
        v = dist_sq[j]
        s0 = min(s0, max(b0, v))
        if v < b0:
            b0 = v
            i0 = j
        v = dist_sq[j + 1]
        s1 = min(s1, max(b1, v))
        if v < b1:
            b1 = v
            i1 = j + 1
        v = dist_sq[j + 2]
        s2 = min(s2, max(b2, v))
        if v < b2:
            b2 = v
            i2 = j + 2
        v = dist_sq[j + 3]
        s3 = min(s3, max(b3, v))
        if v < b3:
            b3 = v
            i3 = j + 3
    for j in range(k4, k):
        v = dist_sq[j]
        s0 = min(s0, max(b0, v))
        if v < b0:
            b0 = v
            i0 = j
    # Merge by (value, index): the first centre wins ties, as in the one-lane scan.
    best, best_sq, second_sq = i0, b0, s0
    for lane_best, lane_index, lane_second in ((b1, i1, s1), (b2, i2, s2), (b3, i3, s3)):
        if lane_best < best_sq or (lane_best == best_sq and lane_index < best):
            second_sq = min(second_sq, best_sq)
            best_sq = lane_best
            best = lane_index
        else:
            second_sq = min(second_sq, lane_best)
        second_sq = min(second_sq, lane_second)
    return best, best_sq, second_sq


@njit(nogil=True, cache=True, inline="always")
def _nearest_two(X, i, label, own_sq, own, margin, centers_t, dist_sq, ball, nbr_index, nbr_dist,
                 nbr_coords, slack):
    """For a row whose bounds failed: (nearest centre, its distance, a lower bound on the
    distance to every other centre), from the ball scan when the table covers it, else from
    every centre."""
    k = centers_t.shape[1]
    if ball:
        best, best_sq, lb = _ball_scan(X, i, label, own_sq, own, margin, nbr_index, nbr_dist,
                                       nbr_coords, slack, k, dist_sq)
        if best >= 0:
            return best, np.sqrt(best_sq), lb
    _distances_to_all(X, i, centers_t, dist_sq)
    if k >= 32:
        best, best_sq, second_sq = _two_smallest_4_lanes(dist_sq)
    else:
        best, best_sq, second_sq = _two_smallest(dist_sq)
    return best, np.sqrt(best_sq), np.sqrt(second_sq)


@njit(nogil=True, cache=True)
def _two_largest(shift):
    """(largest, second largest, index of the largest) of the centres' shifts: a row's lower
    bound loosens by the largest shift of a centre other than its own."""
    max1 = 0.0
    max2 = 0.0
    arg1 = -1
    for j in range(shift.shape[0]):
        s = shift[j]
        if s > max1:
            max2 = max1
            max1 = s
            arg1 = j
        elif s > max2:
            max2 = s
    return max1, max2, arg1


@njit(nogil=True, cache=True, inline="always")
def _loosened_bounds(i, label, upper, lower, shift, max1, max2, arg1, half_min, margin):
    """Hamerly's bounds for row i in cluster ``label``, shared by both passes, loosened by the
    centres' moves (``shift``; ``max1``/``max2``/``arg1`` from ``_two_largest``) and by
    ``margin``. Returns (upper bound, lower bound, the bound the upper one is tested against:
    the row keeps its centre while ``upper + margin < bound``)."""
    ub = upper[i] + shift[label] + margin
    lb = lower[i] - (max2 if label == arg1 else max1) - margin
    return ub, lb, max(half_min[label], lb)


#: Prefixes of a centre's neighbour list (fractions of it) over which ``_local_loosening``
#: splits the other centres: a short prefix moves little but leaves the rest near. Refining 8
#: photographs' palettes at k = 256 (m = 32), time relative to the whole list alone: (1, 4)
#: 0.91, (1, 2, 4, 8) 0.92, (1, 4, 16) 0.94, (1, 8) 0.96, (1, 2) 0.96.
_PREFIX_DIVISORS = (1, 4)


@njit(nogil=True, cache=True)
def _local_loosening(shift, nbr_index, nbr_dist, slack, nbr_shift, far):
    """How far a row's lower bound must loosen, per centre a it belongs to, when the table
    lists a's neighbours. For each prefix p of the list (its first ``m // _PREFIX_DIVISORS[p]``
    entries): OUT nbr_shift[a, p] = the largest shift among them, far[a, p] = a lower bound on
    the distance from a to every centre not in the prefix (∞ when none is left).

    Hamerly's bound loosens by the largest shift of any centre; at k = 256 one far-off centre's
    move then fails most rows although their neighbourhood barely moved. Split the other
    centres in two: one in the prefix, j, is at least ``lower − shift_j ≥ lower − nbr_shift``
    from the row; one past it is at least ``far − upper`` from it (triangle inequality through
    centre a), and at least ``lower − max shift`` as before. Every prefix gives a valid bound,
    and the row takes the best.
    """
    k, m = nbr_index.shape
    for p in range(len(_PREFIX_DIVISORS)):
        size = max(1, m // _PREFIX_DIVISORS[p])
        for a in range(k):
            top = 0.0
            for q in range(size):
                top = max(top, shift[nbr_index[a, q]])
            nbr_shift[a, p] = top
            if size < m:
                far[a, p] = nbr_dist[a, size] - slack[a]
            elif m < k - 1:
                far[a, p] = nbr_dist[a, m - 1] - slack[a]
            else:
                far[a, p] = np.inf


@njit(nogil=True, cache=True, parallel=True)
def hamerly_pass(X, sample_weight, centers, half_min, shift, labels, upper, lower, margin,
                 block_sums, block_weights, block_counts, mode, nbr_index, nbr_dist, nbr_coords,
                 slack, offset=None):
    """One Hamerly pass: exact labels for ``centers`` and what ``mode`` asks for, as in
    ``elkan.elkan_pass``: with ``common.CHANGES`` only the rows whose label changed move their
    share (block_counts (B, k): the change in rows per cluster), so a row whose bounds hold
    reads its label and bounds, not its features or weight (refining K = 256 palettes, 5% less
    time than adding every row's share); with ``common.FULL``, every row's share.
    Returns how many labels changed.

    IN: X (n, d) and offset (d,) or None: the rows are those of ``X − offset``, centred a row
    at a time as a row is read (no centred copy of X); sample_weight (n,), centers (k, d),
    half_min (k,) for ``centers``, shift (k,):
    how far each centre moved since the bounds were last valid (zeros when they are valid),
    margin: the absolute slack added to every bound update.
    IN/OUT: labels (n,), upper (n,), lower (n,) float64 (upper = ∞ means "unknown": the row is
    measured against every centre). OUT: block_sums (B, k, d), block_weights (B, k), float64,
    block_counts (B, k) int64, unless ``mode`` is ``LABELS_ONLY``. nbr_index, nbr_dist,
    nbr_coords, slack: ``neighbour_table`` of ``centers`` (or of earlier positions, then
    ``refresh_neighbours``), or empty (0, 0), (0, 0), (0, 0, 0), (0,) arrays: then a failing
    row is measured against every centre.
    """
    n, d = X.shape
    k = centers.shape[0]
    n_blocks = block_sums.shape[0]
    ball = nbr_index.shape[0] == k and k > 1
    offset = offset_or_zeros(X, offset)
    max1, max2, arg1 = _two_largest(shift)
    centers_t = np.empty((d, k))
    for j in range(k):
        for f in range(d):
            centers_t[f, j] = centers[j, f]
    n_prefixes = len(_PREFIX_DIVISORS)
    nbr_shift = np.empty((k if ball else 0, n_prefixes))
    far = np.empty((k if ball else 0, n_prefixes))
    if ball:
        _local_loosening(shift, nbr_index, nbr_dist, slack, nbr_shift, far)
    changed = np.zeros(n_blocks, dtype=np.int64)
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        sums, weights, counts = block_partials_counted(block_sums, block_weights,
                                                              block_counts, b, mode)
        dist_sq = np.empty(k)
        row = np.empty((1, d), dtype=X.dtype)
        n_changed = 0
        for i in range(start, stop):
            label = labels[i]
            ub, lb, bound = _loosened_bounds(i, label, upper, lower, shift, max1, max2, arg1,
                                             half_min, margin)
            if ball:  # always: the bound kept for the next pass is the tighter one
                # Tighter: the centres in a prefix of ``label``'s list moved at most
                # nbr_shift[label, p]; the others lie at least far[label, p] from it, so at
                # least far - ub from the row (see ``_local_loosening``).
                hamerly_lb = lb
                for p in range(n_prefixes):
                    lb = max(lb, min(lower[i] - nbr_shift[label, p] - margin,
                                     max(hamerly_lb, far[label, p] - ub - margin)))
                bound = max(half_min[label], lb)
            if ub + margin >= bound:
                s = 0.0
                for f in range(d):  # the row centred as it is read: copied only if in doubt
                    diff = np.float64(X[i, f] - offset[f]) - centers_t[f, label]
                    s += diff * diff
                ub = np.sqrt(s)
                if ub + margin >= bound:
                    load_row(X, i, offset, row, 0)
                    label, ub, lb = _nearest_two(row, 0, label, s, ub, margin, centers_t,
                                                 dist_sq, ball, nbr_index, nbr_dist, nbr_coords,
                                                 slack)
                    old = labels[i]
                    if label != old:
                        n_changed += 1
                        labels[i] = label
                        if mode == CHANGES:
                            move_share(row, 0, sample_weight[i], old, label, sums, weights,
                                       counts)
            upper[i] = ub
            lower[i] = lb
            if mode == FULL:
                add_share(X, i, offset, sample_weight[i], label, sums, weights)
        changed[b] = n_changed
    return changed.sum()


@njit(nogil=True, cache=True, parallel=True)
def hamerly_pass_dense(X, sample_weight, centers, half_min, shift, labels, upper, lower, margin,
                       block_sums, block_weights, block_counts, mode, offset=None):
    """``hamerly_pass`` for high dimension: the rows whose bounds fail are measured together.

    Each chunk of rows is checked against its bounds first; the rows that fail are copied into
    a buffer and their scores ``‖c‖² − 2 x·c`` for every centre are one BLAS product (the caller
    pins BLAS to one thread), scanned for the best two as in the dense Lloyd pass, near-ties
    re-measured directly in float64 so the label is the exact argmin. The new upper bound is the
    distance to that centre measured directly; the new lower bound is the second-best score
    less its rounding bound. Early on, when most rows fail, this is the dense Lloyd pass; once
    the bounds hold it reads a few numbers a row.

    Same arguments as ``hamerly_pass`` without the neighbour table (a row is centred by
    ``offset`` into the buffer as it is read), but what is reported is
    chosen by ``mode`` as in ``elkan.elkan_pass``: with ``common.CHANGES`` only the rows whose
    label changed move their share from the old cluster to the new one (block_counts (B, k):
    the change in rows per cluster), so the rows whose bounds held are not read at all.
    """
    n, d = X.shape
    k = centers.shape[0]
    n_blocks = block_sums.shape[0]
    max1, max2, arg1 = _two_largest(shift)
    centers_m2 = np.empty((k, d), dtype=X.dtype)
    centers_sq = np.empty(k, dtype=X.dtype)
    centers_sq_max = score_centers(centers, centers_m2, centers_sq)
    tie_factor = rounding_tie(X)
    offset = offset_or_zeros(X, offset)
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        sums, weights, counts = block_partials_counted(block_sums, block_weights,
                                                              block_counts, b, mode)
        rows = np.empty(CHUNK, dtype=np.intp)
        xb = np.empty((CHUNK, d), dtype=X.dtype)
        scores = np.empty((k, CHUNK), dtype=X.dtype)
        best = np.empty(CHUNK, dtype=X.dtype)
        second = np.empty(CHUNK, dtype=X.dtype)
        best_j = np.empty(CHUNK, dtype=X.dtype)
        for c0 in range(start, stop, CHUNK):
            c1 = min(stop, c0 + CHUNK)
            m = 0
            for i in range(c0, c1):
                label = labels[i]
                ub, lb, bound = _loosened_bounds(i, label, upper, lower, shift, max1, max2,
                                                 arg1, half_min, margin)
                if ub + margin >= bound:
                    ub = np.sqrt(sqdist_centred(X, i, offset, centers, label))
                    if ub + margin >= bound:
                        rows[m] = i
                        load_row(X, i, offset, xb, m)
                        m += 1
                upper[i] = ub
                lower[i] = lb
            if m > 0:
                chunk_scores = scores
                if m == CHUNK:
                    np.dot(centers_m2, xb.T, scores)
                else:
                    chunk_scores = np.dot(centers_m2, xb[:m].T)
                best_two_scores(chunk_scores, centers_sq, m, best, second, best_j)
                for r in range(m):
                    i = rows[r]
                    label = int(best_j[r])
                    x_sq = row_sq(xb, r)
                    err = tie_factor * (x_sq + centers_sq_max)
                    others = np.float64(second[r])
                    if k > 1 and np.float64(second[r]) - np.float64(best[r]) <= err:
                        label = nearest_exact(xb, r, centers)
                        others = np.float64(best[r])  # the lowest score bounds every centre
                    s = 0.0
                    for f in range(d):
                        diff = np.float64(xb[r, f]) - np.float64(centers[label, f])
                        s += diff * diff
                    old = labels[i]
                    labels[i] = label
                    upper[i] = np.sqrt(s)
                    lower[i] = np.sqrt(max(0.0, x_sq + others - err)) if k > 1 else np.inf
                    if mode == CHANGES and label != old:
                        move_share(xb, r, sample_weight[i], old, label, sums, weights, counts)
            if mode == FULL:
                for i in range(c0, c1):
                    add_share(X, i, offset, sample_weight[i], labels[i], sums, weights)
