"""The engine's shared pieces: labels and inertia, the tolerance rule, empty-cluster relocation,
the iteration driver, and the choice of algorithm.

Everything here assumes validated input; the estimators, the Dask path and the image compressor
stand on it. Kernels are imported where used: numba loads only when a fit runs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lloyd._kernels import layout, reductions
from lloyd._kernels.reductions import distances_to_assigned
from lloyd._threads import blas_single_thread

#: Up to this many features Lloyd's low-dimension kernel runs for few clusters (see
#: choose_algorithm); the same bound as ``lloyd._kernels.lloyd.LOW_D_MAX``, which imports numba.
LOW_D_MAX = 4
#: From this many clusters, at low dimension, Hamerly's bounds and ball scans beat it ...
LOW_D_HAMERLY_MIN_CLUSTERS = 256
#: ... when its two float64 bounds a row take at most this many bytes (the low-dimension Lloyd
#: pass keeps nothing per row: 5·10⁶ colours fit in 115 MB over X, as the README promises).
LOW_D_HAMERLY_MAX_BOUNDS_BYTES = 64 * 2**20
#: Above this many features, Elkan runs for at most ELKAN_MAX_CLUSTERS clusters ...
ELKAN_MIN_FEATURES = 33
ELKAN_MAX_CLUSTERS = 32
#: ... when its n × k lower bounds take at most this many bytes.
ELKAN_MAX_BOUNDS_BYTES = 256 * 2**20


def choose_algorithm(n_samples, n_features, n_clusters, dtype):
    """The algorithm 'auto' runs for data of this shape: the rule the algorithm guide explains
    (docs/algorithms.md, "Which algorithm runs when"), with the measurements behind each threshold.

    - ``n_features <= 4`` (colours, coordinates) and fewer than 256 clusters: 'lloyd', whose
      low-dimension kernel measures every distance directly, four centres a sweep over rows,
      vectorised; Hamerly's per-row bound bookkeeping costs more than the distances it skips
      ((10⁶, 3, 16): 15 against 41 ms/iteration; (10⁶, 3, 128) float64 53 against 59).
    - ``n_features <= 4``, 256 clusters or more and at most 64 MiB of bounds (16 bytes a row,
      4·10⁶ rows): 'hamerly', whose failing rows measure only the centres within twice their
      distance ((10⁶, 3, 256) float64: 68 against 97 ms/iteration). For float32 data Lloyd's
      16-lane kernel is still a little faster there over 20 iterations (64 against 72), but a
      whole fit runs to convergence, where Hamerly's bounds hold for nearly every row: the
      default fit at (10⁶, 3, 256) float32 took 15.7 s with Lloyd against 11.4 with Hamerly.
      More rows stay with 'lloyd', which needs no memory per row.
    - more than 32 features, few clusters (``n_clusters <= 32``) and Elkan's n × k bounds
      under 256 MiB: 'elkan', whose k bounds per row skip nearly every distance in high
      dimension, and which reads only the rows that changed cluster (28 ms/iteration against
      Hamerly's 72 and Lloyd's 95 at (6·10⁴, 784, 10), float32, 1 thread);
    - otherwise 'hamerly', whose rows that fail their bounds are measured together with one
      BLAS product a chunk (the dense Lloyd pass while most fail, a few reads a row once the
      bounds hold): 39 against Lloyd's 76 ms/iteration at (10⁵, 128, 256), 11 against 20 (and
      Elkan's 31) at (2·10⁵, 32, 64).

    Measured with ``benchmarks/bench_engine.py`` (1 thread, float32, 20 iterations from the same
    start). The choice does not change the result: every algorithm gives Lloyd's answer from
    the same start.
    """
    if n_features <= LOW_D_MAX:
        if (n_clusters >= LOW_D_HAMERLY_MIN_CLUSTERS
                and 16 * n_samples <= LOW_D_HAMERLY_MAX_BOUNDS_BYTES):
            return "hamerly"
        return "lloyd"
    bounds_bytes = n_samples * n_clusters * np.dtype(dtype).itemsize
    if (n_features >= ELKAN_MIN_FEATURES and n_clusters <= ELKAN_MAX_CLUSTERS
            and bounds_bytes <= ELKAN_MAX_BOUNDS_BYTES):
        return "elkan"
    return "hamerly"


class Run(NamedTuple):
    """One k-means run from one start."""

    labels: np.ndarray
    inertia: float
    centers: np.ndarray
    n_iter: int


# ---------------------------------------------------------------------- labels, inertia, tol


def labels(X, centers):
    """Nearest-centre labels (int32) of validated X (no centre update)."""
    from lloyd._kernels.lloyd import lloyd_pass

    n, d = X.shape
    k = centers.shape[0]
    out = np.empty(n, dtype=np.int32)
    n_blocks = layout.n_blocks(n, k, d)
    dummy_sums = np.empty((n_blocks, 0, 0))
    dummy_weights = np.empty((n_blocks, 0))
    weights = np.ones(0, dtype=X.dtype)
    with blas_single_thread():
        lloyd_pass(X, weights, np.ascontiguousarray(centers), out, dummy_sums, dummy_weights,
                   False)
    return out


def labels_inertia(X, sample_weight, centers):
    """Nearest-centre labels of validated X and their weighted inertia (float)."""

    nearest = labels(X, centers)
    n_blocks = layout.n_blocks(X.shape[0], 1, 1)
    return nearest, float(reductions.inertia(X, sample_weight, centers, nearest, n_blocks))


def tolerance_from_variances(variances, tol):
    """The stopping threshold on the squared centre shift: ``tol`` times the mean of the
    features' variances (float64); 0 when ``tol`` is 0."""
    return float(np.mean(variances) * tol) if tol else 0.0


