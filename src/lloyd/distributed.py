"""KMeans on Dask arrays: k-means‖ seeding and one map/reduce pass per iteration.

Each chunk of rows runs lloyd's compiled kernel and returns only k × d partial sums; the partials
are added in a fixed binary tree over the chunks, so the result does not depend on scheduling.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lloyd._engine import (
    farthest,
    iterate,
    keep_no_bounds,
    move_to_empty,
    tolerance_from_variances,
)
from lloyd._engine import labels as nearest_labels
from lloyd._kernels import layout, reductions
from lloyd._kernels.reductions import all_distances, distances_to_assigned
from lloyd._runs import fit_weighted
from lloyd._threads import blas_single_thread, limit_threads
from lloyd._validation import check_enough_rows, check_init_array
from lloyd.seeding import _kmeans_plusplus

__all__ = ["is_dask_collection"]

_EXTRA = 'pip install "lloyd-kmeans[dask]"'


def is_dask_collection(obj) -> bool:
    """True for a Dask array or DataFrame, decided without importing Dask."""
    return type(obj).__module__.partition(".")[0] in ("dask", "dask_expr")


def _import_dask():
    try:
        import dask
        import dask.array as da
    except ImportError as exc:
        raise ImportError(
            f"fitting on Dask collections needs Dask: install the extra with {_EXTRA}"
        ) from exc
    return dask, da


# ---------------------------------------------------------------------- input


def _as_dask_array(X, da):
    """A 2-D float Dask array with whole rows per chunk (a DataFrame's numeric columns)."""
    if hasattr(X, "columns"):  # a Dask DataFrame
        numeric = X.select_dtypes(include="number")
        dropped = [c for c in X.columns if c not in numeric.columns]
        if len(numeric.columns) == 0:
            raise ValueError("the Dask DataFrame has no numeric columns to cluster.")
        X = numeric.to_dask_array(lengths=True)
        feature_names = np.asarray(numeric.columns, dtype=object)
    else:
        dropped, feature_names = [], None
    if X.ndim != 2:
        raise ValueError(
            f"X must be a 2-D array of shape (n_samples, n_features), got a Dask array with "
            f"{X.ndim} dimensions."
        )
    if np.isnan(X.shape[0]):
        X = X.compute_chunk_sizes()
    if X.dtype.kind == "c":
        raise ValueError(f"X has complex values (dtype {X.dtype}); k-means needs real data.")
    if X.dtype not in (np.float32, np.float64):
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must hold numbers, got dtype {X.dtype}.")
        X = X.astype(np.float64)
    if len(X.chunks[1]) != 1:
        X = X.rechunk({1: -1})
    return X, feature_names, dropped


def _persist_if_it_fits(X):
    """Keep X in the workers' memory across iterations when a cluster is there and it fits
    in half of the workers' memory; otherwise each pass reads it again from its source."""
    try:
        from distributed import default_client

        client = default_client()
    except (ImportError, ValueError):
        return X.persist() if X.nbytes <= 2**30 else X
    workers = client.scheduler_info().get("workers", {})
    memory = sum(w.get("memory_limit", 0) or 0 for w in workers.values())
    if memory == 0 or X.nbytes <= memory / 2:
        return client.persist(X)
    return X


# ---------------------------------------------------------------------- per-chunk work


def _chunk_stats(x, w):
    """(Σx, Σx², rows, X finite, w finite, w >= 0, Σw) of one chunk, in float64."""
    x64 = x.astype(np.float64, copy=False)
    return (x64.sum(axis=0), (x64 * x64).sum(axis=0), len(x64), bool(np.isfinite(x).all()),
            bool(np.isfinite(w).all()), bool((w >= 0).all()), float(w.astype(np.float64).sum()))


def _chunk_partials(x, w, centers, mean, update, with_inertia):
    """Partial sums of one chunk for ``centers``: (sums (k, d), weights (k,), inertia).

    The kernel centres the rows on the fly (no copy of the chunk) and runs on one thread: Dask
    already runs one task per core, so more would oversubscribe them. The inertia costs a
    second pass, so it is only measured when asked for (0.0 otherwise).
    """
    from lloyd._kernels.lloyd import lloyd_pass

    x = np.ascontiguousarray(x)
    w = np.ascontiguousarray(w, dtype=x.dtype)
    offset = mean.astype(x.dtype)
    n, d = x.shape
    k = centers.shape[0]
    labels = np.empty(n, dtype=np.int32)
    blocks = layout.n_blocks(n, k, d)
    block_sums = np.zeros((blocks, k, d))
    block_weights = np.zeros((blocks, k))
    with limit_threads(1):
        with blas_single_thread():
            lloyd_pass(x, w, centers, labels, block_sums, block_weights, update, offset)
        sums = np.empty((k, d))
        weights = np.empty(k)
        reductions.merge_blocks(block_sums, block_weights, sums, weights)
        inertia = 0.0
        if with_inertia:
            inertia = reductions.inertia(x - offset, w, centers, labels, blocks)
    return sums, weights, inertia


def _chunk_farthest(x, w, centers, mean, m, offset):
    """The m rows of the chunk farthest from their nearest centre: (dist, global row, x, w)."""

    xc = np.ascontiguousarray(x - mean.astype(x.dtype))
    labels = nearest_labels(xc, centers)
    dist = np.empty(len(xc), dtype=xc.dtype)
    distances_to_assigned(xc, centers, labels, dist)
    order = farthest(dist, m)
    return [(float(dist[i]), offset + int(i), xc[i].copy(), float(w[i]), int(labels[i]))
            for i in order]


def _chunk_min_dist(x, mean, candidates, closest):
    """min(closest, squared distance of each row to the nearest of ``candidates``)."""

    xc = np.ascontiguousarray(x - mean.astype(x.dtype))
    cands = np.ascontiguousarray(candidates, dtype=xc.dtype)
    labels = nearest_labels(xc, cands)
    dist = np.empty(len(xc), dtype=np.float64)
    tmp = np.empty(len(xc), dtype=xc.dtype)
    distances_to_assigned(xc, cands, labels, tmp)
    dist[:] = tmp
    return dist if closest is None else np.minimum(closest, dist)


def _chunk_sample(x, w, closest, mean, scale, seed):
    """Rows drawn independently with probability min(1, scale · w · closest)."""
    rng = np.random.default_rng(seed)
    p = np.minimum(1.0, scale * w.astype(np.float64) * closest)
    chosen = rng.random(len(p)) < p
    return np.ascontiguousarray(x[chosen] - mean.astype(x.dtype))


def _chunk_candidate_weights(x, w, mean, candidates):
    """Σ w of the chunk's rows nearest to each candidate."""
    xc = np.ascontiguousarray(x - mean.astype(x.dtype))
    labels = nearest_labels(xc, np.ascontiguousarray(candidates, dtype=xc.dtype))
    return np.bincount(labels, weights=w.astype(np.float64), minlength=len(candidates))


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b))


