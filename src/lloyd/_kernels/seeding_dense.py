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
                       slack, prune, products, block_pots, offset):
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

    IN: cand (t, d) the candidates, cand_t (d, t) the same transposed; offset (d,) or (0,):
    when given, the rows are those of ``X − offset``, each chunk centred into a buffer before
    its product (no centred copy of X).
    OUT: products (n, t), block_pots (B, t).
    """
    n = X.shape[0]
    n_cand = cand_t.shape[1]
    n_blocks = block_pots.shape[0]
    max_cand_sq = 0.0
    for t in range(n_cand):
        max_cand_sq = max(max_cand_sq, cand_sq[t])
    sparse = int(_SPARSE_CHUNK * CHUNK) if prune else -1
    centring = offset.shape[0] > 0
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        acc = np.zeros(n_cand)
        keep = np.empty(CHUNK, dtype=np.bool_)
        centred = np.empty((CHUNK if centring else 0, X.shape[1]), dtype=X.dtype)
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
                if centring:
                    for i in range(c0, c1):
                        load_row(X, i, offset, centred, i - c0)
                    np.dot(centred[:c1 - c0], cand_t, products[c0:c1])
                else:
                    np.dot(X[c0:c1], cand_t, products[c0:c1])  # in place: no temporary
            else:
                for i in range(c0, c1):
                    if not keep[i - c0]:
                        products[i, :] = -np.inf
                    elif centring:
                        load_row(X, i, offset, centred, 0)
                        _row_products(centred, 0, cand, products[i])
                    else:
                        _row_products(X, i, cand, products[i])
            for i in range(c0, c1):
                xs = x_sq[i]
                near = closest[i]
                w = np.float64(sample_weight[i])
                for t in range(n_cand):
                    dist = max(xs - 2.0 * products[i, t] + cand_sq[t], 0.0)
                    acc[t] += w * min(dist, near)
        for t in range(n_cand):
            block_pots[b, t] = acc[t]
