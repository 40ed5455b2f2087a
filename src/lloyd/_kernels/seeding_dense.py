"""k-means++ steps above 16 features: the candidates' distances from BLAS products (numba).

The only seeding kernel left in numba for k-means++: it calls BLAS (``np.dot``) inside its
parallel loop, which compiled C would reach only through SciPy's BLAS bindings. Loaded by the
dispatcher (``seeding.py``) on that path alone; the rest of a step is ahead-of-time code
(``plusplus.pyx``).
"""

from __future__ import annotations

import numpy as np

from lloyd._kernels._numba import njit, prange
from lloyd._kernels.common import block_bounds, load_row
from lloyd._kernels.layout import CHUNK


@njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _chunk_products(X, c0, c1, keep, offset, cand, products):
    """OUT: products[i, t] = (X[i] − offset) · cand[t] for the rows i of [c0, c1) that
    ``keep[i − c0]``, −∞ for the others (not read); offset (d,), or (0,): none.

    Four candidates a read of the row (it comes from memory once, the candidates stay in
    cache), each sum in X's dtype in whatever order vectorises, as a BLAS product's. One call a
    chunk: a call a row costs as much as the row's products."""
    d = X.shape[1]
    n_cand = cand.shape[0]
    centring = offset.shape[0] > 0
    for i in range(c0, c1):
        if not keep[i - c0]:
            products[i, :] = -np.inf
            continue
        t = 0
        while t + 4 <= n_cand:
            s0 = s1 = s2 = s3 = X.dtype.type(0)
            if centring:
                for f in range(d):
                    v = X[i, f] - offset[f]
                    s0 += v * cand[t, f]
                    s1 += v * cand[t + 1, f]
                    s2 += v * cand[t + 2, f]
                    s3 += v * cand[t + 3, f]
            else:
                for f in range(d):
                    v = X[i, f]
                    s0 += v * cand[t, f]
                    s1 += v * cand[t + 1, f]
                    s2 += v * cand[t + 2, f]
                    s3 += v * cand[t + 3, f]
            products[i, t] = s0
            products[i, t + 1] = s1
            products[i, t + 2] = s2
            products[i, t + 3] = s3
            t += 4
        while t < n_cand:
            s0 = X.dtype.type(0)
            if centring:
                for f in range(d):
                    s0 += (X[i, f] - offset[f]) * cand[t, f]
            else:
                for f in range(d):
                    s0 += X[i, f] * cand[t, f]
            products[i, t] = s0
            t += 1


@njit(nogil=True, cache=True, parallel=True)
def product_potentials(X, cand, cand_t, x_sq, cand_sq, sample_weight, closest, nearest, gap,
                       slack, prune, products, block_pots, offset):
    """``candidate_potentials`` from BLAS products, for high dimension.

    float64 rows: each 256-row chunk's products with the candidates are one BLAS call (the
    caller pins BLAS to one thread: the blocks already run in parallel); float32 rows: each
    row's products are summed on their own (``_chunk_products``). The squared distance is
    ``‖x‖² − 2 x·c + ‖c‖²`` clipped at 0, as scikit-learn computes it. Rows are summed in
    order, so the potentials do not depend on the number of threads.

    With ``prune``, a row that no candidate can come nearer to (the triangle inequality) is
    skipped: when its nearest centre so far, ``nearest[i]``, lies at least ``2·r`` from every
    candidate (``gap``), ``r`` an upper bound on the row's distance to it
    (``√(closest + slack·(‖x‖² + max ‖cand‖²))``, the rounding of the products included), every
    candidate is at least ``r`` away and no computed distance falls below ``closest``. A
    step reads only the rows kept (float64: a chunk's are gathered, centred when ``offset`` is
    given, for one BLAS product), so its work falls with the rows skipped (on blobs, the rows
    of every cluster already seeded). A skipped row's products are set to −∞,
    so its distance is +∞: the sums below and ``product_add_center`` treat it without a branch,
    and add exactly what the full computation would (``min(dist, closest) = closest``).

    IN: cand (t, d) the candidates (rows less ``offset``), cand_t (d, t) the same transposed;
    offset (d,) or (0,): when given, the rows are those of ``X − offset``, each centred as it
    is read (no centred copy of X).
    OUT: products (n, t), block_pots (B, t).
    """
    n = X.shape[0]
    n_cand = cand_t.shape[1]
    n_blocks = block_pots.shape[0]
    max_cand_sq = 0.0
    for t in range(n_cand):
        max_cand_sq = max(max_cand_sq, cand_sq[t])
    centring = offset.shape[0] > 0
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        acc = np.zeros(n_cand)
        keep = np.ones(CHUNK, dtype=np.bool_)
        gathers = X.itemsize != 4  # float64
        rows = np.empty((CHUNK if gathers else 0, X.shape[1]), dtype=X.dtype)
        kept_products = np.empty((CHUNK if gathers else 0, n_cand), dtype=X.dtype)
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
            if not gathers:  # float32
                # Row by row: 7.8 against 13.1 ms for BLAS on 256-row chunks, 60000 × 784
                # centred, four candidates, one thread (OpenBLAS packs X for so thin a
                # product); a skipped row is not read.
                _chunk_products(X, c0, c1, keep, offset, cand, products)
            elif m == c1 - c0 and not centring:
                np.dot(X[c0:c1], cand_t, products[c0:c1])  # in place: no temporary
            elif m == c1 - c0:
                for i in range(c0, c1):
                    load_row(X, i, offset, rows, i - c0)
                np.dot(rows[:m], cand_t, products[c0:c1])
            else:  # float64: the kept rows gathered for one product (row by row is slower)
                j = 0
                for i in range(c0, c1):
                    if keep[i - c0]:
                        if centring:
                            load_row(X, i, offset, rows, j)
                        else:
                            rows[j, :] = X[i, :]
                        j += 1
                if m > 0:
                    np.dot(rows[:m], cand_t, kept_products[:m])
                j = 0
                for i in range(c0, c1):
                    if keep[i - c0]:
                        products[i, :] = kept_products[j, :]
                        j += 1
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


@njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _norm_and_distance(X, i, offset, first):
    """(‖x − offset‖², ‖(x − offset) − first‖²) of row i in float64, the row centred in X's
    dtype (as a centred copy would hold it), summed in whatever order vectorises."""
    a = 0.0
    e = 0.0
    for f in range(X.shape[1]):
        v = np.float64(X[i, f] - offset[f])
        u = v - first[f]
        a += v * v
        e += u * u
    return a, e


@njit(nogil=True, cache=True, parallel=True)
def first_distances(X, sample_weight, first, offset, closest, x_sq, block_pot):
    """k-means++'s first pass above 16 features: one read of X for two results.

    OUT: x_sq (n,) = ‖x − offset‖² (the products' ``‖x‖²``), closest (n,) = ‖x − x_first‖²
    (rows less ``offset`` (d,)), block_pot (B,) = Σ w·closest per block, in row order. The
    sums are taken in whatever order vectorises (the later steps' distances are BLAS-like
    products, in any order too); the result does not depend on the number of threads.
    """
    n, d = X.shape
    n_blocks = block_pot.shape[0]
    first_row = np.empty(d)
    for f in range(d):
        first_row[f] = np.float64(X[first, f] - offset[f])
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        acc = 0.0
        for i in range(start, stop):
            x_sq[i], closest[i] = _norm_and_distance(X, i, offset, first_row)
            acc += np.float64(sample_weight[i]) * closest[i]
        block_pot[b] = acc