def _tree(dask, parts, combine):
    """Combine delayed parts pairwise in a fixed order (a balanced binary tree)."""
    delayed = dask.delayed
    while len(parts) > 1:
        nxt = [delayed(combine)(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        if len(parts) % 2:
            nxt.append(parts[-1])
        parts = nxt
    return parts[0]


# ---------------------------------------------------------------------- the fit


class _Chunks:
    """X and the weights as lists of delayed chunks, with each chunk's first row number."""

    def __init__(self, dask, X, weights):
        self.x = list(X.to_delayed().ravel())
        self.w = list(weights.to_delayed().ravel())
        self.offsets = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(int)
        self.dask = dask

    def map(self, fn, *args, with_offset=False, **kwargs):
        delayed = self.dask.delayed
        out = []
        for i, (x, w) in enumerate(zip(self.x, self.w)):
            extra = (int(self.offsets[i]),) if with_offset else ()
            out.append(delayed(fn)(x, w, *args, *extra, **kwargs))
        return out


class DaskFit(NamedTuple):
    """What a fit on a Dask collection found (``KMeans`` sets its attributes from it)."""

    centers: np.ndarray
    inertia: float
    n_iter: int
    n_features: int
    feature_names: np.ndarray | None
    labels: object  # a lazy Dask array
    n_distinct: int


def fit(X, sample_weight, n_clusters, *, init, n_init, max_iter, tol, verbose, random_state,
        oversampling_factor=2.0, init_max_iter=5):
    """k-means of a Dask array or DataFrame, with the estimator's parameters checked.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features) or dask DataFrame
    sample_weight : array-like or dask array of shape (n_samples,) or None
    n_clusters : int
    init : {'k-means++', 'random'} or array-like of shape (n_clusters, n_features)
        'k-means++' runs k-means‖.
    n_init, max_iter, tol, verbose :
        As ``KMeans``' (``n_init`` resolved from 'auto').
    random_state : numpy.random.RandomState
    oversampling_factor : float, default=2.0
        k-means‖ draws about ``oversampling_factor * n_clusters`` rows a round ...
    init_max_iter : int, default=5
        ... for this many rounds.

    Returns
    -------
    DaskFit
    """
    dask, da = _import_dask()
    X, feature_names, _ = _as_dask_array(X, da)
    n_samples, n_features = X.shape
    k = n_clusters
    check_enough_rows(n_samples, k)
    if sample_weight is None:
        weights = da.ones(n_samples, chunks=(X.chunks[0],), dtype=X.dtype)
    else:
        weights = sample_weight if is_dask_collection(sample_weight) else np.asarray(
            sample_weight
        )
        if weights.ndim != 1 or weights.shape[0] != n_samples:
            raise ValueError(
                f"sample_weight has shape {weights.shape} but X has {n_samples} rows; pass one "
                "weight per row."
            )
        if not is_dask_collection(weights):
            weights = da.from_array(weights, chunks=(X.chunks[0],))
        weights = weights.astype(X.dtype).rechunk((X.chunks[0],))
    X = _persist_if_it_fits(X)
    weights = _persist_if_it_fits(weights)
    chunks = _Chunks(dask, X, weights)

    # One pass for the checks, the mean (to centre, as in memory) and the variance (for tol).
    stats = dask.compute(_tree(dask, chunks.map(_chunk_stats), _combine_stats))[0]
    sum_x, sum_x2, count, x_finite, w_finite, w_nonneg, w_total = stats
    if not x_finite:
        raise ValueError("Input X contains NaN or infinity; remove or impute them first.")
    if not w_finite:
        raise ValueError("sample_weight contains NaN or infinity.")
    if not w_nonneg:
        raise ValueError("Negative values in data passed to `sample_weight`.")
    if w_total <= 0:
        raise ValueError("Sample weights must contain at least one non-zero number.")
    mean = sum_x / count  # unweighted, as in memory
    var = np.maximum(sum_x2 / count - mean**2, 0.0)
    tol = tolerance_from_variances(var, tol)
    mean = mean.astype(X.dtype)

    best = None
    for _ in range(n_init):
        if isinstance(init, str) and init == "k-means++":
            centers = _kmeans_parallel(dask, chunks, mean, k, random_state, X.dtype,
                                       n_samples, oversampling_factor, init_max_iter)
        elif isinstance(init, str) and init == "random":
            rows = random_state.choice(n_samples, size=k, replace=False)
            centers = np.ascontiguousarray(_fetch_rows(dask, chunks, rows) - mean, dtype=X.dtype)
        else:
            centers = check_init_array(init, np.empty((0, n_features), X.dtype), k) - mean
        run = _lloyd_distributed(dask, chunks, centers, mean, max_iter, tol, verbose)
        if best is None or run[1] < best[1]:
            best = run
    centers, inertia, n_iter = best
    sizes = _tree(dask, chunks.map(_chunk_candidate_weights, mean, centers), _add1)
    return DaskFit(
        centers=(centers + mean).astype(X.dtype), inertia=float(inertia), n_iter=n_iter,
        n_features=n_features, feature_names=feature_names,
        labels=predict((centers + mean).astype(X.dtype), n_features, X),
        n_distinct=int(np.count_nonzero(dask.compute(sizes)[0])),
    )


def _add1(a, b):
    return a + b


def _combine_stats(a, b):
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] and b[3], a[4] and b[4], a[5] and b[5],
            a[6] + b[6])


