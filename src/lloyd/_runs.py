"""One k-means run per algorithm (Lloyd, Elkan, Hamerly, Yinyang), and restarts: the engine's
entry point, used by ``KMeans`` and by the colour quantizer (which needs no estimator).

Assumes validated input; every loop over points lives in ``lloyd._kernels``.
"""

from __future__ import annotations

import contextlib

import numpy as np

from lloyd._engine import (
    LOW_D_MAX,
    choose_algorithm,
    is_same_clustering,
    iterate_in_memory,
    keep_no_bounds,
    tolerance,
)
from lloyd._kernels import layout, reductions
from lloyd._kernels.reductions import row_norms_sq
from lloyd._threads import blas_single_thread, numba_threads
from lloyd._validation import check_magnitude_bits, check_random_state
from lloyd.seeding import init_centroids
from lloyd.steps import run_kmeans


def fit_weighted(X, sample_weight, n_clusters, *, init="k-means++", n_init=1, max_iter=300,
                 tol=1e-4, random_state=None, algorithm="auto", verbose=0,
                 progress=None, relaxation=1.0, project=None):
    """The best of ``n_init`` k-means runs on validated input: what ``KMeans.fit`` computes.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        C-contiguous float32 or float64, with ``n_samples >= n_clusters``; its values are
        checked here (finite, and small enough: ``_validation.check_finite_scale``'s error
        otherwise) in the pass that takes the features' means. It is neither modified nor
        copied: the kernels centre each row as they read it (distances
        are more accurate near the origin), with the same roundings as a centred copy.
    sample_weight : ndarray of shape (n_samples,)
        Validated weights of X's dtype.
    n_clusters : int
    init : {'k-means++', 'afk-mc2', 'random'}, callable or ndarray of shape \
(n_clusters, n_features)
        An array must be validated (``_validation.check_init_array``); it is not modified.
    n_init : int
        Runs from different starts (already resolved from 'auto'); the lowest inertia is kept.
    max_iter : int
    tol : float
        Relative to the data: the runs stop when the squared centre shift falls to ``tol``
        times the mean variance of the features.
    random_state : int, RandomState instance or None
    algorithm : {'auto', 'lloyd', 'elkan', 'hamerly', 'yinyang'}
    verbose : int
    progress : callable or None
        Called with no argument after every iteration (progress bars).
    relaxation : float
        Over-relaxation of the steps (see ``_engine.iterate``; 1 is Lloyd's plain step).
    project : callable or None
        Maps each update's centres onto their set (spherical k-means: the unit sphere; see
        ``_engine.iterate``). X is then not centred: a projection is defined about the origin.

    Returns
    -------
    run : Run
        Labels, inertia, centres (in X's units and dtype) and iterations of the kept run.
    algorithm : str
        The algorithm that ran ('auto' resolved).
    """

    n_samples, n_features = X.shape
    random_state = check_random_state(random_state)
    # One compiled pass for the means, the variances and the input check (np.var makes
    # temporaries the size of X: 1.6 s at 60000 × 784 float64 on this project's machine).
    row_max = np.zeros(1)  # the largest squared distance of a row to the mean, with squares
    magnitude = np.zeros(1, dtype=np.uint64)  # the input check, from the means' pass
    mean, squares = reductions.column_moments(
        X, layout.n_blocks(n_samples, 1, n_features), tol != 0, 0, row_max, magnitude)
    check_magnitude_bits(X, magnitude[0])
    tol = tolerance(X, tol, squares)
    if algorithm == "auto":
        algorithm = choose_algorithm(n_samples, n_features, n_clusters, X.dtype)
    init_is_array = not isinstance(init, str) and not callable(init)
    # Work on X centred, for more accurate distances, as scikit-learn does; but centred as the
    # kernels read it (``X − X_mean`` a row or a chunk at a time), never as a copy of X.
    X_mean = mean.astype(X.dtype) if project is None else np.zeros(n_features, X.dtype)
    if init_is_array:
        init = init - X_mean
    best = None
    with blas_single_thread():
        for _ in range(n_init):
            centers_init = init_centroids(X, n_clusters, init, random_state, sample_weight,
                                          offset=X_mean)
            if verbose:
                print("Initialization complete")
            run = single_run(algorithm, X, sample_weight, centers_init, max_iter, tol,
                             verbose, progress, relaxation, offset=X_mean,
                             row_sq_max=(float(row_max[0]) if tol != 0 and project is None
                                         else None), project=project)
            if best is None or (
                run.inertia < best.inertia
                and not is_same_clustering(run.labels, best.labels, n_clusters)
            ):
                best = run
    return best._replace(centers=best.centers + X_mean), algorithm


