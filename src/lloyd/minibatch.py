"""MiniBatchKMeans: k-means on random mini-batches, for data too large or too plentiful for KMeans.

Each step assigns a batch of rows with the Lloyd kernel and moves every centre to the running
mean of the rows it has received (learning rate 1/count), as in scikit-learn and Sculley (2010).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.utils.validation import validate_data

from lloyd import _sparse
from lloyd._kernels import layout, reductions
from lloyd._rows import ArrayRows
from lloyd._threads import blas_single_thread, threads_for
from lloyd._validation import (
    check_enough_rows,
    check_finite_scale,
    check_init_array,
    check_int,
    check_random_state,
    check_weights,
)
from lloyd.cluster import _BaseKMeans

__all__ = ["MiniBatchKMeans"]


class MiniBatchKMeans(_BaseKMeans):
    """Mini-batch k-means on compiled kernels; a drop-in for scikit-learn's ``MiniBatchKMeans``.

    Each step draws ``batch_size`` rows at random (with replacement, with probability
    proportional to their weight), assigns them to their nearest centres and moves each centre
    to the mean of every row it has received so far: its learning rate is 1/count. Centres
    whose count falls below ``reassignment_ratio`` times the largest are moved to random rows
    of the batch. It needs far fewer passes over the data than :class:`KMeans`, for a slightly
    higher inertia, and :meth:`partial_fit` learns from a stream of batches.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters, ``1 <= n_clusters <= n_samples``.
    init : {'k-means++', 'afk-mc2', 'random'}, callable or array-like of shape \
