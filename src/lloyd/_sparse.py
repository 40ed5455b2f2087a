"""Sparse input (SciPy CSR, CSC and other formats, converted to CSR once): its validation, and
k-means on it — greedy k-means++, Lloyd's runs, labels, inertia, distances, mini-batch steps —
on the compiled kernels of ``lloyd._kernels.sparse``, which never densify X.

From the same centres the labels are scikit-learn's: float64 rows are scored exactly as its
sparse Lloyd pass scores them (``‖c‖² − 2 x·c``, the same sums in the same order), float32 rows
in float32 with near-ties re-scored in float64, so that their labels are the float64 answer.

The estimators validate at the boundary with :func:`check_csr`; everything else here assumes a
validated matrix: canonical CSR (sorted column indices, no duplicates), int32 indices, float32
or float64 finite values. As in scikit-learn, sparse X is not centred (that would densify it).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from lloyd._engine import (
    Run,
    is_same_clustering,
    iterate,
    keep_no_bounds,
    move_to_empty,
    tolerance_from_variances,
)
from lloyd._engine import labels_inertia as dense_labels_inertia
from lloyd._kernels import layout
from lloyd._kernels import sparse as kernels
from lloyd._rows import ArrayRows
from lloyd._threads import kernel_threads
from lloyd._validation import check_finite_scale, check_init_array, check_random_state

__all__ = ["SparseRows", "check_csr", "issparse", "row_norms_sq"]

INT32_MAX = np.iinfo(np.int32).max


def issparse(X) -> bool:
    """Whether X is a SciPy sparse matrix or array."""
    return sp.issparse(X)


# ---------------------------------------------------------------------- validation


def check_csr(X, *, name: str = "X"):
    """X as canonical CSR for the kernels: a new matrix when X is in another format, has
    unsorted or duplicate indices (summed, as every SciPy operation reads them) or int64
    indices; else X itself. Raises a clear ValueError for NaN, infinity or values so large
    that squared distances would overflow.

    Any SciPy format is accepted (COO, LIL and the rest are converted, as scikit-learn's
    ``check_array(accept_sparse="csr")`` converts them); integers and other dtypes become
    float64, float32 is kept. The estimators pass what ``validate_data`` returned (no copy).
    """
    from sklearn.utils import check_array

    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32],
                    ensure_all_finite=False, input_name=name)
    if X.nnz > INT32_MAX or X.shape[1] > INT32_MAX:
        raise ValueError(
            f"{name} has {X.nnz} stored values and {X.shape[1]} columns: lloyd's sparse "
            "kernels index them with 32-bit integers (at most 2**31 - 1). Split X into "
            "smaller pieces, e.g. fit MiniBatchKMeans with partial_fit.")
    X = _kernel_csr(X)
    if X.nnz:
        check_finite_scale(X.data.reshape(1, -1), name=name, n_features=X.shape[1])
    return X


def _kernel_csr(X):
    """X as the kernels read it: CSR with int32 indices, sorted, without duplicates (summed,
    as every SciPy operation reads them); X itself when it is already so, else a new matrix
    (the caller's is never reordered). Assumes at most 2**31 - 1 values and columns."""
    if X.format != "csr":  # CSC and the rest: one conversion, as scikit-learn makes
        X = X.tocsr()
    if X.indices.dtype != np.int32 or X.indptr.dtype != np.int32:
        X = sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
                          shape=X.shape)
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()  # sorts the indices too
    if not X.data.flags.c_contiguous:
        X.data = np.ascontiguousarray(X.data)
    return X


def row_norms_sq(X):
    """The squared norms (n,) of the rows of validated sparse X, float64."""
    out = np.empty(X.shape[0])
    kernels.row_norms_sq(X.data, X.indptr, out, kernel_threads(X.nnz))
    return out


def _rows_dense(X, rows):
    """Rows ``rows`` of sparse X as a dense C-contiguous array of X's dtype."""
    return np.ascontiguousarray(X[rows].toarray())