def single_run(algorithm, X, sample_weight, centers_init, max_iter, tol, verbose,
               progress=None, relax=1.0, offset=None, row_sq_max=None, project=None):
    """One run of ``algorithm`` from ``centers_init`` on validated X centred by ``offset``
    (d,) of X's dtype as it is read (None: X is centred already); the centres are in centred
    units. ``progress()``, when given, is called after every iteration; ``relax``
    over-relaxes the steps and ``project`` maps each update's centres onto their set (see
    ``_engine.iterate``); ``row_sq_max``, when known, is the
    largest squared distance of a row of X to its mean (for the bounds' rounding margin: no
    pass over X of its own)."""
    run = {"elkan": _kmeans_single_elkan, "hamerly": _kmeans_single_hamerly,
           "yinyang": _kmeans_single_yinyang}.get(algorithm, _kmeans_single_lloyd)
    if offset is None:
        offset = np.zeros(X.shape[1], dtype=X.dtype)  # x − 0 is x, exactly
    offset = np.ascontiguousarray(offset, dtype=X.dtype)
    # numba's kernels get their threads once a run, from a pass's multiply-adds in units of
    # 3-feature distances (what kernel_threads counts); the ahead-of-time low-d pass chooses
    # its own, pass by pass.
    ahead_of_time = run is _kmeans_single_lloyd and X.shape[1] <= LOW_D_MAX
    work = X.shape[0] * centers_init.shape[0] * max(1, X.shape[1] // 3)
    with contextlib.nullcontext() if ahead_of_time else numba_threads(work):
        return run(X, offset, sample_weight, centers_init, max_iter, tol, verbose, progress,
                   relax, row_sq_max, project)


def _kmeans_single_lloyd(X, offset, sample_weight, centers_init, max_iter, tol, verbose=0,
                         progress=None, relax=1.0, row_sq_max=None, project=None):
    """One run of Lloyd's algorithm from ``centers_init`` on validated X, centred by
    ``offset`` as it is read."""
    from lloyd._kernels.lloyd import lloyd_pass

    centring = offset if np.any(offset) else None  # none: the kernels' plain path

    def assign(centers, labels, block_sums, block_weights, block_counts, mode):
        return lloyd_pass(X, sample_weight, centers, labels, block_sums, block_weights,
                          mode != layout.LABELS_ONLY, centring)

    labels = np.full(X.shape[0], -1, dtype=np.int32)
    return iterate_in_memory(X, sample_weight, centers_init, labels, max_iter, tol, verbose,
                             assign, keep_no_bounds, progress, relax=relax, offset=centring,
                             project=project)


def _kmeans_single_elkan(X, offset, sample_weight, centers_init, max_iter, tol, verbose=0,
                         progress=None, relax=1.0, row_sq_max=None, project=None):
    """One run of Elkan's algorithm from ``centers_init`` on validated X, centred by
    ``offset`` as it is read."""
    from lloyd._kernels import elkan

    n = X.shape[0]
    k = centers_init.shape[0]
    half_dist = np.empty((k, k), dtype=X.dtype)
    next_half = np.empty(k, dtype=X.dtype)
    labels = np.full(n, -1, dtype=np.int32)
    upper = np.empty(n, dtype=X.dtype)
    lower = np.empty((n, k), dtype=X.dtype)
    margin = _bound_margin(X, centers_init, np.finfo(X.dtype).eps, offset=offset,
                           row_sq_max=row_sq_max)
    elkan.half_distances(centers_init, half_dist, next_half)
    first = [True]

    def assign(centers, labels, block_sums, block_weights, block_counts, mode):
        if first[0]:
            # The first pass is on centers_init: setting the bounds labels every row exactly
            # and, in the same read of X, sums them as that pass would (one pass saved, 17 of
            # ~280 ms of a default fit at 60000 × 784 float32).
            first[0] = False
            elkan.init_bounds(X, sample_weight, centers, half_dist, margin, labels, upper,
                              lower, block_sums, block_weights, block_counts, mode, offset)
            return
        elkan.elkan_pass(X, sample_weight, centers, half_dist, next_half, margin, labels, upper,
                         lower, block_sums, block_weights, block_counts, mode, offset)

    def moved(centers, centers_new, shift):
        elkan.shift_bounds(labels, shift, margin, upper, lower)
        elkan.half_distances(centers_new, half_dist, next_half)

    return iterate_in_memory(X, sample_weight, centers_init, labels, max_iter, tol, verbose,
                             assign, moved, progress, incremental=True, relax=relax,
                             offset=offset, project=project)


def _kmeans_single_hamerly(X, offset, sample_weight, centers_init, max_iter, tol, verbose=0,
                           progress=None, relax=1.0, row_sq_max=None, project=None):
    """One run of Hamerly's algorithm from ``centers_init`` on validated X, centred by
    ``offset`` as it is read."""
    from lloyd._kernels import hamerly

    n = X.shape[0]
    k = centers_init.shape[0]
    labels = np.zeros(n, dtype=np.int32)
    upper = np.full(n, np.inf)  # ∞: not measured yet, so the first pass measures every row
    lower = np.zeros(n)
    half_min = np.empty(k)
    shift64 = np.zeros(k)  # how far each centre moved since the bounds were last valid
    margin = _bound_margin(X, centers_init, offset=offset, row_sq_max=row_sq_max)
    d = X.shape[1]
    # Above the low-dimension kernels' range the rows whose bounds fail are measured with BLAS.
    dense = d > LOW_D_MAX
    n_neighbours = min(k - 1, HAMERLY_NEIGHBOURS)
    table_bytes = k * n_neighbours * (d + 2) * 8
    if not dense and k >= HAMERLY_TABLE_MIN_CLUSTERS and table_bytes <= HAMERLY_TABLE_MAX_BYTES:
        nbr_index = np.empty((k, n_neighbours), dtype=np.intp)
        nbr_dist = np.empty((k, n_neighbours))
        nbr_coords = np.empty((k, d, n_neighbours))
        nbr_slack = np.empty(k)
    else:  # no table: a row whose bounds fail is measured against every centre
        nbr_index = np.empty((0, 0), dtype=np.intp)
        nbr_dist = np.empty((0, 0))
        nbr_coords = np.empty((0, 0, 0))
        nbr_slack = np.empty(0)
    built = np.empty((k, d))
    # The table is rebuilt when a centre has drifted this far from where it was built
    # (``refresh_neighbours``); None: not built yet.
    rebuild_drift = None
    n_passes = 0

    def assign(centers, labels, block_sums, block_weights, block_counts, mode):
        nonlocal rebuild_drift, n_passes
        if dense:
            hamerly.half_min_distances(centers, half_min)
            hamerly.hamerly_pass_dense(X, sample_weight, centers, half_min, shift64, labels,
                                       upper, lower, margin, block_sums, block_weights,
                                       block_counts, mode, offset)
            return
        if nbr_index.shape[0]:
            if rebuild_drift is None or hamerly.refresh_neighbours(
                centers, built, nbr_index, nbr_dist, nbr_coords, half_min, nbr_slack, margin
            ) > rebuild_drift:
                hamerly.neighbour_table(centers, half_min, nbr_index, nbr_dist, nbr_coords,
                                        built, nbr_slack)
                rebuild_drift = HAMERLY_TABLE_DRIFT * float(np.median(nbr_dist[:, 0]))
        else:
            hamerly.half_min_distances(centers, half_min)
        n_passes += 1
        changed = hamerly.hamerly_pass(X, sample_weight, centers, half_min, shift64, labels,
                                       upper, lower, margin, block_sums, block_weights,
                                       block_counts, mode, nbr_index, nbr_dist, nbr_coords,
                                       nbr_slack, offset)
        # The first pass starts from placeholder labels (zeros): its count means nothing.
        return changed if n_passes > 1 else None

    def moved(centers, centers_new, shift):
        hamerly.center_moves(centers, centers_new, shift64)

    # Both passes can report only the rows that changed cluster: then the rows whose bounds held
    # are read no further than their bounds.
    return iterate_in_memory(X, sample_weight, centers_init, labels, max_iter, tol, verbose,
                             assign, moved, progress, incremental=True, relax=relax,
                             offset=offset, project=project)


#: From this many clusters Hamerly keeps a table of every centre's nearest neighbours, sorted,
#: so a row whose bounds fail is measured only against the centres that could be nearer ...
HAMERLY_TABLE_MIN_CLUSTERS = 16
#: ... this many of them (a row whose ball holds more measures every centre) ...
HAMERLY_NEIGHBOURS = 32
#: ... when the table takes at most this many bytes (k × 32 × (d + 2) × 8). It is kept from
#: pass to pass, its distances loosened by how far the centres drifted, until a centre has
#: drifted this fraction of the median distance between nearest centres (rebuilt every pass,
#: it cost 0.6 ms of a palette's 2.5 ms pass at k = 256). Refining 8 photographs' palettes at
#: k = 256, ms an image, fraction 0 (every pass) / 0.1 / 0.25 / 0.5 / 1: 134 / 111 / 108 /
#: 109 / 118 (wider balls cost more than the rebuilds they save).
HAMERLY_TABLE_MAX_BYTES = 64 * 2**20
HAMERLY_TABLE_DRIFT = 0.25
#: Yinyang's groups hold about this many centres each (Ding et al.: k / 10 groups).
YINYANG_GROUP_SIZE = 10


def _kmeans_single_yinyang(X, offset, sample_weight, centers_init, max_iter, tol, verbose=0,
                           progress=None, relax=1.0, row_sq_max=None, project=None):
    """One run of Yinyang k-means from ``centers_init`` on validated X, centred by ``offset``
    as it is read."""
    from lloyd._kernels import hamerly, yinyang

    n = X.shape[0]
    k = centers_init.shape[0]
    group_of = _center_groups(centers_init, max(1, k // YINYANG_GROUP_SIZE))
    order = np.argsort(group_of, kind="stable").astype(np.intp)
    position = np.empty(k, dtype=np.intp)
    position[order] = np.arange(k)
    group_start = np.searchsorted(group_of[order], np.arange(group_of.max() + 2)).astype(np.intp)
    n_groups = group_start.shape[0] - 1
    labels = np.zeros(n, dtype=np.int32)
    upper = np.full(n, np.inf)  # ∞: not measured yet, so the first pass measures every row
    lower = np.zeros((n, n_groups))
    shift64 = np.zeros(k)  # how far each centre moved since the bounds were last valid
    group_shift = np.zeros(n_groups)
    margin = _bound_margin(X, centers_init, offset=offset, row_sq_max=row_sq_max)

    def assign(centers, labels, block_sums, block_weights, block_counts, mode):
        yinyang.yinyang_pass(X, sample_weight, centers, order, position, group_start, group_of,
                             shift64, group_shift, margin, labels, upper, lower, block_sums,
                             block_weights, mode != layout.LABELS_ONLY, offset)

    def moved(centers, centers_new, shift):
        hamerly.center_moves(centers, centers_new, shift64)
        yinyang.group_moves(shift64, group_start, order, group_shift)

    return iterate_in_memory(X, sample_weight, centers_init, labels, max_iter, tol, verbose,
                             assign, moved, progress, relax=relax, offset=offset,
                             project=project)


def _center_groups(centers, n_groups, n_iter=5):
    """Group of each centre (intp, groups numbered 0.. without gaps): a few Lloyd iterations on
    the centres from evenly spaced ones, as Yinyang prescribes; deterministic."""
    c = centers.astype(np.float64)
    start = c[np.linspace(0, c.shape[0] - 1, n_groups).astype(np.intp)]
    _, group_of = run_kmeans(c, start, max_iters=n_iter)
    return np.unique(group_of, return_inverse=True)[1].reshape(-1).astype(np.intp)


def _bound_margin(X, centers, eps=float(np.finfo(np.float64).eps), *, offset=None,  # noqa: B008
                  row_sq_max=None):
    """Absolute slack for the distance bounds: well above the rounding of distances between
    the rows of ``X − offset`` and centres stored with machine epsilon ``eps`` (every centre is
    a mean of rows, a row or an initial centre).

    ``row_sq_max``: the largest squared distance of a row to the exact mean, when a pass over
    X already found it; the rows centred by ``offset`` (the mean in X's dtype, each difference
    rounded) are then within ``2·√d·eps_X·max|offset|`` and a relative ``eps_X`` of that."""

    if row_sq_max is None:
        row_sq = np.empty(X.shape[0])
        row_norms_sq(X, row_sq, offset=offset)
        row_norm = np.sqrt(float(np.max(row_sq)))
    else:
        eps_x = float(np.finfo(X.dtype).eps)
        shift = 0.0 if offset is None else float(np.max(np.abs(offset), initial=0.0))
        row_norm = (np.sqrt(row_sq_max) * (1.0 + 4.0 * eps_x)
                    + 2.0 * np.sqrt(X.shape[1]) * eps_x * shift)
    center_norm = np.sqrt(float(np.max(np.einsum("ij,ij->i", centers, centers,
                                                  dtype=np.float64))))
    return 8.0 * (X.shape[1] + 4) * eps * (row_norm + center_norm)