def tolerance(X, tol, squares=None):
    """:func:`tolerance_from_variances` for X, from ``squares`` when given: the sums of squared
    deviations from the features' means."""
    if tol == 0:
        return 0.0
    if squares is None:

        n, d = X.shape
        squares = reductions.column_moments(X, layout.n_blocks(n, 1, d), True)[1]
    return tolerance_from_variances(squares / X.shape[0], tol)


def is_same_clustering(labels1, labels2, n_clusters):
    """True when two labelings are the same partition up to a permutation of the labels."""
    # Any one row of each cluster of labels1 names its partner; the rest must agree with it.
    mapping = np.full(n_clusters, -1, dtype=np.intp)
    mapping[labels1] = labels2
    return bool(np.array_equal(mapping[labels1], labels2))


# ---------------------------------------------------------------------- empty clusters


def farthest(distances, m):
    """Positions of the ``m`` largest ``distances``, largest first, ties by position, among
    the positive ones only: fewer than ``m`` when fewer rows lie away from their centre.

    A row at distance 0 already sits on a centre: an empty cluster moved onto it would be a
    second copy of that centre, emptied again by the next assignment (ties go to the first),
    and moved again, so that a fit of data with fewer distinct rows than clusters never
    settled. Such clusters stay empty where they are, as scikit-learn's do.
    """
    order = np.argsort(-distances, kind="stable")[:m]
    return order[distances[order] > 0]


def move_to_empty(sums, weights, empty, rows):
    """Give each ``empty`` cluster one row (IN/OUT: the clusters' ``sums`` and ``weights``).

    ``rows`` yields ``(x, w, old_cluster)``, farthest from its centre first: the first empty
    cluster takes the first row, and so on; each row leaves its old cluster."""
    for new_cluster, (x, w, old_cluster) in zip(empty, rows):
        sums[old_cluster] -= x * w
        weights[old_cluster] -= w
        sums[new_cluster] = x * w
        weights[new_cluster] = w


def relocate_empty_clusters(X, sample_weight, centers, labels, sums, weights, empty,
                            offset=None):
    """Move each empty cluster to one of the rows farthest from their centres (IN/OUT: sums,
    weights): :func:`move_to_empty` with the rows of ``X − offset`` (X when None). Returns the
    rows taken."""

    distances = np.empty(X.shape[0], dtype=X.dtype)
    distances_to_assigned(X, centers, labels, distances, offset=offset)
    far = farthest(distances, empty.size)
    move_to_empty(sums, weights, empty, _rows_of(X, offset, sample_weight, labels, far))
    return far


def _rows_of(X, offset, sample_weight, labels, rows):
    """What :func:`move_to_empty` takes for these ``rows`` of ``X − offset``."""
    return ((X[row] if offset is None else X[row] - offset, float(sample_weight[row]),
             labels[row]) for row in rows)


# ---------------------------------------------------------------------- the iteration driver


def keep_no_bounds(centers, centers_new, shift):
    """``moved`` for an algorithm that keeps no bounds (Lloyd's): nothing to loosen."""