class SparseRows(ArrayRows):
    """The row source (``lloyd._rows.RowSource``) of a validated CSR matrix in memory."""

    def take(self, indices):
        """Rows ``indices`` as a new CSR matrix, as the kernels read it."""
        return _kernel_csr(self.X[indices])

    def tolerance(self, tol):
        """``tol`` times the mean variance of the features."""
        return tolerance(self.X, tol)


def tolerance(X, tol):
    """``tol`` times the mean of the columns' variances (zeros included), as scikit-learn's
    ``_tolerance`` for sparse X."""
    if tol == 0:
        return 0.0
    n, d = X.shape
    mean, squares = np.empty(d), np.empty(d)
    kernels.column_moments(X.data, X.indices, n, mean, squares)
    return tolerance_from_variances(squares / n, tol)


# ---------------------------------------------------------------------- labels, inertia


def _centers_sq(centers):
    """The centres' squared norms in float64 as scikit-learn's ``row_norms`` takes them
    (numpy's einsum), so that scores and distances are its own bit for bit."""
    c = centers.astype(np.float64, copy=False)
    return np.einsum("ij,ij->i", c, c)


def _assign(X, x_sq, centers, labels):
    n = X.shape[0]
    return kernels.assign(X.data, X.indices, X.indptr, x_sq, centers, _centers_sq(centers),
                          labels, layout.n_blocks(n, 1, 1),
                          kernel_threads(X.nnz * centers.shape[0]))


def _inertia(X, sample_weight, centers, labels, distances=None):
    """Weighted inertia (float) of the labelled rows; ``distances`` (n,), when given, receives
    every row's squared distance to its centre."""
    block_inertia = np.empty(layout.n_blocks(X.shape[0], 1, 1))
    out = np.empty(0) if distances is None else distances
    kernels.assigned_sq_distances(X.data, X.indices, X.indptr, sample_weight, centers,
                                  _centers_sq(centers), labels, out, block_inertia,
                                  kernel_threads(X.nnz))
    return float(np.cumsum(block_inertia)[-1])  # in block order


def labels(X, centers):
    """Nearest-centre labels (int32) of validated sparse X."""
    labels_out = np.full(X.shape[0], -1, dtype=np.int32)
    _assign(X, row_norms_sq(X), np.ascontiguousarray(centers, dtype=X.dtype), labels_out)
    return labels_out


def labels_inertia(X, sample_weight, centers):
    """Nearest-centre labels of validated X, sparse or dense, and their weighted inertia."""
    if not issparse(X):
        return dense_labels_inertia(X, sample_weight, centers)
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    nearest = labels(X, centers)
    return nearest, _inertia(X, sample_weight, centers, nearest)


def distances(X, centers, *, squared=False):
    """Distances (n, k) in X's dtype from every row of validated sparse X to every centre
    (squared when ``squared``: computed so, not squared from the rounded distances)."""
    out = np.empty((X.shape[0], centers.shape[0]), dtype=X.dtype)
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    kernels.all_distances(X.data, X.indices, X.indptr, row_norms_sq(X), centers,
                          _centers_sq(centers), out, squared,
                          kernel_threads(X.nnz * centers.shape[0]))
    return out


# ---------------------------------------------------------------------- seeding


def _candidate_distances(X, x_sq, rows_t, rows_sq):
    out = np.empty((rows_t.shape[1], X.shape[0]), dtype=X.dtype)
    kernels.candidate_sq_distances(X.data, X.indices, X.indptr, x_sq, rows_t, rows_sq, out,
                                   kernel_threads(X.nnz * rows_t.shape[1]))
    return out