def _fetch_rows(dask, chunks, rows):
    """Rows of X by global row number, in the order asked."""
    out = []
    for r in rows:
        c = int(np.searchsorted(chunks.offsets, r, side="right") - 1)
        out.append(dask.compute(chunks.x[c])[0][r - chunks.offsets[c]])
    return np.asarray(out)


def _lloyd_distributed(dask, chunks, centers, mean, max_iter, tol, verbose):
    """Lloyd iterations (``_engine.iterate``): one map/reduce pass each. Returns (centers,
    inertia, n_iter)."""
    last = {}

    def totals(centers):
        sums, weights, inertia = dask.compute(
            _tree(dask, chunks.map(_chunk_partials, centers, mean, True, verbose), _add)
        )[0]
        last["inertia"] = inertia
        # Labels are not kept across chunks: only the centres' shift can stop the loop.
        return sums, weights, np.flatnonzero(weights == 0), False

    def relocate(centers, sums, weights, empty):
        _relocate(dask, chunks, centers, mean, sums, weights, empty)

    centers, n_iter, _ = iterate(np.ascontiguousarray(centers), max_iter, tol, totals,
                                 relocate, keep_no_bounds, lambda centers: last["inertia"],
                                 verbose=verbose)
    # the inertia of the final centres, with labels consistent with them
    _, _, inertia = dask.compute(
        _tree(dask, chunks.map(_chunk_partials, centers, mean, False, True), _add)
    )[0]
    return centers, inertia, n_iter