def iterate(centers_init, max_iter, tol, totals, relocate, moved, inertia, *, verbose=0,
            progress=None, relax=1.0, exact_totals=None, project=None):
    """The convergence loop every run shares, in memory or on Dask.

    ``totals(centers)`` assigns every row to its nearest centre and returns the clusters'
    ``(sums (k, d), weights (k,), empty clusters, same)``, ``same`` True when no label
    changed (strict convergence); ``relocate(centers, sums, weights, empty)`` fills the empty
    clusters; ``moved(centers, centers_new, shift)`` lets an algorithm loosen its bounds after
    the centres moved; ``inertia(centers)`` is the inertia of the last assignment (printed when
    ``verbose``). Stops on strict convergence or when the squared centre shift falls to
    ``tol``.

    ``relax`` > 1 over-relaxes Lloyd's step: from the second iteration on, each centre moves
    ``relax`` times the way to its cluster's mean (successive over-relaxation of the
    fixed-point iteration). The step that meets the stopping rule, and any step with a
    relocation, is a plain one, so a converged run ends on its clusters' means: a k-means fixed
    point, though not the one Lloyd's plain steps would reach, so only the colour quantizer
    uses it (1.8 on 8 photographs' palettes at K = 16 / 64 / 256: 23% / 35% / 26% fewer
    iterations, mean PSNR +0.003 / +0.006 / +0.005 dB).

    ``project(centers, centers_new)``, when given, maps the updated centres in place onto the
    set they must lie in (spherical k-means: the unit sphere) before the shift is measured, so
    the stopping rule and ``moved`` see the centres the next assignment uses.

    ``exact_totals(sums, weights)``, for totals kept as running sums (which drift by
    rounding), recomputes the last ``totals`` (and relocation) from full sums in place; it is
    called on the plain step that ends the loop, so the centres returned are the same bit for
    bit as those of an algorithm that sums every row every time, for the same labels.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    n_iter : int
    strict_convergence : bool
    """

    k = centers_init.shape[0]
    centers = centers_init.copy()
    centers_new = np.empty_like(centers)
    shift = np.empty(k, dtype=centers.dtype)
    shift_relaxed = np.empty(k, dtype=centers.dtype)
    strict_convergence = False
    for i in range(max_iter):
        sums, weights, empty, same = totals(centers)
        relocated = bool(empty.size)
        if relocated:
            relocate(centers, sums, weights, empty)
        reductions.average_centers(sums, weights, centers, centers_new)
        if project is not None:
            project(centers, centers_new)
        reductions.center_shift(centers, centers_new, shift)
        shift_total = float(np.dot(shift, shift))
        plain = relax == 1.0 or i == 0 or relocated or same or shift_total <= tol
        if exact_totals is not None and plain and (same or shift_total <= tol
                                                   or i == max_iter - 1):
            exact_totals(sums, weights)
            reductions.average_centers(sums, weights, centers, centers_new)
            if project is not None:
                project(centers, centers_new)
            reductions.center_shift(centers, centers_new, shift)
        if not plain:
            centers_new += (relax - 1.0) * (centers_new - centers)
            if project is not None:
                project(centers, centers_new)
            reductions.center_shift(centers, centers_new, shift_relaxed)
            moved(centers, centers_new, shift_relaxed)
        else:
            moved(centers, centers_new, shift)
        if progress is not None:
            progress()
        if verbose:
            print(f"Iteration {i}, inertia {inertia(centers)}.")
        centers, centers_new = centers_new, centers
        if same:
            if verbose:
                print(f"Converged at iteration {i}: strict convergence.")
            strict_convergence = True
            break
        if shift_total <= tol:
            if verbose:
                print(f"Converged at iteration {i}: center shift {shift_total} within "
                      f"tolerance {tol}.")
            break
    return centers, i + 1, strict_convergence