def kmeans_plusplus(X, n_clusters, sample_weight, random_state, n_local_trials=None):
    """Greedy k-means++ on validated sparse X: scikit-learn's ``_kmeans_plusplus`` step for
    step (the same draws, and the same distances bit for bit: products summed in float64 in
    column order, ``(−2 x·c + ‖c‖²) + ‖x‖²`` rounded to X's dtype), so the same
    ``random_state`` picks the same rows. Returns (centers (k, d) dense, indices (k,))."""
    n_samples, n_features = X.shape
    x_sq = row_norms_sq(X)
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_clusters, n_features), dtype=X.dtype)
    indices = np.full(n_clusters, -1, dtype=int)
    center_id = random_state.choice(n_samples, p=sample_weight / sample_weight.sum())
    centers[0] = X[[center_id]].toarray()
    indices[0] = center_id
    # scikit-learn measures the first centre as a dense row: its norm is numpy's (einsum).
    first = centers[:1].astype(np.float64)
    closest = _candidate_distances(X, x_sq, np.ascontiguousarray(first.T),
                                   np.einsum("ij,ij->i", first, first))[0]
    current_pot = closest @ sample_weight
    for c in range(1, n_clusters):
        rand_vals = random_state.uniform(size=n_local_trials) * current_pot
        candidate_ids = np.searchsorted(np.cumsum(sample_weight * closest), rand_vals)
        np.clip(candidate_ids, None, n_samples - 1, out=candidate_ids)
        rows_t = np.ascontiguousarray(X[candidate_ids].T.toarray(), dtype=np.float64)
        distance = _candidate_distances(X, x_sq, rows_t, x_sq[candidate_ids])
        np.minimum(closest, distance, out=distance)
        candidates_pot = distance @ sample_weight.reshape(-1, 1)
        best = int(np.argmin(candidates_pot))
        current_pot = candidates_pot[best]
        closest = distance[best]
        centers[c] = X[[candidate_ids[best]]].toarray()
        indices[c] = candidate_ids[best]
    return centers, indices


def init_centroids(X, n_clusters, init, random_state, sample_weight):
    """Starting centres (dense, C-contiguous, X's dtype) on validated sparse X: 'k-means++',
    'random' (distinct rows drawn in proportion to their weight, as scikit-learn draws them),
    a callable ``init(X, n_clusters, random_state)`` (its result, sparse or dense, validated
    here) or a validated array. 'afk-mc2' is refused: its chains measure dense rows."""
    if isinstance(init, str) and init == "k-means++":
        centers, _ = kmeans_plusplus(X, n_clusters, sample_weight, random_state)
    elif isinstance(init, str) and init == "random":
        seeds = random_state.choice(X.shape[0], size=n_clusters, replace=False,
                                    p=sample_weight / sample_weight.sum())
        centers = _rows_dense(X, seeds)
    elif isinstance(init, str):
        raise ValueError(
            f"init={init!r} does not support sparse X; use init='k-means++' (the default), "
            "'random', an array or a callable, or pass X.toarray() if it fits in memory.")
    elif callable(init):
        centers = init(X, n_clusters, random_state=random_state)
        if issparse(centers):
            centers = centers.toarray()
        centers = check_init_array(centers, X, n_clusters, name="init(X, ...) result")
    else:
        centers = init
    return np.ascontiguousarray(centers, dtype=X.dtype)


# ---------------------------------------------------------------------- Lloyd's runs


def fit(X, sample_weight, n_clusters, *, init="k-means++", n_init=1, max_iter=300, tol=1e-4,
        random_state=None, verbose=0, progress=None, project=None):
    """The best of ``n_init`` runs of Lloyd's algorithm on validated sparse X: what
    ``KMeans.fit`` computes for sparse input, whatever its ``algorithm`` (see KMeans), and
    ``SphericalKMeans.fit`` on the unit rows with ``project``.

    Parameters are those of ``lloyd._runs.fit_weighted``; X is neither centred nor copied.
    Returns the kept :class:`~lloyd._engine.Run` (centres dense, in X's dtype).
    """
    random_state = check_random_state(random_state)
    tol = tolerance(X, tol)
    x_sq = row_norms_sq(X)
    best = None
    for _ in range(n_init):
        centers_init = init_centroids(X, n_clusters, init, random_state, sample_weight)
        if verbose:
            print("Initialization complete")
        run = lloyd_run(X, x_sq, sample_weight, centers_init, max_iter, tol, verbose, progress,
                        project=project)
        if best is None or (run.inertia < best.inertia
                            and not is_same_clustering(run.labels, best.labels, n_clusters)):
            best = run
    return best


