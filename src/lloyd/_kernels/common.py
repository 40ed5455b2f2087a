"""The numba helpers the numba kernels inline (block bounds, chunk loads, sums' shares, the
float64 distance that settles near-ties, rounding bounds).

The kernels Python calls moved ahead of time to ``reductions.pyx``, and the block layout, pass
modes and rounding bound to the pure-Python ``layout.py``, which Python imports without numba.
"""

from __future__ import annotations

import numpy as np

from lloyd._kernels import layout
from lloyd._kernels._numba import njit
from lloyd._kernels.layout import CHUNK, LABELS_ONLY

#: The rounding bound, compiled for the numba kernels from its one definition in layout.py.
rounding_tie = njit(nogil=True, cache=True)(layout.rounding_tie)


@njit(nogil=True, cache=True, inline="always")
def block_partials(block_sums, block_weights, b, zero):
    """Block b's partial sums (k, d) and weights (k,), zeroed when ``zero``: how every pass that
    reports per block starts one (its rows' shares are then added in row order)."""
    sums = block_sums[b]
    weights = block_weights[b]
    if zero:
        sums[:] = 0.0
        weights[:] = 0.0
    return sums, weights


@njit(nogil=True, cache=True, inline="always")
def block_partials_counted(block_sums, block_weights, block_counts, b, mode):
    """:func:`block_partials` and the block's row counts (k,), zeroed unless ``mode`` is
    ``LABELS_ONLY``: the start of a block of the passes that keep bounds (Elkan, Hamerly)."""
    zero = mode != LABELS_ONLY
    sums, weights = block_partials(block_sums, block_weights, b, zero)
    counts = block_counts[b]
    if zero:
        counts[:] = 0
    return sums, weights, counts


@njit(nogil=True, cache=True)
def block_bounds(n_samples, blocks, b):
    """Rows [start, stop) of block ``b`` of ``blocks``: contiguous, whole chunks except the
    last."""
    n_chunks = (n_samples + CHUNK - 1) // CHUNK
    chunks_per_block = (n_chunks + blocks - 1) // blocks
    start = min(n_samples, b * chunks_per_block * CHUNK)
    stop = min(n_samples, start + chunks_per_block * CHUNK)
    return start, stop



@njit(nogil=True, cache=True, inline="always")
def offset_or_zeros(X, offset):
    """``offset`` (d,), or zeros of X's dtype when it is None (x − 0 is x exactly): the
    kernels that centre rows as they read them take an optional offset."""
    if offset is None:
        return np.zeros(X.shape[1], dtype=X.dtype)
    return offset


@njit(nogil=True, cache=True, inline="always")
def load_row(X, i, offset, row, r):
    """OUT: row[r] = X[i] − offset (d,), rounded in X's dtype as ``X − offset`` would be: one
    row of the centred data, for the passes that never make a centred copy of X."""
    for f in range(X.shape[1]):
        row[r, f] = X[i, f] - offset[f]


@njit(nogil=True, cache=True, inline="always")
def add_share(X, i, offset, w, label, sums, weights):
    """IN/OUT sums (k, d), weights (k,): row i less ``offset`` (d,) (the centred row, as
    :func:`load_row` rounds it), of weight w, counted in cluster ``label``."""
    weights[label] += w
    for f in range(X.shape[1]):
        sums[label, f] += w * (X[i, f] - offset[f])


@njit(nogil=True, cache=True, inline="always")
def move_share(X, i, w, old, label, sums, weights, counts):
    """IN/OUT sums, weights, counts (k,): row i, of weight w, moved from cluster ``old`` to
    ``label`` (what a pass reports in ``CHANGES`` mode)."""
    weights[label] += w
    weights[old] -= w
    counts[label] += 1
    counts[old] -= 1
    for f in range(X.shape[1]):
        v = w * X[i, f]
        sums[label, f] += v
        sums[old, f] -= v


@njit(nogil=True, cache=True)
def sqdist_feature_order(X, i, centers, j):
    """‖X[i] − centers[j]‖² in float64, summed in feature order: the measure every kernel settles
    a near-tie (and tightens a bound) with, so that their decisions are the same."""
    s = 0.0
    for f in range(X.shape[1]):
        diff = np.float64(X[i, f]) - np.float64(centers[j, f])
        s += diff * diff
    return s



@njit(nogil=True, cache=True)
def sqdist_centred(X, i, offset, centers, j):
    """:func:`sqdist_feature_order` of row i less ``offset`` (d,), rounded in X's dtype as
    :func:`load_row` rounds it: the same value as on a centred copy, without copying the row."""
    s = 0.0
    for f in range(X.shape[1]):
        diff = np.float64(X[i, f] - offset[f]) - np.float64(centers[j, f])
        s += diff * diff
    return s


@njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def row_sq(X, i):
    """‖X[i]‖² in float64, summed in whatever order vectorises: a chain of dependent additions
    cost 4 cycles a feature (63 ms a pass at (6·10⁴, 784)). For rounding bounds, whose error
    terms already cover any order of the sum (as a BLAS product's)."""
    s = 0.0
    for f in range(X.shape[1]):
        v = np.float64(X[i, f])
        s += v * v
    return s