def _relocate(dask, chunks, centers, mean, sums, weights, empty):
    """The in-memory rule, across chunks: each empty cluster takes one of the rows farthest
    from their centres (farthest first; ties to the lower global row number)."""
    m = empty.size
    parts = chunks.map(_chunk_farthest, centers, mean, m, with_offset=True)
    candidates = [c for part in dask.compute(*parts) for c in part]
    candidates.sort(key=lambda c: (-c[0], c[1]))
    move_to_empty(sums, weights, empty,
                  ((x, w, old_cluster) for _, _, x, w, old_cluster in candidates[:m]))


def _kmeans_parallel(dask, chunks, mean, k, random_state, dtype, n_samples,
                     oversampling_factor=2.0, rounds=5):
    """k-means‖ (Bahmani et al. 2012): ``rounds`` passes that each draw about ℓ = 2k rows with
    probability ∝ w·D², then weighted greedy k-means++ and Lloyd on the candidates."""
    ell = oversampling_factor * k
    first = int(random_state.randint(n_samples))
    candidates = np.ascontiguousarray(_fetch_rows(dask, chunks, [first]) - mean, dtype=dtype)
    closest = [dask.delayed(_chunk_min_dist)(x, mean, candidates, None) for x in chunks.x]
    closest = dask.persist(*closest)
    base_seed = int(random_state.randint(2**31 - 1))
    for r in range(rounds):
        phi = dask.compute(_tree(dask, [
            dask.delayed(lambda c, w: float(c @ w.astype(np.float64)))(c, w)
            for c, w in zip(closest, chunks.w)], _add1))[0]
        if phi == 0:
            break
        seeds = np.random.SeedSequence([base_seed, r]).spawn(len(chunks.x))
        drawn = [dask.delayed(_chunk_sample)(x, w, c, mean, ell / phi,
                                             int(s.generate_state(1)[0]))
                 for x, w, c, s in zip(chunks.x, chunks.w, closest, seeds)]
        new = [a for a in dask.compute(*drawn) if len(a)]
        if not new:
            continue
        new = np.ascontiguousarray(np.concatenate(new), dtype=dtype)
        candidates = np.concatenate([candidates, new])
        closest = dask.persist(*[
            dask.delayed(_chunk_min_dist)(x, mean, new, c) for x, c in zip(chunks.x, closest)
        ])
    cand_weights = dask.compute(_tree(dask, chunks.map(_chunk_candidate_weights, mean,
                                                       candidates), _add1))[0]
    if len(candidates) < k:  # tiny data: top up with random rows
        rows = random_state.choice(n_samples, size=k - len(candidates), replace=False)
        return np.ascontiguousarray(
            np.concatenate([candidates, _fetch_rows(dask, chunks, rows) - mean]), dtype=dtype
        )
    cand_weights = np.maximum(cand_weights, np.finfo(np.float32).tiny).astype(dtype)
    start, _ = _kmeans_plusplus(candidates, k, cand_weights, random_state)
    # A plain weighted k-means of the candidates.
    run, _ = fit_weighted(candidates, cand_weights, k, init=start)
    return np.ascontiguousarray(run.centers, dtype=dtype)


# ---------------------------------------------------------------------- predict / transform


def predict(centers, n_features, X):
    """Labels of a Dask array's rows for fitted ``centers``, as a lazy Dask array."""
    _, da = _import_dask()
    X, _, _ = _as_dask_array(X, da)
    _check_features(n_features, X)

    def block(x):
        x = np.ascontiguousarray(x, dtype=centers.dtype)
        return nearest_labels(x, centers)

    return X.map_blocks(block, drop_axis=1, dtype=np.int32)


def transform(centers, n_features, X):
    """Distances of a Dask array's rows to fitted ``centers``, as a lazy Dask array."""
    _, da = _import_dask()
    X, _, _ = _as_dask_array(X, da)
    _check_features(n_features, X)
    k = centers.shape[0]

    def block(x):

        x = np.ascontiguousarray(x, dtype=centers.dtype)
        out = np.empty((len(x), k), dtype=x.dtype)
        all_distances(x, centers, out)
        return out

    return X.map_blocks(block, chunks=(X.chunks[0], (k,)), dtype=centers.dtype)


def _check_features(n_features, X):
    if X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but KMeans is expecting {n_features} features as "
            "input."
        )
