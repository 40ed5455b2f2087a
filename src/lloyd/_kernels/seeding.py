"""k-means++ seeding kernels: each row keeps its squared distance to the nearest chosen centre.

Potentials are summed over fixed blocks and merged in block order, so the chosen centres do not
depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lloyd._kernels.common import CHUNK, block_bounds


@njit(nogil=True, cache=True)
def _sqdist_rows(X, i, r):
    """‖X[i] − X[r]‖² in float64, summed in feature order (``_sqdist_vector`` lets it be
    reordered)."""
    s = 0.0
    for f in range(X.shape[1]):
        diff = np.float64(X[i, f]) - np.float64(X[r, f])
        s += diff * diff
    return s


@njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _sqdist_vector(A, i, B, r):
    """‖A[i] − B[r]‖² in float64, summed in whatever order vectorises (the same order on every
    call, so results do not depend on threads)."""
    s = 0.0
    for f in range(A.shape[1]):
        diff = np.float64(A[i, f]) - np.float64(B[r, f])
        s += diff * diff
    return s


@njit(nogil=True, cache=True, parallel=True)
def init_closest(X, sample_weight, first, closest, block_pot, vectorised=False):
    """OUT: closest (n,) = ‖x_i − x_first‖², block_pot (B,) = Σ w·closest per block.

    Summed in feature order (k-means++), or with ``vectorised`` in whatever order vectorises
    (AFK-MC², which needs no feature-order distances: a strict order costs 4 cycles a
    feature, 57 against 40 ms at (6·10⁴, 784))."""
    n = X.shape[0]
    n_blocks = block_pot.shape[0]
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        acc = 0.0
        for i in range(start, stop):
            dist = _sqdist_vector(X, i, X, first) if vectorised else _sqdist_rows(X, i, first)
            closest[i] = dist
            acc += sample_weight[i] * dist
        block_pot[b] = acc


@njit(nogil=True, cache=True)
def weighted_row(weights, total, u):
    """The row ``RandomState.choice(n, p=weights / total)`` picks when its uniform draw is
    ``u``: the first row whose running sum of p, divided by the whole sum, exceeds u (the
    cumulative sum runs in order, as numpy's does, so the numbers are the same)."""
    n = weights.shape[0]
    last = 0.0
    for i in range(n):
        last += weights[i] / total
    acc = 0.0
    for i in range(n):
        acc += weights[i] / total
        if acc / last > u:
            return i
    return n - 1


@njit(nogil=True, cache=True)
def sample_rows(sample_weight, closest, block_pot, targets, out, Xt, pending):
    """OUT: out[t] = the first row whose running sum of w·closest exceeds targets[t]
    (the last row if rounding leaves it short): sampling proportional to w·closest.

    ``pending`` >= 0: the row of a centre not yet applied to ``closest`` (low dimension,
    ``Xt`` as for ``candidate_potentials_low_d``): a row's distance is then the lesser of its
    closest and its distance to that centre, as the pass that applies it will store it."""
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
                near = closest[i]
                if pending >= 0:
                    near = min(_row_sq(Xt, i, pending), near)
                acc += sample_weight[i] * near
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
            w = np.float64(sample_weight[i])
            for t in range(n_cand):
                dist[t] = 0.0
            for f in range(d):
                xf = np.float64(X[i, f])
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


#: Rows per chunk of the low-dimension kernel: four float64 columns, the weights and the
#: current distances stay in L1.
_LOW_D_CHUNK = 256
# Blocks start on multiples of CHUNK, so chunk c of a block is rows [c, c + 1) · _LOW_D_CHUNK.
assert CHUNK % _LOW_D_CHUNK == 0


@njit(nogil=True, cache=True, inline="always")
def _box_sq(lo, hi, c, a0, a1, a2, a3):
    """A lower bound on the squared distance from (a0..a3) to every row of chunk ``c``, whose
    features lie in [lo[c], hi[c]], as the low-dimension kernels round it: per feature the gap
    to the box is at most |x − a| rounded (rounding is monotone), and the squares are added in
    the kernels' order, so the bound holds for the computed distances too."""
    g0 = max(lo[c, 0] - a0, a0 - hi[c, 0], 0.0)
    g1 = max(lo[c, 1] - a1, a1 - hi[c, 1], 0.0)
    g2 = max(lo[c, 2] - a2, a2 - hi[c, 2], 0.0)
    g3 = max(lo[c, 3] - a3, a3 - hi[c, 3], 0.0)
    return g0 * g0 + g1 * g1 + g2 * g2 + g3 * g3


@njit(nogil=True, cache=True, inline="always")
def _sq3(x0, x1, x2, i, a0, a1, a2):
    """Squared distance in float64 from row i of three columns to (a0, a1, a2)."""
    e0 = np.float64(x0[i]) - a0
    e1 = np.float64(x1[i]) - a1
    e2 = np.float64(x2[i]) - a2
    return e0 * e0 + e1 * e1 + e2 * e2


@njit(nogil=True, cache=True, inline="always")
def _sq4(x0, x1, x2, x3, i, a0, a1, a2, a3):
    """``_sq3`` with a fourth column, added last."""
    e3 = np.float64(x3[i]) - a3
    return _sq3(x0, x1, x2, i, a0, a1, a2) + e3 * e3


@njit(nogil=True, cache=True, inline="always")
def _row_sq(Xt, i, j):
    """``_sq3``/``_sq4`` between rows i and j of the columns ``Xt``: the same numbers as the
    chunk loops compute."""
    a0 = np.float64(Xt[0, j])
    a1 = np.float64(Xt[1, j])
    a2 = np.float64(Xt[2, j])
    if Xt.shape[0] == 3:
        return _sq3(Xt[0], Xt[1], Xt[2], i, a0, a1, a2)
    return _sq4(Xt[0], Xt[1], Xt[2], Xt[3], i, a0, a1, a2, np.float64(Xt[3, j]))


@njit(nogil=True, cache=True, parallel=True)
def chunk_boxes(X, closest, Xt, lo, hi, chunk_max):
    """OUT: Xt (3 or 4, n), X's dtype, the features of X as columns (zeros past d; 4 rows only
    when d = 4, so that three features read three columns), lo, hi (n_chunks, 4) float64 the
    bounding box of each chunk of ``_LOW_D_CHUNK`` rows (zeros past d), chunk_max (n_chunks,)
    the largest ``closest`` in it."""
    n, d = X.shape
    for c in prange(lo.shape[0]):
        start = c * _LOW_D_CHUNK
        stop = min(n, start + _LOW_D_CHUNK)
        top = 0.0
        for f in range(4):
            lo[c, f] = np.inf if f < d else 0.0
            hi[c, f] = -np.inf if f < d else 0.0
        for i in range(start, stop):
            for f in range(Xt.shape[0]):
                v = X[i, f] if f < d else 0.0
                Xt[f, i] = v
                lo[c, f] = min(lo[c, f], np.float64(Xt[f, i]))
                hi[c, f] = max(hi[c, f], np.float64(Xt[f, i]))
            top = max(top, closest[i])
        chunk_max[c] = top


@njit(nogil=True, cache=True, parallel=True)
def candidate_potentials_low_d(Xt, sample_weight, closest, candidates, block_pots, lo, hi,
                               chunk_max, pending):
    """``candidate_potentials`` for d <= 4, with the last step's centre applied on the way:
    the same sums, vectorised over rows.

    ``Xt`` (3 or 4, n) holds the rows' features as columns (``chunk_boxes``), measured in
    float64: each candidate is compared with every row of a chunk in a loop the compiler
    vectorises (three features read three columns); per-row partial sums (one lane a row of
    the chunk) are added up in a fixed order at the end of the block, so the result does not
    depend on the number of threads.

    ``pending`` >= 0 is the row of the centre chosen last step, not yet in ``closest``: each
    chunk first takes it in (IN/OUT closest and chunk_max), then is measured against the
    candidates, so a step reads the data once rather than twice. The last step's potentials
    per block were those of this centre as a candidate: the caller keeps them.

    A centre or candidate at least ``chunk_max`` (squared) from a chunk's bounding box
    (``chunk_boxes``) is nearer to none of its rows than their closest centre: the centre
    changes nothing there, and for a candidate each row adds its w·closest, the very terms the
    full loop would add, without measuring. On sorted data (a palette's colour bins) most
    chunks are far from most candidates once a few centres are placed.
    """
    rows, n = Xt.shape
    n_blocks, n_cand = block_pots.shape
    cand = np.zeros((n_cand + 1, 4))  # the pending centre last
    for t in range(n_cand):
        for f in range(rows):
            cand[t, f] = Xt[f, candidates[t]]
    if pending >= 0:
        for f in range(rows):
            cand[n_cand, f] = Xt[f, pending]
    p0, p1, p2, p3 = cand[n_cand, 0], cand[n_cand, 1], cand[n_cand, 2], cand[n_cand, 3]
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        lanes = np.zeros((n_cand, _LOW_D_CHUNK))
        for c0 in range(start, stop, _LOW_D_CHUNK):
            m = min(stop, c0 + _LOW_D_CHUNK) - c0
            c = c0 // _LOW_D_CHUNK
            x0 = Xt[0, c0 : c0 + m]
            x1 = Xt[1, c0 : c0 + m]
            x2 = Xt[2, c0 : c0 + m]
            x3 = Xt[rows - 1, c0 : c0 + m]
            weight = sample_weight[c0 : c0 + m]
            near = closest[c0 : c0 + m]
            if pending >= 0 and _box_sq(lo, hi, c, p0, p1, p2, p3) < chunk_max[c]:
                top = 0.0
                if rows == 3:
                    for i in range(m):
                        dist = min(_sq3(x0, x1, x2, i, p0, p1, p2), near[i])
                        near[i] = dist
                        top = max(top, dist)
                else:
                    for i in range(m):
                        dist = min(_sq4(x0, x1, x2, x3, i, p0, p1, p2, p3), near[i])
                        near[i] = dist
                        top = max(top, dist)
                chunk_max[c] = top
            for t in range(n_cand):
                a0 = cand[t, 0]
                a1 = cand[t, 1]
                a2 = cand[t, 2]
                a3 = cand[t, 3]
                lane = lanes[t]
                if _box_sq(lo, hi, c, a0, a1, a2, a3) >= chunk_max[c]:
                    # min(dist, near) is near for every row of the chunk
                    for i in range(m):
                        lane[i] += np.float64(weight[i]) * near[i]
                elif rows == 3:
                    for i in range(m):
                        dist = _sq3(x0, x1, x2, i, a0, a1, a2)
                        lane[i] += np.float64(weight[i]) * min(dist, near[i])
                else:
                    for i in range(m):
                        dist = _sq4(x0, x1, x2, x3, i, a0, a1, a2, a3)
                        lane[i] += np.float64(weight[i]) * min(dist, near[i])
        for t in range(n_cand):
            acc = 0.0
            for i in range(_LOW_D_CHUNK):
                acc += lanes[t, i]
            block_pots[b, t] = acc


@njit(nogil=True, cache=True)
def center_gaps(X, center_rows, n_centers, cand_t, gap):
    """OUT: gap[j] = min over candidates of ‖x_center_j − candidate‖, for j < n_centers.

    Feature-order float64 differences (no cancellation), shrunk by a relative 10⁻¹² so that
    rounding never overestimates a gap.
    IN: center_rows (k,) row numbers of the centres chosen so far, cand_t (d, t).
    """
    d, n_cand = cand_t.shape
    dist = np.empty(n_cand)
    for j in range(n_centers):
        r = center_rows[j]
        for t in range(n_cand):
            dist[t] = 0.0
        for f in range(d):
            xf = np.float64(X[r, f])
            for t in range(n_cand):
                diff = xf - np.float64(cand_t[f, t])
                dist[t] += diff * diff
        best = dist[0]
        for t in range(1, n_cand):
            best = min(best, dist[t])
        gap[j] = np.sqrt(best) * (1.0 - 1e-12)


#: A chunk with at most this fraction of its rows left after pruning multiplies them one by
#: one instead of calling BLAS on the whole chunk. One thread, 256 rows a chunk, ms a pass of
#: 10⁵ rows at d = 128, float64 (float32): BLAS on every row 15.2 (8.9); one by one with 25%,
#: 50%, 75% of rows left 10.3, 14.1, 17.8 (5.8, 8.8, 10.3); at d = 32 and 784 alike.
_SPARSE_CHUNK = 0.45


@njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _row_products(X, i, cand, out):
    """OUT: out[t] = X[i] · cand[t], summed in X's dtype in whatever order vectorises (as a
    BLAS product does)."""
    d = X.shape[1]
    for t in range(cand.shape[0]):
        s = X[i, 0] * cand[t, 0]
        for f in range(1, d):
            s += X[i, f] * cand[t, f]
        out[t] = s


@njit(nogil=True, cache=True, parallel=True)
def product_potentials(X, cand, cand_t, x_sq, cand_sq, sample_weight, closest, nearest, gap,
                       slack, prune, products, block_pots):
    """``candidate_potentials`` from BLAS products, for high dimension.

    Each 256-row chunk's products with the candidates are one BLAS call (the caller pins BLAS
    to one thread: the blocks already run in parallel); the squared distance is
    ``‖x‖² − 2 x·c + ‖c‖²`` clipped at 0, as scikit-learn computes it. Rows are summed in
    order, so the potentials do not depend on the number of threads.

    With ``prune``, a row that no candidate can come nearer to (the triangle inequality) is
    skipped: when its nearest centre so far, ``nearest[i]``, lies at least ``2·r`` from every
    candidate (``gap``), ``r`` an upper bound on the row's distance to it
    (``√(closest + slack·(‖x‖² + max ‖cand‖²))``, the rounding of the products included), every
    candidate is at least ``r`` away and no computed distance falls below ``closest``. In a
    chunk where at most ``_SPARSE_CHUNK`` of the rows remain, each remaining row is multiplied
    on its own (reading only those rows) and a skipped row's products are set to −∞, so its
    distance is +∞: the sums below and ``product_add_center`` treat it without a branch, and
    add exactly what the full computation would (``min(dist, closest) = closest``).

    IN: cand (t, d) the candidates, cand_t (d, t) the same transposed.
    OUT: products (n, t), block_pots (B, t).
    """
    n = X.shape[0]
    n_cand = cand_t.shape[1]
    n_blocks = block_pots.shape[0]
    max_cand_sq = 0.0
    for t in range(n_cand):
        max_cand_sq = max(max_cand_sq, cand_sq[t])
    sparse = int(_SPARSE_CHUNK * CHUNK) if prune else -1
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        acc = np.zeros(n_cand)
        keep = np.empty(CHUNK, dtype=np.bool_)
        for c0 in range(start, stop, CHUNK):
            c1 = min(stop, c0 + CHUNK)
            m = c1 - c0
            if prune:
                m = 0
                for i in range(c0, c1):
                    g = gap[nearest[i]]
                    k = g * g < 4.0 * (closest[i] + slack * (x_sq[i] + max_cand_sq))
                    keep[i - c0] = k
                    m += k
            if m > sparse:
                np.dot(X[c0:c1], cand_t, products[c0:c1])  # in place: no temporary, no copy
            else:
                for i in range(c0, c1):
                    if keep[i - c0]:
                        _row_products(X, i, cand, products[i])
                    else:
                        products[i, :] = -np.inf
            for i in range(c0, c1):
                xs = x_sq[i]
                near = closest[i]
                w = np.float64(sample_weight[i])
                for t in range(n_cand):
                    dist = max(xs - 2.0 * products[i, t] + cand_sq[t], 0.0)
                    acc[t] += w * min(dist, near)
        for t in range(n_cand):
            block_pots[b, t] = acc[t]


@njit(nogil=True, cache=True, parallel=True)
def product_add_center(products, choice, center, x_sq, cand_sq, sample_weight, closest,
                       nearest, track, block_pot):
    """``add_center`` for candidate ``choice`` of ``products``, the new centre number
    ``center``: IN/OUT closest, and nearest when ``track``; OUT block_pot."""
    n = products.shape[0]
    n_blocks = block_pot.shape[0]
    c_sq = cand_sq[choice]
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        acc = 0.0
        if track:
            for i in range(start, stop):
                dist = max(x_sq[i] - 2.0 * products[i, choice] + c_sq, 0.0)
                nearer = dist < closest[i]
                closest[i] = dist if nearer else closest[i]
                nearest[i] = center if nearer else nearest[i]
                acc += np.float64(sample_weight[i]) * closest[i]
        else:
            for i in range(start, stop):
                dist = max(x_sq[i] - 2.0 * products[i, choice] + c_sq, 0.0)
                if dist < closest[i]:
                    closest[i] = dist
                acc += np.float64(sample_weight[i]) * closest[i]
        block_pot[b] = acc


@njit(nogil=True, cache=True)
def _ordered_total(partials):
    """Σ over blocks in block order (deterministic whatever the number of threads)."""
    total = 0.0
    for b in range(partials.shape[0]):
        total += partials[b]
    return total


@njit(nogil=True, cache=True)
def plusplus_steps(X, sample_weight, closest, block_pot, uniforms, low_d, indices, candidates,
                   block_pots, pots):
    """Steps 1.. of greedy k-means++ without leaving compiled code (d <= 16).

    Every step samples ``candidates`` with ``targets = uniforms[step - 1] * potential``, takes
    the candidate whose potential (block sums merged in block order) is lowest, the first on
    ties, and updates ``closest``; a Python loop of the same kernels spent more time calling
    them than in them when the data are small (a palette's thousands of colours).

    IN: X (n, d), sample_weight (n,), uniforms (k - 1, t) drawn up front from the random
    state (the same numbers as one draw a step). IN/OUT: closest (n,), block_pot (B,) for the
    first centre on entry (scratch after: at low d the last centre is never applied to
    closest, nothing needing it); indices (k,) with indices[0] set on entry, the rest OUT.
    Scratch: candidates (t,), block_pots (B, t), pots (t,).
    """
    n_cand = uniforms.shape[1]
    n_chunks = (X.shape[0] + _LOW_D_CHUNK - 1) // _LOW_D_CHUNK if low_d else 0
    lo = np.empty((n_chunks, 4))
    hi = np.empty((n_chunks, 4))
    chunk_max = np.empty(n_chunks)
    # Three columns unless there are four features: the distance kernels read each one.
    Xt = np.empty((4 if X.shape[1] == 4 else 3, X.shape[0] if low_d else 0), dtype=X.dtype)
    if low_d:
        chunk_boxes(X, closest, Xt, lo, hi, chunk_max)
    pending = -1  # low d: the last chosen centre, applied to closest by the next pass
    for c in range(1, indices.shape[0]):
        current_pot = _ordered_total(block_pot)
        targets = uniforms[c - 1] * current_pot
        sample_rows(sample_weight, closest, block_pot, targets, candidates, Xt, pending)
        if low_d:
            candidate_potentials_low_d(Xt, sample_weight, closest, candidates, block_pots, lo,
                                       hi, chunk_max, pending)
        else:
            candidate_potentials(X, sample_weight, closest, candidates, block_pots)
        pots[:] = 0.0
        for b in range(block_pots.shape[0]):
            for t in range(n_cand):
                pots[t] += block_pots[b, t]
        choice = np.argmin(pots)
        best = candidates[choice]
        if low_d:
            # Its per-block potentials are the ones add_center would sum, lane for lane.
            pending = best
            block_pot[:] = block_pots[:, choice]
        else:
            add_center(X, sample_weight, best, closest, block_pot)
        indices[c] = best


@njit(nogil=True, cache=True, parallel=True)
def afkmc2_steps(X, ratio, proposals, uniforms, sample, sample_ratio, sample_dist, indices):
    """AFK-MC² (Bachem et al. 2016), greedy: each next centre is the best of ``t`` Markov
    chains' last states, the one that lowers the potential most on a fixed importance sample.

    A chain walks ``m`` rows proposed from ``q = w · ratio``: a proposal ``y`` replaces the
    state ``x`` when ``u · D(x)² / ratio[x] < D(y)² / ratio[y]`` (Metropolis–Hastings towards
    k-means++'s law ``w · D²``; the weight cancels). ``D`` is the distance to the centres so
    far. With ``t > 1`` the chains' states are compared on ``sample``, rows drawn once from q:
    a candidate ``z`` scores ``Σ max(0, D(y)² − ‖y − z‖²) / ratio[y]``, an unbiased estimate
    (up to a constant) of how much it lowers ``Σ w·D²``; the highest wins, ties to the first
    chain. The sample's distances take in each chosen centre during the next step's pass.
    Distances are float64, summed in one fixed vectorised order; scores are summed over fixed
    blocks of the sample, merged in order, so the result does not depend on the number of
    threads.

    IN: ratio (n,) > 0; proposals, uniforms (k − 1, t, m); sample (S, d) the sample's rows,
    sample_ratio (S,) their ratio. IN/OUT: sample_dist (S,) their D² (to the first centre on
    entry); indices (k,), indices[0] the first centre, the rest filled in.
    """
    n_steps, n_chains, m = proposals.shape
    n_sample = sample.shape[0]
    n_blocks = max(1, min(64, n_sample // CHUNK))
    dist = np.empty((n_chains, m))
    states = np.empty(n_chains, dtype=np.intp)
    partial = np.zeros((n_blocks, n_chains))
    for step in range(n_steps):
        n_centers = step + 1
        for p in prange(n_chains * m):
            a, j = p // m, p % m
            y = proposals[step, a, j]
            best = np.inf
            for c in range(n_centers):
                best = min(best, _sqdist_vector(X, y, X, indices[c]))
            dist[a, j] = best
        for a in range(n_chains):
            state = proposals[step, a, 0]
            score = dist[a, 0] / ratio[state]
            for j in range(1, m):
                y = proposals[step, a, j]
                proposed = dist[a, j] / ratio[y]
                if uniforms[step, a, j] * score < proposed:
                    state, score = y, proposed
            states[a] = state
        chosen = states[0]
        if n_chains > 1:
            pending = indices[step]  # the last centre chosen, not yet in sample_dist
            for b in prange(n_blocks):
                start, stop = block_bounds(n_sample, n_blocks, b)
                acc = np.zeros(n_chains)
                for e in range(start, stop):
                    de = sample_dist[e]
                    if step > 0:
                        de = min(de, _sqdist_vector(sample, e, X, pending))
                        sample_dist[e] = de
                    scale = 1.0 / sample_ratio[e]
                    for a in range(n_chains):
                        acc[a] += max(0.0, de - _sqdist_vector(sample, e, X, states[a])) * scale
                for a in range(n_chains):
                    partial[b, a] = acc[a]
            top = -1.0
            for a in range(n_chains):
                g = 0.0
                for b in range(n_blocks):
                    g += partial[b, a]
                if g > top:
                    top, chosen = g, states[a]
        indices[n_centers] = chosen
