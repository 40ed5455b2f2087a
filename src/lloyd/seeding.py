"""Choosing initial centres: random distinct rows, greedy k-means++, and AFK-MC².

The heavy loops are compiled (``lloyd._kernels.seeding``); k-means++'s random draws follow
scikit-learn's sequence, so the same ``random_state`` picks the same rows in most cases.
"""

from __future__ import annotations

import numpy as np

from lloyd._kernels import layout
from lloyd._threads import blas_single_thread
from lloyd._validation import (
    check_data,
    check_finite_scale,
    check_init_array,
    check_n_clusters,
    check_random_state,
    check_weights,
)

__all__ = ["afkmc2", "kmeans_plusplus"]

#: k-means++ sums its potentials over blocks of at least this many rows (fixed by the shape).
#: A palette's coarse histogram has 5-23k bins: at 8192 rows a block its seeding ran on one or
#: two blocks, leaving a core idle; at 2048, 8 photographs at K = 16 / 64 / 256 took 201 / 239
#: / 305 against 187 / 230 / 289 ms an image, same palettes. (At 256 rows a block, 64 small
#: blocks cost more than the distances.)
SEEDING_BLOCK_ROWS = 2048
#: AFK-MC²: rows proposed per chain (each chain gives one candidate per step).
AFKMC2_CHAIN = 20