def iterate_in_memory(X, sample_weight, centers_init, labels, max_iter, tol, verbose, assign,
                      moved, progress=None, incremental=False, relax=1.0, offset=None,
                      project=None):
    """:func:`iterate` on validated X in memory, centred by ``offset`` (d,) of X's dtype (or
    already centred: None) as the kernels read it; returns a :class:`Run` in centred units.

    ``assign(centers, labels, block_sums, block_weights, block_counts, mode)`` labels every row
    for ``centers`` (IN/OUT ``labels``), returns how many labels changed (or None: then they
    are compared with a copy of the last ones here) and reports what ``mode`` asks for
    (``layout.LABELS_ONLY``, ``FULL``: per-block sums and weights, or ``CHANGES``). Once the
    loop stops, labels are made consistent with the final centres.

    ``incremental``: ``assign`` can report ``CHANGES`` (what the rows that changed cluster
    moved); the clusters' totals are then kept here and updated by those changes, with a full
    pass first and after any relocation. Used only when every weight is positive, so that a
    cluster is empty exactly when its row count is 0. ``relax`` and ``project``: see
    :func:`iterate`.
    """

    n, d = X.shape
    k = centers_init.shape[0]
    n_blocks = layout.n_blocks(n, k, d)
    block_sums = np.empty((n_blocks, k, d))
    block_weights = np.empty((n_blocks, k))
    block_counts = np.empty((n_blocks, k), dtype=np.int64)
    incremental = incremental and n > 0 and float(np.min(sample_weight)) > 0
    # The clusters' sums, weights and row counts; with ``incremental`` they carry over from
    # pass to pass while they match the labels (a relocation edits sums and weights, so the
    # pass after one is a full one).
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    counts = np.zeros(k, dtype=np.int64)
    change_sums = np.empty((k, d))
    change_weights = np.empty(k)
    # "relocated": the last iteration's relocation (empty clusters, the rows they took), if any
    # "full_pass": the last pass summed every row (FULL), not the changed rows' shares
    # "exact": the totals equal full sums bit for bit: the last full pass's, with only passes
    #   that changed no label since (they add zeros)
    # "passes": how many passes ran; the one at max_iter sums every row (FULL) instead of
    # moving the changed rows' shares, so that a run that ends there needs no pass of its own
    # for exact_totals (at 20 iterations, that pass cost 5% of a fit)
    state = {"totals_match_labels": False, "labels_old": None, "relocated": None,
             "full_pass": False, "exact": False, "passes": 0}

    def totals(centers):
        state["relocated"] = None
        state["passes"] += 1
        last = state["passes"] == max_iter
        state["full_pass"] = not (incremental and state["totals_match_labels"] and not last)
        if not state["full_pass"]:
            n_changed = assign(centers, labels, block_sums, block_weights, block_counts,
                               layout.CHANGES)
            reductions.merge_blocks(block_sums, block_weights, change_sums, change_weights)
            sums[...] += change_sums
            weights[...] += change_weights
            counts[...] += block_counts.sum(axis=0)
            gone = counts == 0  # exactly empty: no rounding left behind
            sums[gone] = 0.0
            weights[gone] = 0.0
            empty = np.flatnonzero(gone)
        else:
            n_changed = assign(centers, labels, block_sums, block_weights, block_counts,
                               layout.FULL)
            reductions.merge_blocks(block_sums, block_weights, sums, weights)
            if incremental:
                counts[:] = np.bincount(labels, minlength=k)
                empty = np.flatnonzero(counts == 0)
            else:
                empty = np.flatnonzero(weights == 0)
        state["totals_match_labels"] = not empty.size
        if n_changed is None:
            labels_old = state["labels_old"]
            same = labels_old is not None and np.array_equal(labels, labels_old)
            state["labels_old"] = labels.copy()
        else:
            same = n_changed == 0
        state["exact"] = state["full_pass"] or (state["exact"] and same)
        return sums, weights, empty, same

    def relocate(centers, sums, weights, empty):
        far = relocate_empty_clusters(X, sample_weight, centers, labels, sums, weights, empty,
                                      offset)
        state["relocated"] = (empty, far)

    def inertia(centers):
        return reductions.inertia(X, sample_weight, centers, labels, n_blocks, offset=offset)

    def exact_totals(sums, weights):
        if state["exact"]:
            # Full sums already: the last pass was a full one, or every pass since the last
            # full one changed no label (a fit that stops on its second pass: no pass of its
            # own, 17 of 280 ms at 60000 × 784 float32, one thread).
            return
        reductions.cluster_sums(X, sample_weight, labels,
                                np.zeros(0, dtype=X.dtype) if offset is None else offset,
                                block_sums, block_weights)
        reductions.merge_blocks(block_sums, block_weights, sums, weights)
        if state["relocated"] is not None:
            empty, far = state["relocated"]
            move_to_empty(sums, weights, empty,
                          _rows_of(X, offset, sample_weight, labels, far))

    centers, n_iter, strict = iterate(centers_init, max_iter, tol, totals, relocate, moved,
                                      inertia, verbose=verbose, progress=progress, relax=relax,
                                      exact_totals=exact_totals if incremental else None,
                                      project=project)
    if not strict:
        assign(centers, labels, block_sums, block_weights, block_counts, layout.LABELS_ONLY)
    return Run(labels, inertia(centers), centers, n_iter)