def _farthest(distances, m):
    """The rows scikit-learn's sparse relocation picks for ``m`` empty clusters (its
    ``argpartition``, whose order among equal distances is its own: normalised text rows far
    from every centre are often exactly as far as each other), keeping only those away from
    their centre, as ``_engine.farthest`` does (a row on its centre would be emptied again)."""
    order = np.argpartition(distances, -m)[:-m - 1:-1]
    return order[distances[order] > 0]


def lloyd_run(X, x_sq, sample_weight, centers_init, max_iter, tol, verbose=0, progress=None,
              project=None):
    """One run of Lloyd's algorithm from ``centers_init`` on validated sparse X (``x_sq``: its
    squared row norms, float64). Each iteration is one exact assignment pass and one pass that
    sums every cluster's rows (``_engine.iterate`` does the rest, as for dense X, and applies
    ``project`` to each update's centres)."""
    n, d = X.shape
    k = centers_init.shape[0]
    labels_run = np.full(n, -1, dtype=np.int32)
    sums = np.empty((k, d))
    weights = np.empty(k)
    sum_threads = kernel_threads(X.nnz)

    def totals(centers):
        changed = _assign(X, x_sq, centers, labels_run)
        kernels.cluster_sums(X.data, X.indices, X.indptr, sample_weight, labels_run, sums,
                             weights, sum_threads)
        return sums, weights, np.flatnonzero(weights == 0), changed == 0

    def relocate(centers, sums, weights, empty):
        row_distances = np.empty(n)
        _inertia(X, sample_weight, centers, labels_run, row_distances)
        far = _farthest(row_distances, empty.size)
        move_to_empty(sums, weights, empty,
                      ((_rows_dense(X, [row])[0], float(sample_weight[row]), labels_run[row])
                       for row in far))

    def inertia(centers):
        return _inertia(X, sample_weight, centers, labels_run)

    centers, n_iter, strict = iterate(centers_init, max_iter, tol, totals, relocate,
                                      keep_no_bounds, inertia, verbose=verbose,
                                      progress=progress, project=project)
    if not strict:
        _assign(X, x_sq, centers, labels_run)
    return Run(labels_run, inertia(centers), centers, n_iter)


# ---------------------------------------------------------------------- mini-batch steps


def mini_batch_update(X, sample_weight, centers, centers_new, weight_sums):
    """Assign validated sparse batch X and move each centre to the running weighted mean of
    its rows (IN/OUT weight_sums (k,) float64; OUT centers_new, may be ``centers``), as
    ``minibatch._mini_batch_step`` does for dense batches. Returns the batch's inertia with
    the centres before the step."""
    from lloyd._kernels import minibatch as minibatch_kernels  # numba: loaded when used

    k, d = centers.shape
    batch_labels = np.full(X.shape[0], -1, dtype=np.int32)
    _assign(X, row_norms_sq(X), centers, batch_labels)
    inertia = _inertia(X, sample_weight, centers, batch_labels)
    sums, weights = np.empty((1, k, d)), np.empty((1, k))
    kernels.cluster_sums(X.data, X.indices, X.indptr, sample_weight, batch_labels, sums[0],
                         weights[0], kernel_threads(X.nnz))
    minibatch_kernels.update_centers(sums, weights, centers, centers_new, weight_sums)
    return inertia


def rows_dense(X, rows):
    """Rows ``rows`` of X (sparse or dense) as a dense array."""
    return _rows_dense(X, rows) if issparse(X) else X[rows]