def afkmc2_sample_size(n_samples: int, n_features: int, n_clusters: int) -> int:
    """AFK-MC²'s importance sample, on which the chains' candidates are compared: 128 rows per
    cluster, at least 2000, at most an eighth of the rows and 2·10⁶ values (each step reads it
    once). Blobs, mean potential after seeding over 20 seeds against scikit-learn's greedy
    k-means++, (10⁶, 3, 256): 40 rows per cluster 1.012, 128 1.004, 390 1.002; at
    (10⁵, 128, 256) the cap (12 500 rows) costs 0.70 s, 128 per cluster would cost 1.7 s."""
    size = min(max(2000, 128 * n_clusters), 2_000_000 // n_features)
    return int(max(1, min(max(size, 2000), n_samples // 8)))


#: Above this many features the candidates' distances are a BLAS matrix product.
BLAS_SEEDING_MIN_FEATURES = 16
#: From this many features a step skips the rows no candidate can come nearer to (the triangle
#: inequality through each row's nearest centre). With fewer, a row is too short for skipping
#: it to save memory traffic (the prefetcher reads its neighbours' lines anyway) and BLAS on
#: the whole chunk beats the row-by-row products of the rows left: 2·10⁵ rows at d = 32, one
#: thread, 7.5 ms (float64) / 5.2 ms (float32) for BLAS on every row against 8.8 / 8.8 ms row
#: by row with half of them skipped.
PRUNED_SEEDING_MIN_FEATURES = 64


def kmeans_plusplus(X, n_clusters, *, sample_weight=None, x_squared_norms=None, random_state=None,
                    n_local_trials=None):
    """Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, with local trials).

    The first centre is a row drawn with probability proportional to its weight. Each next centre
    is the best of ``n_local_trials`` rows drawn with probability proportional to
    ``w · D(x)²`` (``D`` the distance to the nearest centre so far): the one that lowers the
    potential ``Σ w · D(x)²`` most.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        A sparse matrix (CSR, CSC or any SciPy format, converted to CSR once) is never
        densified; its distances are scikit-learn's, bit for bit, so the same
        ``random_state`` draws the same rows as ``sklearn.cluster.kmeans_plusplus``.
    n_clusters : int
        The number of centres, ``1 <= n_clusters <= n_samples``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; None means all ones.
    x_squared_norms : array-like of shape (n_samples,), default=None
        Accepted for scikit-learn's signature and checked for its shape; the squared row norms
        lloyd needs are computed in its compiled passes.
    random_state : int, RandomState instance or None, default=None
    n_local_trials : int, default=None
        Candidates per step; None means ``2 + int(ln(n_clusters))``.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        Rows of X, in X's dtype (float32 or float64).
    indices : ndarray of shape (n_clusters,)
        Their row numbers in X.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]])
    >>> centers, indices = kmeans_plusplus(X, 2, random_state=0)
    >>> sorted(int(i) // 2 for i in indices)
    [0, 1]
    """
    sparse = _is_sparse(X)
    if sparse:
        from lloyd import _sparse  # scipy: loaded only for sparse input

        X = _sparse.check_csr(X)
    else:
        X = check_data(X)
    n_clusters = check_n_clusters(n_clusters, X.shape[0], name="n_clusters")
    sample_weight = check_weights(sample_weight, X)
    if x_squared_norms is not None and np.shape(x_squared_norms) != (X.shape[0],):
        raise ValueError(
            f"The length of x_squared_norms {np.shape(x_squared_norms)} should be equal to the "
            f"length of n_samples ({X.shape[0]},): one squared norm per row of X.")
    if n_local_trials is not None:
        if isinstance(n_local_trials, bool) or not isinstance(n_local_trials, (int, np.integer)):
            raise ValueError(f"n_local_trials must be an integer >= 1, got {n_local_trials!r}.")
        if n_local_trials < 1:
            raise ValueError(f"n_local_trials={n_local_trials} must be >= 1.")
    random_state = check_random_state(random_state)
    if sparse:
        return _sparse.kmeans_plusplus(X, n_clusters, sample_weight, random_state,
                                       n_local_trials)
    return _kmeans_plusplus(X, n_clusters, sample_weight, random_state, n_local_trials)


def _is_sparse(X) -> bool:
    """Whether X is a SciPy sparse matrix or array, without importing scipy."""
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def afkmc2(X, n_clusters, *, sample_weight=None, n_local_trials=None,
           chain_length=AFKMC2_CHAIN, sample_size=None, random_state=None):
    """Greedy AFK-MC² seeding: k-means++ by Markov chains, for very many rows.

    k-means++ reads every row for every centre; this reads X once. The first centre is a row
    drawn with probability proportional to its weight, and ``D₁(x)`` is every row's distance
    to it. Rows are then proposed from ``q(x) ∝ w(x) · (D₁(x)² / Σ w·D₁² + 1 / Σ w)``. For each
    next centre, ``n_local_trials`` Metropolis–Hastings chains of ``chain_length`` proposals
    walk towards k-means++'s law ``w · D(x)²`` (AFK-MC², Bachem, Lucic, Hassani & Krause 2016),
    and of their last states the one that lowers the potential ``Σ w · D²`` most is kept, as
    greedy k-means++ keeps the best of its local trials, the potential estimated on
    ``sample_size`` rows drawn once from q (importance sampling). Only the proposals' and the
    sample's distances are computed: one pass over X, then about
    ``n_clusters² · n_local_trials · chain_length · n_features / 2`` operations for the chains
    and ``n_clusters · sample_size · (n_local_trials + 1) · n_features`` for the choices,
    whatever the number of rows.

    On the Gaussian blobs of ``benchmarks/bench_seeding.py`` its seeds and the fits from them
    are as good as scikit-learn's greedy k-means++ (within 1%, or within one standard error
    over the seeds) at 8 to 56 times its speed on one thread. With few rows it gains little:
    :func:`kmeans_plusplus` (the default, with scikit-learn's draws) is then as fast.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_clusters : int
        The number of centres, ``1 <= n_clusters <= n_samples``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; None means all ones. A row of weight 0 is never chosen.
    n_local_trials : int, default=None
        Chains (candidates) per centre; None means ``2 + int(ln(n_clusters))``, as for
        k-means++. 1 is the paper's AFK-MC², whose seeds are those of one-trial k-means++:
        worse than greedy's (on blobs the fits from them miss clusters).
    chain_length : int, default=20
        Proposals per chain (the paper's ``m``, 200 for one chain).
    sample_size : int, default=None
        Rows the candidates are compared on; None means 128 per cluster, at least 2000 (or
        an eighth of the rows, if fewer), at most 2·10⁶ values.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        Rows of X, in X's dtype (float32 or float64).
    indices : ndarray of shape (n_clusters,)
        Their row numbers in X.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]])
    >>> centers, indices = afkmc2(X, 2, random_state=0)
    >>> sorted(int(i) // 2 for i in indices)
    [0, 1]
    """
    X = check_data(X, finite=False)  # checked by _afkmc2's one pass over X
    n_clusters = check_n_clusters(n_clusters, X.shape[0], name="n_clusters")
    sample_weight = check_weights(sample_weight, X)
    options = {}
    for name, value in (("n_local_trials", n_local_trials), ("chain_length", chain_length),
                        ("sample_size", sample_size)):
        if value is None and name != "chain_length":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
        options[name] = int(value)
    return _afkmc2(X, n_clusters, sample_weight, check_random_state(random_state),
                   options["chain_length"], options.get("n_local_trials"),
                   options.get("sample_size"))


def _afkmc2(X, n_clusters, sample_weight, random_state, chain_length=AFKMC2_CHAIN,
            n_local_trials=None, n_sample=None):
    """AFK-MC² on validated input (C-contiguous float X, weights of its dtype, a RandomState);
    X's values are checked here, in the pass that measures the first centre's distances."""
    from lloyd._kernels import seeding as kernels

    n_samples = X.shape[0]
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    if n_sample is None:
        n_sample = afkmc2_sample_size(n_samples, X.shape[1], n_clusters)
    weights = sample_weight.astype(np.float64)
    total = weights.sum()
    indices = np.empty(n_clusters, dtype=np.intp)
    indices[0] = kernels.weighted_row(weights, total, random_state.random_sample())
    first_dist = np.empty(n_samples)
    block_pot = np.empty(layout.n_blocks(n_samples, 1, 1))
    kernels.init_closest(X, sample_weight, indices[0], first_dist, block_pot, True)
    potential = _ordered_sum(block_pot.reshape(-1, 1))[0]
    # The input check, from this pass: a NaN or an infinity in X makes a distance NaN or
    # infinite, and every distance AFK-MC² measures (a difference of rows, in float64) is at
    # most 4·max D₁². Only then is X scanned, for the error's message.
    if not np.isfinite(potential) or first_dist.max() > np.finfo(np.float64).max / 4:
        check_finite_scale(X)
        raise ValueError("The weighted distances of X overflow float64; rescale X or the "
                         "sample weights.")
    if n_clusters > 1:
        # q / w: half k-means++'s law after the first centre, half the weights (never 0, so
        # every row of positive weight can be proposed and the chain can reach it).
        ratio = 0.5 / total + (0.5 / potential) * first_dist if potential > 0 else \
            np.full(n_samples, 1.0 / total)
        cumulative = np.cumsum(weights * ratio)
        # side="right": the first row whose running sum exceeds the target, never a row of
        # weight 0 (its sum equals the one before it); a target rounded up to the total takes
        # the last row of positive weight.
        last = int(np.searchsorted(cumulative, cumulative[-1], side="left"))

        def draw(shape):
            targets = random_state.random_sample(shape) * cumulative[-1]
            return np.minimum(np.searchsorted(cumulative, targets, side="right"), last)

        shape = (n_clusters - 1, n_local_trials, chain_length)
        proposals = draw(shape)
        uniforms = random_state.random_sample(shape)
        # In row order: the sample is then read as a stream.
        rows = np.sort(draw(n_sample)) if n_local_trials > 1 else np.zeros(0, dtype=np.intp)
        kernels.afkmc2_steps(X, ratio, proposals, uniforms, X[rows], ratio[rows],
                             first_dist[rows], indices)
    return X[indices], indices


def _kmeans_plusplus(X, n_clusters, sample_weight, random_state, n_local_trials=None,
                     offset=None):
    """k-means++ on validated input (C-contiguous float X, weights of its dtype, a RandomState),
    on the rows of ``X − offset`` when ``offset`` (d,) of X's dtype is given: each row centred
    as it is read, with the roundings of a centred copy, which is never made. The centres
    returned are centred rows."""
    from lloyd._kernels import seeding as kernels
    from lloyd._kernels.lloyd import LOW_D_MAX

    n_samples, n_features = X.shape
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    # Blocks of at least SEEDING_BLOCK_ROWS rows: each step launches its kernels once per
    # block.
    n_blocks = min(layout.n_blocks(n_samples, n_local_trials, 1),
                   max(1, n_samples // SEEDING_BLOCK_ROWS))
    centers = np.empty((n_clusters, n_features), dtype=X.dtype)
    indices = np.full(n_clusters, -1, dtype=np.intp)

    weights64 = sample_weight.astype(np.float64)
    total = weights64.sum()
    if np.isfinite(total) and total > 0:
        # random_state.choice(n_samples, p=weights64 / total), the same draw and the same
        # arithmetic, without its checks and temporaries (12 of 100 ms at 10⁶ rows, k = 16).
        first = kernels.weighted_row(weights64, total, random_state.random_sample())
    else:  # let choice raise its error
        first = random_state.choice(n_samples, p=weights64 / total)

    def rows(i):
        return X[i] if offset is None else X[i] - offset

    centers[0] = rows(first)
    indices[0] = first
    closest = np.empty(n_samples)
    block_pot = np.empty(n_blocks)
    candidates = np.empty(n_local_trials, dtype=np.intp)
    block_pots = np.empty((n_blocks, n_local_trials))
    if n_features <= BLAS_SEEDING_MIN_FEATURES:
        kernels.init_closest(X, sample_weight, first, closest, block_pot, offset=offset)
        # One draw for every step gives the same numbers as one draw a step.
        uniforms = random_state.uniform(size=(n_clusters - 1, n_local_trials))
        kernels.plusplus_steps(X, sample_weight, closest, block_pot, uniforms,
                               n_features <= LOW_D_MAX, indices, candidates, block_pots,
                               np.empty(n_local_trials), offset=offset)
        centers[:] = rows(indices)
        return centers, indices

    # In high dimension the candidates' distances come from one matrix product (as in
    # scikit-learn), ‖x‖² − 2 x·c + ‖c‖²; the rest is fused in compiled passes. BLAS is pinned
    # to one thread: the compiled kernels' blocks already run in parallel. A row whose nearest
    # centre is far from every candidate (twice its distance) keeps its distance: it is
    # skipped, neither read nor multiplied (``product_potentials``).
    # The first centre's distances and the rows' squared norms come from one read of X.
    x_sq = np.empty(n_samples)
    kernels.first_distances(X, sample_weight, first, closest, x_sq, block_pot, offset=offset)
    products = np.empty((n_samples, n_local_trials), dtype=X.dtype)
    prune = n_features >= PRUNED_SEEDING_MIN_FEATURES
    nearest = np.zeros(n_samples if prune else 0, dtype=np.int32)
    gap = np.empty(n_clusters)
    slack = layout.rounding_tie(X)
    current_pot = _ordered_sum(block_pot)
    no_columns = np.empty((3, 0), dtype=X.dtype)  # sample_rows' low-d arguments, unused here
    with blas_single_thread():
        for c in range(1, n_clusters):
            targets = random_state.uniform(size=n_local_trials) * current_pot
            kernels.sample_rows(sample_weight, closest, block_pot, targets, candidates,
                                no_columns, -1)
            cand = rows(candidates)
            cand_t = np.ascontiguousarray(cand.T)
            cand_sq = x_sq[candidates]
            if prune:  # the centres so far are centres[:c], centred rows
                kernels.center_gaps(centers, np.arange(c, dtype=np.intp), c, cand_t, gap)
            kernels.product_potentials(X, cand, cand_t, x_sq, cand_sq, sample_weight, closest,
                                       nearest, gap, slack, prune, products, block_pots,
                                       offset)
            choice = int(np.argmin(_ordered_sum(block_pots)))
            kernels.product_add_center(products, choice, c, x_sq, cand_sq, sample_weight,
                                       closest, nearest, prune, block_pot)
            best = candidates[choice]
            current_pot = _ordered_sum(block_pot)
            centers[c] = rows(best)
            indices[c] = best
    return centers, indices


def _ordered_sum(partials):
    """Sum over the first axis, block by block in order (deterministic, unlike pairwise sums)."""
    total = np.zeros(partials.shape[1:])
    for row in partials:
        total += row
    return total


def init_centroids(X, n_clusters, init, random_state, sample_weight, offset=None):
    """Starting centres on validated X (a C-contiguous array of X's dtype, or a validated CSR
    matrix: ``lloyd._sparse.init_centroids``, never centred), centred by ``offset`` (d,) of
    X's dtype when given, as the kernels read it (X is never copied); the centres are then
    centred too.

    ``init`` is 'k-means++', 'afk-mc2', 'random' (distinct rows drawn with probability
    proportional to their weight), a callable ``init(X, n_clusters, random_state)`` (given the
    centred X, as scikit-learn gives it; its result is validated here) or a validated array
    (already centred); ``random_state`` a RandomState.
    """
    n_samples = X.shape[0]
    if _is_sparse(X):
        from lloyd import _sparse  # scipy: loaded only for sparse input

        return _sparse.init_centroids(X, n_clusters, init, random_state, sample_weight)
    if isinstance(init, str) and init == "k-means++":
        centers, _ = _kmeans_plusplus(X, n_clusters, sample_weight, random_state,
                                      offset=offset)
    elif isinstance(init, str) and init == "afk-mc2":
        # AFK-MC²'s chains do not centre rows as they read them yet: a centred copy of X.
        centers, _ = _afkmc2(X if offset is None else X - offset, n_clusters, sample_weight,
                             random_state)
    elif isinstance(init, str) and init == "random":
        w = sample_weight.astype(np.float64)
        seeds = random_state.choice(n_samples, size=n_clusters, replace=False, p=w / w.sum())
        centers = X[seeds] if offset is None else X[seeds] - offset
    elif callable(init):
        # scikit-learn hands a callable the centred X and reads its result as centred centres:
        # the same here, on a centred copy (a callable may read X in any way; only it copies).
        X_centred = X if offset is None else X - offset
        centers = init(X_centred, n_clusters, random_state=random_state)
        centers = check_init_array(centers, X_centred, n_clusters, name="init(X, ...) result")
    else:
        centers = init
    return np.ascontiguousarray(centers, dtype=X.dtype)
