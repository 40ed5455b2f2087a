"""Kernels every algorithm shares: block layout, inertia, centre shift, empty-cluster distances.

Sums over points run over a fixed number of contiguous blocks that depends only on the data's
shape, never on the number of threads, and are merged in block order: results are bit-identical
whatever the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Rows handled together (a chunk's distances to all centres fit in L1/L2 cache): one value for
# the numba and the ahead-of-time kernels, defined with the latter.
from lloyd._kernels.blocks import CHUNK

#: At most this many blocks (partial sums) per pass; enough to keep many threads busy.
MAX_BLOCKS = 64
#: Memory allowed for the per-block partial sums of the centres, in bytes.
PARTIAL_BYTES = 64 * 2**20

#: What a pass reports besides the labels: nothing; every row's share of its cluster's sums,
#: per block; or (algorithms that keep running totals) only the shares of the rows whose
#: cluster changed, moved from the old cluster to the new one, with the change in row counts.
LABELS_ONLY, FULL, CHANGES = 0, 1, 2


def n_blocks(n_samples: int, n_clusters: int, n_features: int) -> int:
    """How many blocks a pass over ``n_samples`` rows uses; a function of the shape alone."""
    n_chunks = max(1, -(-n_samples // CHUNK))
    by_memory = max(1, PARTIAL_BYTES // (8 * max(1, n_clusters * n_features)))
    return int(min(n_chunks, MAX_BLOCKS, by_memory))


@njit(nogil=True, cache=True, parallel=True)
def finite_max_abs(X):
    """(whether every value is finite, the largest absolute value of the finite ones) in one
    parallel pass over a 2-D X: the input check, as cheap as the sum scikit-learn's finiteness
    check takes."""
    n, d = X.shape
    n_blocks = max(1, min(MAX_BLOCKS, (n + CHUNK - 1) // CHUNK))
    largest = np.zeros(n_blocks)
    poison = np.zeros(n_blocks)
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        big = 0.0
        bad = 0.0
        for i in range(start, stop):
            for f in range(d):
                v = np.float64(X[i, f])
                bad += v * 0.0  # NaN from a NaN or an infinity, 0 otherwise
                big = max(big, abs(v))  # a NaN compares false and is skipped
        largest[b] = big
        poison[b] = bad
    return poison.sum() == 0.0, largest.max()


@njit(nogil=True, cache=True)
def block_bounds(n_samples, n_blocks, b):
    """Rows [start, stop) of block ``b``: contiguous, whole chunks except the last."""
    n_chunks = (n_samples + CHUNK - 1) // CHUNK
    chunks_per_block = (n_chunks + n_blocks - 1) // n_blocks
    start = min(n_samples, b * chunks_per_block * CHUNK)
    stop = min(n_samples, start + chunks_per_block * CHUNK)
    return start, stop


@njit(nogil=True, cache=True, inline="always")
def load_columns(X, start, m, offset, x0, x1, x2, x3):
    """OUT: x0..x3[:m] = features 0..3 of rows [start, start + m) of X (d <= 4) minus
    ``offset`` (4,), rounded in X's dtype as ``X - offset`` would be, stored as float64; the
    buffers of features past d are left as they are (zeros). The low-dimension kernels load
    each chunk this way, then loop over rows, vectorised."""
    d = X.shape[1]
    for i in range(m):
        x0[i] = X[start + i, 0] - offset[0]
        if d > 1:
            x1[i] = X[start + i, 1] - offset[1]
        if d > 2:
            x2[i] = X[start + i, 2] - offset[2]
        if d > 3:
            x3[i] = X[start + i, 3] - offset[3]


@njit(nogil=True, cache=True, inline="always")
def add_share(X, i, w, label, sums, weights):
    """IN/OUT sums (k, d), weights (k,): row i, of weight w, counted in cluster ``label``."""
    weights[label] += w
    for f in range(X.shape[1]):
        sums[label, f] += w * X[i, f]


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
def rounding_tie(X):
    """A bound on the relative rounding error of a squared distance (or of ``‖c‖² − 2 x·c``)
    computed from X's rows in X's dtype, in any order: d + 2 positive terms, each rounded a few
    times, with room. Scores closer than this, relative to their size, are re-measured with
    ``sqdist_feature_order``."""
    return 4.0 * (X.shape[1] + 2) * np.finfo(X.dtype).eps


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


@njit(nogil=True, cache=True, parallel=True)
def row_norms_sq(X, out):
    """OUT: out (n,) = ‖X[i]‖² in float64 (``row_sq``: any order)."""
    for i in prange(X.shape[0]):
        out[i] = row_sq(X, i)


@njit(nogil=True, cache=True, parallel=True)
def column_moments(X, n_blocks, squares):
    """The features' means (d,), float64, and, when ``squares``, the sums of squared deviations
    from them (d,) (else zeros): two passes over X, a block of rows at a time in parallel,
    partials added in block order (deterministic whatever the number of threads)."""
    n, d = X.shape
    partial = np.zeros((n_blocks, d))
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        acc = partial[b]
        for i in range(start, stop):
            for f in range(d):
                acc[f] += X[i, f]
    mean = np.zeros(d)
    for b in range(n_blocks):
        mean += partial[b]
    mean /= max(n, 1)
    sq = np.zeros(d)
    if squares:
        partial[:] = 0.0
        for b in prange(n_blocks):
            start, stop = block_bounds(n, n_blocks, b)
            acc = partial[b]
            for i in range(start, stop):
                for f in range(d):
                    v = X[i, f] - mean[f]
                    acc[f] += v * v
        for b in range(n_blocks):
            sq += partial[b]
    return mean, sq


@njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def sqdist_any_order(X, i, centers, j):
    """‖X[i] − centers[j]‖² in X's dtype, summed in whatever order vectorises (see
    ``row_sq``), as float64: for inertia and the like, not for deciding a label."""
    s = X.dtype.type(0)
    for f in range(X.shape[1]):
        diff = X[i, f] - centers[j, f]
        s += diff * diff
    return np.float64(s)


@njit(nogil=True, cache=True, parallel=True)
def inertia(X, sample_weight, centers, labels, n_blocks):
    """Sum of weighted squared distances of each row to its centre (float64, deterministic).

    IN: X (n, d), sample_weight (n,), centers (k, d), labels (n,). OUT: the sum.
    """
    n = X.shape[0]
    partial = np.zeros(n_blocks)
    for b in prange(n_blocks):
        start, stop = block_bounds(n, n_blocks, b)
        acc = 0.0
        for i in range(start, stop):
            acc += sample_weight[i] * sqdist_any_order(X, i, centers, labels[i])
        partial[b] = acc
    total = 0.0
    for b in range(n_blocks):
        total += partial[b]
    return total


@njit(nogil=True, cache=True, parallel=True)
def distances_to_assigned(X, centers, labels, out):
    """OUT: ``out[i]`` = squared distance of row i to its centre (for empty-cluster relocation)."""
    n, d = X.shape
    for i in prange(n):
        j = labels[i]
        s = 0.0
        for f in range(d):
            diff = X[i, f] - centers[j, f]
            s += diff * diff
        out[i] = s


@njit(nogil=True, cache=True)
def merge_blocks(block_sums, block_weights, sums, weights):
    """OUT: sums (k, d) and weights (k,) = the per-block partials added in block order."""
    n_blocks, k, d = block_sums.shape
    sums[:] = 0.0
    weights[:] = 0.0
    for b in range(n_blocks):
        for j in range(k):
            weights[j] += block_weights[b, j]
            for f in range(d):
                sums[j, f] += block_sums[b, j, f]


@njit(nogil=True, cache=True)
def average_centers(sums, weights, centers_old, centers_new):
    """OUT: centers_new = sums / weights (as sum * (1 / weight), like scikit-learn).

    A cluster with zero weight left after relocation keeps its old centre.
    """
    k, d = sums.shape
    for j in range(k):
        if weights[j] > 0:
            alpha = 1.0 / weights[j]
            for f in range(d):
                centers_new[j, f] = sums[j, f] * alpha
        else:
            for f in range(d):
                centers_new[j, f] = centers_old[j, f]


@njit(nogil=True, cache=True)
def center_shift(centers_old, centers_new, out):
    """OUT: out[j] = Euclidean distance between the old and new centre j."""
    k, d = centers_old.shape
    for j in range(k):
        s = 0.0
        for f in range(d):
            diff = centers_new[j, f] - centers_old[j, f]
            s += diff * diff
        out[j] = np.sqrt(s)


@njit(nogil=True, cache=True, parallel=True)
def all_distances(X, centers, out):
    """OUT: out (n, k) = Euclidean distance of every row to every centre (for ``transform``)."""
    n, d = X.shape
    k = centers.shape[0]
    for i in prange(n):
        for j in range(k):
            s = 0.0
            for f in range(d):
                diff = X[i, f] - centers[j, f]
                s += diff * diff
            out[i, j] = np.sqrt(s)