(n_clusters, n_features), default='k-means++'
        How the starting centres are chosen, on ``init_size`` random rows (see :class:`KMeans`).
    max_iter : int, default=100
        The most passes over the data: at most ``max_iter * n_samples // batch_size`` steps.
    batch_size : int, default=1024
        Rows per step (at most ``n_samples``).
    verbose : int, default=0
        Print the batch inertia at every step when positive.
    compute_labels : bool, default=True
        After fitting, compute ``labels_`` and ``inertia_`` on all of X (one more pass).
    random_state : int, RandomState instance or None, default=None
        Makes seeding, batch draws and reassignments, and so the whole fit, repeatable.
    tol : float, default=0.0
        Stop when the squared movement of the centres in one step falls to ``tol`` times the
        mean variance of the features; 0 disables this test.
    max_no_improvement : int or None, default=10
        Stop after this many steps without a new minimum of the smoothed (exponentially
        weighted) batch inertia; None disables this test.
    init_size : int, default=None
        Random rows the initialisation sees: default ``3 * batch_size``, raised to
        ``3 * n_clusters`` when that is smaller than n_clusters; at most ``n_samples``.
    n_init : 'auto' or int, default='auto'
        Starts tried; the one with the lowest inertia on ``init_size`` held-out random rows is
        kept and run (one run, unlike :class:`KMeans`). 'auto' is 1 for 'k-means++' or an array,
        3 for 'random' or a callable.
    reassignment_ratio : float, default=0.01
        Centres whose accumulated weight is below this fraction of the largest are moved to
        random rows (checked every ``10 * n_clusters`` rows, and whenever a centre has none).
        0 disables reassignment.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
        Nearest centre of every row of X (when ``compute_labels``; of the last batch after
        :meth:`partial_fit`).
    inertia_ : float
        Sum of weighted squared distances of the rows to their centres (when
        ``compute_labels``; otherwise an estimate from the smoothed batch inertia).
    n_iter_ : int
        Passes over the data, ``ceil(n_steps_ * batch_size / n_samples)``.
    n_steps_ : int
        Mini-batches processed.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string feature names.

    See Also
    --------
    KMeans : exact k-means; MiniBatchKMeans shares its ``predict``, ``transform`` and ``score``.

    Notes
    -----
    When all the weights are equal (or absent) the batches are drawn with
    ``random_state.randint``, so that a fit can stream a file (``lloyd cluster --minibatch``)
    and give the same centres as a fit on the loaded array; otherwise they are drawn like
    scikit-learn's, in proportion to the weights. Centre counts are kept in float64 (exact
    beyond 2**24 rows per centre, even for float32 data). Sums are merged in a fixed order: the
    result does not depend on the number of threads.

    Examples
    --------
    >>> import numpy as np
    >>> from lloyd import MiniBatchKMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> km = MiniBatchKMeans(n_clusters=2, batch_size=6, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.round().tolist())
    [[1.0, 2.0], [10.0, 2.0]]
    >>> km.predict([[0, 0], [12, 3]]).tolist() == [km.labels_[0], km.labels_[3]]
    True
    """

    _auto_n_init_random = 3

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        max_iter=100,
        batch_size=1024,
        verbose=0,
        compute_labels=True,
        random_state=None,
        tol=0.0,
        max_no_improvement=10,
        init_size=None,
        n_init="auto",
        reassignment_ratio=0.01,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.verbose = verbose
        self.compute_labels = compute_labels
        self.random_state = random_state
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.n_init = n_init
        self.reassignment_ratio = reassignment_ratio

    # ------------------------------------------------------------------ validation

    def _check_params(self):
        super()._check_params()
        check_int(self.batch_size, "batch_size", 1)
        if self.max_no_improvement is not None:
            check_int(self.max_no_improvement, "max_no_improvement", 0, extra="or None")
        if self.init_size is not None:
            check_int(self.init_size, "init_size", 1, extra="or None")
        if not isinstance(self.compute_labels, (bool, np.bool_)):
            raise ValueError(
                f"The 'compute_labels' parameter must be a bool, got {self.compute_labels!r}."
            )
        ratio = self.reassignment_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real) or not ratio >= 0:
            raise ValueError(
                f"The 'reassignment_ratio' parameter must be a float >= 0, got {ratio!r}."
            )

    def _effective_init_size(self, n_samples, batch_size):
        init_size = self.init_size
        if init_size is None:
            init_size = 3 * batch_size
            if init_size < self.n_clusters:
                init_size = 3 * self.n_clusters
        elif init_size < self.n_clusters:
            warnings.warn(
                f"init_size={init_size} should be larger than n_clusters={self.n_clusters}. "
                "Setting it to min(3*n_clusters, n_samples)",
                RuntimeWarning,
                stacklevel=3,
            )
            init_size = 3 * self.n_clusters
        # scikit-learn's private name for the resolved size (its own tests read it)
        self._init_size = min(init_size, n_samples)
        return self._init_size

    def _start(self, rows, weights_of, init_size, random_state):
        """Initial centres from ``init_size`` random rows (all the rows when there are no more).

        ``weights_of(indices, n_rows)`` gives the weights of the rows ``rows.take(indices)``.
        """
        init = self.init
        if not isinstance(init, str) and not callable(init):
            init = check_init_array(init, rows, self.n_clusters)
        n_samples = rows.shape[0]
        if init_size < n_samples:
            indices = random_state.randint(0, n_samples, init_size)
            X_init, w_init = rows.take(indices), weights_of(indices, init_size)
        else:
            X_init, w_init = rows.take(np.arange(n_samples)), weights_of(slice(None), n_samples)
        return self._init_centroids(X_init, init, random_state, w_init)

    # ------------------------------------------------------------------ fit

    def fit(self, X, y=None, sample_weight=None):
        """Compute the centres from random mini-batches of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float64 and float32 are kept; other numeric types are converted to float64. A
            sparse matrix (CSR; CSC and other formats are converted to CSR once) is never
            densified: batches are sparse rows.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; None means all ones. Rows are drawn in proportion to their
            weight (and the initialisation uses them, unless ``init`` is an array or callable).

        Returns
        -------
        self : MiniBatchKMeans
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C",
                          accept_sparse="csr", ensure_min_samples=1, ensure_all_finite=False)
        X = _sparse.check_csr(X) if _sparse.issparse(X) else check_finite_scale(X)
        sample_weight = check_weights(sample_weight, X)
        return self._fit_rows(_array_rows(X), sample_weight)

    def _fit_rows(self, rows, sample_weight=None, progress=None):
        """Fit on a row source: checks the parameters, assumes validated rows (finite,
        float32 or float64, C order; ``fit`` and ``lloyd.tables`` validate them).

        Parameters
        ----------
        rows : lloyd._rows.RowSource
            An ``ArrayRows`` or a ``lloyd.tables.NpyRows``.
        sample_weight : ndarray of shape (n_samples,) or None
            Validated weights; None means all ones (and ``rows`` need not fit in memory).
        progress : callable, default=None
            Called with the step number after each step (for a progress bar).

        Returns
        -------
        self : MiniBatchKMeans
        """
        self._check_params()
        n_samples, n_features = rows.shape
        check_enough_rows(n_samples, self.n_clusters)
        # What validate_data sets, for sources it never saw (it set the same from fit).
        self.n_features_in_ = n_features
        if not isinstance(rows, ArrayRows) and hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        random_state = check_random_state(self.random_state)
        batch_size = min(self.batch_size, n_samples)
        init_size = self._effective_init_size(n_samples, batch_size)
        n_init = self._effective_n_init()
        tol = rows.tolerance(self.tol) if self.tol > 0 else 0.0
        uniform = sample_weight is None or _all_equal(sample_weight)

        def weights_of(indices, n_rows):
            if sample_weight is None:
                return np.ones(n_rows, dtype=rows.dtype)
            return sample_weight[indices]

        with blas_single_thread(), threads_for(batch_size, self.n_clusters, n_features):
            # The start with the lowest inertia on held-out random rows is kept.
            valid_indices = random_state.randint(0, n_samples, init_size)
            X_valid = rows.take(valid_indices)
            w_valid = weights_of(valid_indices, init_size)
            best_inertia = None
            for i in range(n_init):
                if self.verbose:
                    print(f"Init {i + 1}/{n_init} with method {self.init}")
                centers = self._start(rows, weights_of, init_size, random_state)
                _, inertia = _sparse.labels_inertia(X_valid, w_valid, centers)
                if self.verbose:
                    print(f"Inertia for init {i + 1}/{n_init}: {inertia}")
                if best_inertia is None or inertia < best_inertia:
                    best_centers, best_inertia = centers, inertia
            del X_valid

            centers = best_centers.copy()
            centers_new = np.empty_like(centers)
            self._counts = np.zeros(self.n_clusters)
            self._n_since_last_reassign = 0
            convergence = _Convergence(self, n_samples, batch_size, tol)
            n_steps = (self.max_iter * n_samples) // batch_size
            unit_weights = np.ones(batch_size, dtype=rows.dtype)
            if not uniform:
                # What RandomState.choice(p=w / w.sum()) computes at every call, computed once.
                cdf = np.cumsum(sample_weight / np.sum(sample_weight), dtype=np.float64)
                cdf /= cdf[-1]
            for step in range(n_steps):
                if uniform:
                    indices = random_state.randint(0, n_samples, batch_size)
                else:
                    indices = cdf.searchsorted(random_state.random_sample(batch_size),
                                               side="right")
                # Sorted, a file is read front to back. Only rounding, and which rows a
                # reassignment picks (by position in the batch), depend on the order.
                indices.sort()
                # Rows are drawn in proportion to their weight, so they count once each.
                batch_inertia = _mini_batch_step(
                    rows.take(indices), unit_weights, centers, centers_new, self._counts,
                    random_state, self._random_reassign(batch_size), self.reassignment_ratio,
                    self.verbose,
                )
                squared_shift = float(np.sum((centers_new - centers) ** 2)) if tol > 0 else 0.0
                centers, centers_new = centers_new, centers
                if progress is not None:
                    progress(step)
                if convergence.done(step, n_steps, squared_shift, batch_inertia):
                    break

        self.cluster_centers_ = centers
        self._n_features_out = self.n_clusters
        self.n_steps_ = step + 1
        self.n_iter_ = int(np.ceil(self.n_steps_ * batch_size / n_samples))
        if self.compute_labels:
            labels, inertia = [], 0.0
            for start, chunk in rows.chunks():
                w = weights_of(slice(start, start + chunk.shape[0]), chunk.shape[0])
                chunk_labels, chunk_inertia = _sparse.labels_inertia(chunk, w, centers)
                labels.append(chunk_labels)
                inertia += chunk_inertia
            self.labels_ = np.concatenate(labels)
            self.inertia_ = inertia
        else:
            total_weight = n_samples if sample_weight is None else float(np.sum(sample_weight))
            self.inertia_ = convergence.smoothed_inertia() * total_weight
        return self

    def _random_reassign(self, n_rows):
        """Whether this step reassigns small centres: every 10 × n_clusters rows, or when one
        has never received a row."""
        self._n_since_last_reassign += n_rows
        if (self._counts == 0).any() or self._n_since_last_reassign >= 10 * self.n_clusters:
            self._n_since_last_reassign = 0
            return True
        return False

    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the centres with one mini-batch X (the first call also initialises them).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The first batch needs ``n_samples >= n_clusters``. A sparse batch is never
            densified.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; None means all ones.

        Returns
        -------
        self : MiniBatchKMeans
        """
        has_centers = hasattr(self, "cluster_centers_")
        if not has_centers:
            self._check_params()
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C",
                          accept_sparse="csr", reset=not has_centers, ensure_all_finite=False)
        if has_centers:
            X = X.astype(self.cluster_centers_.dtype, copy=False)
        X = _sparse.check_csr(X) if _sparse.issparse(X) else check_finite_scale(X)
        sample_weight = check_weights(sample_weight, X)
        if getattr(self, "_random_state", None) is None:
            self._random_state = check_random_state(self.random_state)
        self.n_steps_ = getattr(self, "n_steps_", 0)
        n_samples = X.shape[0]

        with blas_single_thread(), threads_for(n_samples, self.n_clusters, X.shape[1]):
            if not has_centers:
                check_enough_rows(n_samples, self.n_clusters)
                init_size = self._effective_init_size(n_samples, min(self.batch_size, n_samples))
                self.cluster_centers_ = self._start(
                    _array_rows(X), lambda indices, _: sample_weight[indices], init_size,
                    self._random_state,
                )
                self._counts = np.zeros(self.n_clusters)
                self._n_since_last_reassign = 0
            _mini_batch_step(
                X, sample_weight, self.cluster_centers_, self.cluster_centers_, self._counts,
                self._random_state, self._random_reassign(n_samples), self.reassignment_ratio,
                self.verbose,
            )
            if self.compute_labels:
                self.labels_, self.inertia_ = _sparse.labels_inertia(
                    X, sample_weight, self.cluster_centers_
                )
        self.n_steps_ += 1
        self._n_features_out = self.n_clusters
        return self


# ---------------------------------------------------------------------- helpers


def _array_rows(X):
    """The row source of X in memory, dense or sparse."""
    return _sparse.SparseRows(X) if _sparse.issparse(X) else ArrayRows(X)


def _all_equal(values):
    return bool(values.size == 0 or np.all(values == values[0]))


def _mini_batch_step(X, sample_weight, centers, centers_new, weight_sums, random_state,
                     random_reassign, reassignment_ratio, verbose):
    """One step on validated batch X: assign, move the centres, maybe reassign small ones.

    IN: X (b, d) dense or sparse (CSR), sample_weight (b,), centers (k, d). IN/OUT:
    weight_sums (k,) float64. OUT: centers_new (k, d) (may be ``centers`` itself). Returns the
    batch's inertia with the centres before the step. Runs with BLAS pinned to one thread (the
    caller's job).
    """
    from lloyd._kernels import minibatch as kernels
    from lloyd._kernels.lloyd import lloyd_pass

    n, d = X.shape
    k = centers.shape[0]
    if _sparse.issparse(X):
        inertia = _sparse.mini_batch_update(X, sample_weight, centers, centers_new, weight_sums)
    else:
        n_blocks = layout.n_blocks(n, k, d)
        labels = np.empty(n, dtype=np.int32)
        block_sums = np.empty((n_blocks, k, d))
        block_weights = np.empty((n_blocks, k))
        lloyd_pass(X, sample_weight, centers, labels, block_sums, block_weights, True)
        inertia = float(reductions.inertia(X, sample_weight, centers, labels, n_blocks))
        kernels.update_centers(block_sums, block_weights, centers, centers_new, weight_sums)

    if random_reassign and reassignment_ratio > 0:
        to_reassign = weight_sums < reassignment_ratio * weight_sums.max()
        # At most half the batch becomes new centres; the heaviest centre always stays.
        keep = np.argsort(weight_sums)[max(0, min(int(0.5 * n), k - 1)):]
        if to_reassign.sum() > 0.5 * n or to_reassign.all():
            to_reassign[keep] = False
        n_reassigns = int(to_reassign.sum())
        if n_reassigns:
            new_rows = random_state.choice(n, replace=False, size=n_reassigns)
            if verbose:
                print(f"[MiniBatchKMeans] Reassigning {n_reassigns} cluster centers.")
            centers_new[to_reassign] = _sparse.rows_dense(X, new_rows)
        # A reassigned centre starts with the smallest count left, not zero, so that it is not
        # reassigned again at once (scikit-learn's rule; it also lowers its learning rate).
        weight_sums[to_reassign] = np.min(weight_sums[~to_reassign])
    return inertia


class _Convergence:
    """Early stopping on the smoothed batch inertia or the centres' movement (scikit-learn's)."""

    def __init__(self, estimator, n_samples, batch_size, tol):
        self.verbose = estimator.verbose
        self.max_no_improvement = estimator.max_no_improvement
        self.n_samples = n_samples
        self.batch_size = batch_size
        self.tol = tol
        self.ewa_inertia = None
        self.ewa_inertia_min = None
        self.no_improvement = 0
        self.last_inertia = None

    def smoothed_inertia(self):
        """Mean squared distance per row, smoothed over the last steps."""
        return self.ewa_inertia if self.ewa_inertia is not None else self.last_inertia

    def done(self, step, n_steps, squared_shift, batch_inertia):
        """Whether to stop after ``step`` (counted from 0)."""
        batch_inertia /= self.batch_size  # comparable whatever the batch size
        self.last_inertia = batch_inertia
        step += 1
        if step == 1:  # the first inertia is the start's
            if self.verbose:
                print(f"Minibatch step {step}/{n_steps}: mean batch inertia: {batch_inertia}")
            return False
        if self.ewa_inertia is None:
            self.ewa_inertia = batch_inertia
        else:
            alpha = min(1.0, self.batch_size * 2.0 / (self.n_samples + 1))
            self.ewa_inertia = self.ewa_inertia * (1 - alpha) + batch_inertia * alpha
        if self.verbose:
            print(f"Minibatch step {step}/{n_steps}: mean batch inertia: {batch_inertia}, "
                  f"ewa inertia: {self.ewa_inertia}")
        if self.tol > 0.0 and squared_shift <= self.tol:
            if self.verbose:
                print(f"Converged (small centers change) at step {step}/{n_steps}")
            return True
        if self.ewa_inertia_min is None or self.ewa_inertia < self.ewa_inertia_min:
            self.no_improvement = 0
            self.ewa_inertia_min = self.ewa_inertia
        else:
            self.no_improvement += 1
        if self.max_no_improvement is not None and self.no_improvement >= self.max_no_improvement:
            if self.verbose:
                print(f"Converged (lack of improvement in inertia) at step {step}/{n_steps}")
            return True
        return False
