"""KMeans: a scikit-learn estimator on lloyd's compiled kernels.

This module validates, chooses the algorithm, seeds, restarts and checks convergence; every loop
over points lives in ``lloyd._kernels``.
"""

from __future__ import annotations

import numbers
import warnings
from typing import NamedTuple

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from lloyd._validation import check_finite_scale
from lloyd.seeding import _afkmc2, _kmeans_plusplus, check_weights

__all__ = ["KMeans"]

_ALGORITHMS = ("lloyd", "elkan", "hamerly", "yinyang", "auto")
#: The named ways to choose the starting centres.
_INITS = ("k-means++", "afk-mc2", "random")


class _Run(NamedTuple):
    """One k-means run from one start."""

    labels: np.ndarray
    inertia: float
    centers: np.ndarray
    n_iter: int


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """K-means clustering, exact, on compiled kernels; a drop-in for scikit-learn's ``KMeans``.

    From the same initial centres it returns the same labels and centres as
    ``sklearn.cluster.KMeans`` and as :func:`lloyd.run_kmeans` (to floating-point rounding);
    with the same integer ``random_state`` it draws the same initial centres in most cases.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters, ``1 <= n_clusters <= n_samples``.
    init : {'k-means++', 'afk-mc2', 'random'}, callable or array-like of shape \
(n_clusters, n_features), default='k-means++'
        'k-means++': greedy k-means++ (:func:`lloyd.kmeans_plusplus`); 'afk-mc2': greedy
        k-means++ by Markov chains (:func:`lloyd.afkmc2`), which reads X once instead of once
        per centre, for very many rows; 'random': ``n_clusters`` distinct rows drawn with
        probability proportional to their weight; an array: these centres; a callable
        ``init(X, n_clusters, random_state)`` returning them.
    n_init : 'auto' or int, default='auto'
        Runs from different starts; the one with the lowest inertia is kept. 'auto' is 1 for
        'k-means++', 'afk-mc2' or an array, 10 for 'random' or a callable.
    max_iter : int, default=300
        The most iterations of a run.
    tol : float, default=1e-4
        A run stops when the sum of squared centre shifts falls to ``tol`` times the mean
        variance of the features, or when no label changes (strict convergence).
    verbose : int, default=0
        Print the inertia at every iteration when positive.
    random_state : int, RandomState instance or None, default=None
        Makes seeding, and so the whole fit, repeatable.
    copy_x : bool, default=True
        When False and X is already C-ordered float, X is centred in place during the fit and
        restored afterwards (it may then differ from the original by rounding).
    algorithm : {'auto', 'lloyd', 'elkan', 'hamerly', 'yinyang'}, default='auto'
        'lloyd' is the classic iteration; 'elkan' skips distance computations with the
        triangle inequality (k lower bounds per row: n × k memory); 'hamerly' does so with one
        upper and one lower bound per row (n memory), and wins at low dimension; 'yinyang'
        keeps one lower bound per group of about ten centres (n × k / 10 memory), for many
        clusters. 'auto' chooses from the shape of the data (:func:`choose_algorithm`). All
        give the same result from the same start.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Sum of weighted squared distances of the rows to their centres.
    n_iter_ : int
        Iterations run by the kept run.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string feature names.

    Notes
    -----
    Empty clusters are moved to the rows farthest from their current centres, as scikit-learn
    does, so no centre is ever NaN. Sums are accumulated in float64 over fixed blocks merged in
    order: the result does not depend on the number of threads.

    Examples
    --------
    >>> import numpy as np
    >>> from lloyd import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist())
    [[1.0, 2.0], [10.0, 2.0]]
    >>> km.predict([[0, 0], [12, 3]]).tolist() == [km.labels_[0], km.labels_[3]]
    True
    """

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
        copy_x=True,
        algorithm="auto",
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm

    # ------------------------------------------------------------------ validation

    def _check_params(self):
        _check_int(self.n_clusters, "n_clusters", 1)
        _check_int(self.max_iter, "max_iter", 1)
        if not (isinstance(self.n_init, str) and self.n_init == "auto"):
            _check_int(self.n_init, "n_init", 1, extra="or 'auto'")
        if isinstance(self.tol, bool) or not isinstance(self.tol, numbers.Real):
            raise ValueError(f"The 'tol' parameter must be a float >= 0, got {self.tol!r}.")
        if not self.tol >= 0:
            raise ValueError(f"The 'tol' parameter must be a float >= 0, got {self.tol!r}.")
        if self.algorithm not in _ALGORITHMS:
            raise ValueError(
                f"The 'algorithm' parameter must be one of {_ALGORITHMS}, got {self.algorithm!r}."
            )
        init = self.init
        if (init not in _INITS) if isinstance(init, str) else (
                not callable(init) and not hasattr(init, "__len__")):
            raise ValueError(
                "The 'init' parameter must be 'k-means++', 'afk-mc2', 'random', a callable or "
                f"an array of shape (n_clusters, n_features), got {init!r}."
            )
        if isinstance(self.verbose, bool) or not isinstance(self.verbose, numbers.Integral):
            raise ValueError(f"The 'verbose' parameter must be an int >= 0, got {self.verbose!r}.")

    def _check_test_data(self, X):
        _reject_sparse(X)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32], order="C",
                          ensure_all_finite=False)
        return check_finite_scale(X)

    # ------------------------------------------------------------------ fit

    def fit(self, X, y=None, sample_weight=None):
        """Compute the k-means clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            float64 and float32 are kept; other numeric types are converted to float64.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; None means all ones.

        Returns
        -------
        self : KMeans
        """
        from lloyd.distributed import is_dask_collection

        if is_dask_collection(X):
            from lloyd.distributed import fit as fit_distributed

            return fit_distributed(self, X, sample_weight)
        self._check_params()
        _reject_sparse(X)
        X = validate_data(
            self, X, dtype=[np.float64, np.float32], order="C", copy=self.copy_x,
            ensure_min_samples=1, ensure_all_finite=False,
        )
        check_finite_scale(X)
        if not self.copy_x and not X.flags.writeable:
            X = X.copy()  # read-only input (e.g. a memmap) cannot be centred in place
        n_samples, n_features = X.shape
        if n_samples < self.n_clusters:
            raise ValueError(
                f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}: there cannot "
                "be more clusters than rows. Lower n_clusters."
            )
        sample_weight = check_weights(sample_weight, X)
        random_state = check_random_state(self.random_state)
        n_init = self._effective_n_init()
        # One compiled pass for the means and one for the variances (np.var makes temporaries
        # the size of X: 1.6 s at 60000 × 784 float64 on this project's machine).
        from lloyd._kernels import common

        mean, squares = common.column_moments(
            X, common.n_blocks(n_samples, 1, n_features), self.tol != 0)
        tol = _tolerance(X, self.tol, squares)
        algorithm = self._choose_algorithm(n_samples, n_features, X.dtype)

        init = self.init
        init_is_array = not isinstance(init, str) and not callable(init)
        if init_is_array:
            init = _check_init_array(init, X, self.n_clusters)

        # Centre X for more accurate distances, as scikit-learn does; undo it afterwards.
        X_mean = mean.astype(X.dtype)
        X -= X_mean
        if init_is_array:
            init -= X_mean

        try:
            best = None
            with _blas_single_thread():
                for _ in range(n_init):
                    centers_init = self._init_centroids(X, init, random_state, sample_weight)
                    if self.verbose:
                        print("Initialization complete")
                    run = _single_run(
                        algorithm, X, sample_weight, centers_init, self.max_iter, tol,
                        self.verbose, getattr(self, "_iteration_callback", None),
                        getattr(self, "_relaxation", 1.0),
                    )
                    if best is None or (
                        run.inertia < best.inertia
                        and not _is_same_clustering(run.labels, best.labels, self.n_clusters)
                    ):
                        best = run
        finally:
            if not self.copy_x:
                X += X_mean
        centers = best.centers + X_mean

        distinct = int(np.count_nonzero(np.bincount(best.labels, minlength=self.n_clusters)))
        if distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than n_clusters "
                f"({self.n_clusters}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.cluster_centers_ = centers
        self._n_features_out = self.n_clusters
        self.labels_ = best.labels
        self.inertia_ = float(best.inertia)
        self.n_iter_ = best.n_iter
        self.algorithm_ = algorithm
        return self

    #: What n_init='auto' means for a 'random' or callable init (MiniBatchKMeans: 3).
    _auto_n_init_random = 10

    def _effective_n_init(self):
        init_is_array = not isinstance(self.init, str) and not callable(self.init)
        if self.n_init == "auto":
            n_init = (1 if init_is_array or self.init in ("k-means++", "afk-mc2")
                      else self._auto_n_init_random)
        else:
            n_init = int(self.n_init)
        if init_is_array and n_init != 1:
            warnings.warn(
                "Explicit initial center position passed: performing only one init in "
                f"{type(self).__name__} instead of n_init={n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            n_init = 1
        return n_init

    def _choose_algorithm(self, n_samples, n_features, dtype):
        if self.algorithm != "auto":
            return self.algorithm
        return choose_algorithm(n_samples, n_features, self.n_clusters, dtype)

    def _init_centroids(self, X, init, random_state, sample_weight):
        n_samples = X.shape[0]
        if isinstance(init, str) and init == "k-means++":
            centers, _ = _kmeans_plusplus(X, self.n_clusters, sample_weight, random_state)
        elif isinstance(init, str) and init == "afk-mc2":
            centers, _ = _afkmc2(X, self.n_clusters, sample_weight, random_state)
        elif isinstance(init, str) and init == "random":
            w = sample_weight.astype(np.float64)
            seeds = random_state.choice(
                n_samples, size=self.n_clusters, replace=False, p=w / w.sum()
            )
            centers = X[seeds]
        elif callable(init):
            centers = init(X, self.n_clusters, random_state=random_state)
            centers = _check_init_array(centers, X, self.n_clusters, name="init(X, ...) result")
        else:
            centers = init
        return np.ascontiguousarray(centers, dtype=X.dtype)

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_``: the cluster of every row of X."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return the distances of every row of X to every centre."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    # ------------------------------------------------------------------ use

    def predict(self, X):
        """The index of the nearest centre for every row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        from lloyd.distributed import is_dask_collection

        check_is_fitted(self)
        if is_dask_collection(X):
            from lloyd.distributed import predict

            return predict(self, X)
        X = self._check_test_data(X)
        return _labels(X, self.cluster_centers_.astype(X.dtype, copy=False))

    def transform(self, X):
        """Distances of every row of X to every centre (an n_samples × n_clusters array).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
        """
        from lloyd.distributed import is_dask_collection

        check_is_fitted(self)
        if is_dask_collection(X):
            from lloyd.distributed import transform

            return transform(self, X)
        return self._transform(self._check_test_data(X))

    def _transform(self, X):
        from lloyd._kernels.common import all_distances

        out = np.empty((X.shape[0], self.n_clusters), dtype=X.dtype)
        all_distances(X, self.cluster_centers_.astype(X.dtype, copy=False), out)
        return out

    def score(self, X, y=None, sample_weight=None):
        """The opposite of the inertia of X with the fitted centres (higher is better)."""
        from lloyd._kernels import common

        check_is_fitted(self)
        X = self._check_test_data(X)
        sample_weight = check_weights(sample_weight, X)
        centers = self.cluster_centers_.astype(X.dtype, copy=False)
        labels = _labels(X, centers)
        blocks = common.n_blocks(X.shape[0], 1, 1)
        return -float(common.inertia(X, sample_weight, centers, labels, blocks))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


# ---------------------------------------------------------------------- helpers


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
    """The algorithm 'auto' runs for data of this shape (see the README's table).

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


def _check_int(value, name, minimum, extra=""):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"The '{name}' parameter must be an int >= {minimum}{' ' + extra if extra else ''}, "
            f"got {value!r}."
        )
    if value < minimum:
        raise ValueError(
            f"The '{name}' parameter must be an int >= {minimum}{' ' + extra if extra else ''}, "
            f"got {value!r}."
        )


def _reject_sparse(X):
    if hasattr(X, "tocsr") and hasattr(X, "nnz"):
        raise TypeError(
            "lloyd.KMeans does not support sparse input yet; convert it with X.toarray() if it "
            "fits in memory."
        )


def _check_init_array(init, X, n_clusters, name="init"):
    from sklearn.utils import check_array

    init = check_array(init, dtype=X.dtype, copy=True, order="C", input_name=name,
                       ensure_all_finite=False)
    check_finite_scale(init, name=name)
    if init.shape[0] != n_clusters:
        raise ValueError(
            f"The shape of the initial centers {init.shape} does not match the number of "
            f"clusters n_clusters={n_clusters}."
        )
    if init.shape[1] != X.shape[1]:
        raise ValueError(
            f"The shape of the initial centers {init.shape} does not match the number of "
            f"features of the data {X.shape[1]}."
        )
    return init


def _tolerance(X, tol, squares=None):
    """tol relative to the data: tol × the mean of the features' variances (float64), from
    ``squares`` when given: the sums of squared deviations from the features' means."""
    if tol == 0:
        return 0.0
    if squares is None:
        from lloyd._kernels import common

        n, d = X.shape
        squares = common.column_moments(X, common.n_blocks(n, 1, d), True)[1]
    return float(np.mean(squares / X.shape[0]) * tol)


def _is_same_clustering(labels1, labels2, n_clusters):
    """True when two labelings are the same partition up to a permutation of the labels."""
    # Any one row of each cluster of labels1 names its partner; the rest must agree with it.
    mapping = np.full(n_clusters, -1, dtype=np.intp)
    mapping[labels1] = labels2
    return bool(np.array_equal(mapping[labels1], labels2))


class _blas_single_thread:
    """Pin BLAS to one thread while the parallel kernels run (no oversubscription)."""

    #: Finding the loaded libraries costs 1.6 ms a call (a fit enters this two or three
    #: times); they are all loaded once scikit-learn (imported by this module) is, so the
    #: controller is made once and reused: a limit through it costs 16 µs.
    _controller = None

    def __enter__(self):
        if _blas_single_thread._controller is None:
            from threadpoolctl import ThreadpoolController

            _blas_single_thread._controller = ThreadpoolController()
        self._limits = _blas_single_thread._controller.limit(limits=1, user_api="blas")
        return self

    def __exit__(self, *exc):
        self._limits.restore_original_limits()
        return False


def _labels(X, centers):
    """Nearest-centre labels of validated X (no centre update)."""
    from lloyd._kernels import common
    from lloyd._kernels.lloyd import lloyd_pass

    n, d = X.shape
    k = centers.shape[0]
    labels = np.empty(n, dtype=np.int32)
    n_blocks = common.n_blocks(n, k, d)
    dummy_sums = np.empty((n_blocks, 0, 0))
    dummy_weights = np.empty((n_blocks, 0))
    weights = np.ones(0, dtype=X.dtype)
    with _blas_single_thread():
        lloyd_pass(X, weights, np.ascontiguousarray(centers), labels, dummy_sums, dummy_weights,
                   False)
    return labels


def _single_run(algorithm, X, sample_weight, centers_init, max_iter, tol, verbose,
                progress=None, relax=1.0):
    """One run; ``progress()``, when given, is called after every iteration (progress bars:
    ``lloyd cluster`` sets it through the estimator's private ``_iteration_callback``);
    ``relax`` over-relaxes the steps (see ``_iterate``; the estimator's private
    ``_relaxation``, which the colour quantizer sets)."""
    run = {"elkan": _kmeans_single_elkan, "hamerly": _kmeans_single_hamerly,
           "yinyang": _kmeans_single_yinyang}.get(algorithm, _kmeans_single_lloyd)
    return run(X, sample_weight, centers_init, max_iter, tol, verbose, progress, relax)


def _update_centers(X, sample_weight, centers, centers_new, labels, sums, weights, empty,
                    shift):
    """New centres from the clusters' sums and weights (IN/OUT), relocating the ``empty``
    clusters first. Returns whether any was relocated (then sums and weights are no longer
    those of ``labels``)."""
    from lloyd._kernels import common

    if empty.size:
        _relocate_empty_clusters(X, sample_weight, centers, labels, sums, weights, empty)
    common.average_centers(sums, weights, centers, centers_new)
    common.center_shift(centers, centers_new, shift)
    return bool(empty.size)


def _relocate_empty_clusters(X, sample_weight, centers, labels, sums, weights, empty):
    """Move each empty cluster to one of the rows farthest from their centres (IN/OUT: sums,
    weights). The farthest row goes to the first empty cluster, and so on; ties by row order."""
    from lloyd._kernels.common import distances_to_assigned

    distances = np.empty(X.shape[0], dtype=X.dtype)
    distances_to_assigned(X, centers, labels, distances)
    far = np.argsort(-distances, kind="stable")[: empty.size]
    for new_cluster, row in zip(empty, far):
        w = float(sample_weight[row])
        old_cluster = labels[row]
        sums[old_cluster] -= X[row] * w
        weights[old_cluster] -= w
        sums[new_cluster] = X[row] * w
        weights[new_cluster] = w


def _iterate(X, sample_weight, centers_init, labels, max_iter, tol, verbose, assign, moved,
             progress=None, incremental=False, relax=1.0):
    """The convergence loop every algorithm shares, on validated, centred X.

    ``assign(centers, labels, block_sums, block_weights, block_counts, mode)`` labels every row
    for ``centers`` (IN/OUT ``labels``), returns how many labels changed (or None: then they
    are compared with a copy of the last ones here) and reports what ``mode`` asks for
    (``common.LABELS_ONLY``, ``FULL``: per-block sums and weights, or ``CHANGES``);
    ``moved(centers, centers_new, shift)`` lets an algorithm loosen its bounds after the
    centres moved. Stops on strict convergence (no label changed) or when the squared centre
    shift falls to ``tol``; then labels are made consistent with the final centres.

    ``incremental``: ``assign`` can report ``CHANGES`` (what the rows that changed cluster
    moved); the clusters' totals are then kept here and updated by those changes, with a full
    pass first and after any relocation. Used only when every weight is positive, so that a
    cluster is empty exactly when its row count is 0.

    ``relax`` > 1 over-relaxes Lloyd's step: from the second iteration on, each centre moves
    ``relax`` times the way to its cluster's mean (successive over-relaxation of the
    fixed-point iteration). The step that meets the stopping rule, and any step with a
    relocation, is a plain one, so a converged run ends on its clusters' means: a k-means fixed
    point, though not the one Lloyd's plain steps would reach, so only the colour quantizer
    uses it (1.8 on 8 photographs' palettes at K = 16 / 64 / 256: 23% / 35% / 26% fewer
    iterations, mean PSNR +0.003 / +0.006 / +0.005 dB).
    """
    from lloyd._kernels import common

    n, d = X.shape
    k = centers_init.shape[0]
    n_blocks = common.n_blocks(n, k, d)
    block_sums = np.empty((n_blocks, k, d))
    block_weights = np.empty((n_blocks, k))
    block_counts = np.empty((n_blocks, k), dtype=np.int64)
    incremental = incremental and n > 0 and float(np.min(sample_weight)) > 0
    # The clusters' sums, weights and row counts; with ``incremental`` they carry over from
    # pass to pass while ``totals_match_labels``.
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    counts = np.zeros(k, dtype=np.int64)
    change_sums = np.empty((k, d))
    change_weights = np.empty(k)
    totals_match_labels = False
    centers = centers_init.copy()
    centers_new = np.empty_like(centers)
    labels_old = None  # a copy of the last labels, for an ``assign`` that does not count
    shift = np.empty(k, dtype=X.dtype)
    shift_relaxed = np.empty(k, dtype=X.dtype)
    strict_convergence = False
    for i in range(max_iter):
        if incremental and totals_match_labels:
            n_changed = assign(centers, labels, block_sums, block_weights, block_counts,
                               common.CHANGES)
            common.merge_blocks(block_sums, block_weights, change_sums, change_weights)
            sums += change_sums
            weights += change_weights
            counts += block_counts.sum(axis=0)
            gone = counts == 0  # exactly empty: no rounding left behind
            sums[gone] = 0.0
            weights[gone] = 0.0
            empty = np.flatnonzero(gone)
        else:
            n_changed = assign(centers, labels, block_sums, block_weights, block_counts,
                               common.FULL)
            common.merge_blocks(block_sums, block_weights, sums, weights)
            if incremental:
                counts[:] = np.bincount(labels, minlength=k)
                empty = np.flatnonzero(counts == 0)
            else:
                empty = np.flatnonzero(weights == 0)
        # A relocation edits sums and weights, so they are no longer those of ``labels``: the
        # next pass is a full one.
        relocated = _update_centers(X, sample_weight, centers, centers_new, labels, sums,
                                    weights, empty, shift)
        totals_match_labels = not relocated
        if n_changed is None:
            same = labels_old is not None and np.array_equal(labels, labels_old)
        else:
            same = n_changed == 0
        shift_total = float(np.dot(shift, shift))
        if relax != 1.0 and i > 0 and not (relocated or same or shift_total <= tol):
            centers_new += (relax - 1.0) * (centers_new - centers)
            common.center_shift(centers, centers_new, shift_relaxed)
            moved(centers, centers_new, shift_relaxed)
        else:
            moved(centers, centers_new, shift)
        if progress is not None:
            progress()
        if verbose:
            inertia = common.inertia(X, sample_weight, centers, labels, n_blocks)
            print(f"Iteration {i}, inertia {inertia}.")
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
        if n_changed is None:
            labels_old = labels.copy()
    if not strict_convergence:
        assign(centers, labels, block_sums, block_weights, block_counts, common.LABELS_ONLY)
    inertia = common.inertia(X, sample_weight, centers, labels, n_blocks)
    return _Run(labels, inertia, centers, i + 1)


def _kmeans_single_lloyd(X, sample_weight, centers_init, max_iter, tol, verbose=0,
                          progress=None, relax=1.0):
    """One run of Lloyd's algorithm from ``centers_init`` on validated, centred X."""
    from lloyd._kernels import common
    from lloyd._kernels.lloyd import lloyd_pass

    def assign(centers, labels, block_sums, block_weights, block_counts, mode):
        return lloyd_pass(X, sample_weight, centers, labels, block_sums, block_weights,
                          mode != common.LABELS_ONLY)

    labels = np.full(X.shape[0], -1, dtype=np.int32)
    def moved(centers, centers_new, shift):
        """Lloyd keeps no bounds: nothing to loosen."""

    return _iterate(X, sample_weight, centers_init, labels, max_iter, tol, verbose, assign,
                    moved, progress, relax=relax)


def _kmeans_single_elkan(X, sample_weight, centers_init, max_iter, tol, verbose=0,
                          progress=None, relax=1.0):
    """One run of Elkan's algorithm from ``centers_init`` on validated, centred X."""
    from lloyd._kernels import elkan

    n = X.shape[0]
    k = centers_init.shape[0]
    half_dist = np.empty((k, k), dtype=X.dtype)
    next_half = np.empty(k, dtype=X.dtype)
    labels = np.full(n, -1, dtype=np.int32)
    upper = np.empty(n, dtype=X.dtype)
    lower = np.empty((n, k), dtype=X.dtype)
    margin = _bound_margin(X, centers_init, np.finfo(X.dtype).eps)
    elkan.half_distances(centers_init, half_dist, next_half)
    elkan.init_bounds(X, centers_init, half_dist, margin, labels, upper, lower)

    def assign(centers, labels, block_sums, block_weights, block_counts, mode):
        elkan.elkan_pass(X, sample_weight, centers, half_dist, next_half, margin, labels, upper,
                         lower, block_sums, block_weights, block_counts, mode)

    def moved(centers, centers_new, shift):
        elkan.shift_bounds(labels, shift, margin, upper, lower)
        elkan.half_distances(centers_new, half_dist, next_half)

    return _iterate(X, sample_weight, centers_init, labels, max_iter, tol, verbose, assign,
                    moved, progress, incremental=True, relax=relax)


def _kmeans_single_hamerly(X, sample_weight, centers_init, max_iter, tol, verbose=0,
                          progress=None, relax=1.0):
    """One run of Hamerly's algorithm from ``centers_init`` on validated, centred X."""
    from lloyd._kernels import hamerly

    n = X.shape[0]
    k = centers_init.shape[0]
    labels = np.zeros(n, dtype=np.int32)
    upper = np.full(n, np.inf)  # ∞: not measured yet, so the first pass measures every row
    lower = np.zeros(n)
    half_min = np.empty(k)
    shift64 = np.zeros(k)  # how far each centre moved since the bounds were last valid
    margin = _bound_margin(X, centers_init)
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
                                       block_counts, mode)
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
                                       nbr_slack)
        # The first pass starts from placeholder labels (zeros): its count means nothing.
        return changed if n_passes > 1 else None

    def moved(centers, centers_new, shift):
        hamerly.center_moves(centers, centers_new, shift64)

    # Both passes can report only the rows that changed cluster: then the rows whose bounds held
    # are read no further than their bounds.
    return _iterate(X, sample_weight, centers_init, labels, max_iter, tol, verbose, assign,
                    moved, progress, incremental=True, relax=relax)


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


def _kmeans_single_yinyang(X, sample_weight, centers_init, max_iter, tol, verbose=0,
                           progress=None, relax=1.0):
    """One run of Yinyang k-means from ``centers_init`` on validated, centred X."""
    from lloyd._kernels import common, hamerly, yinyang

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
    margin = _bound_margin(X, centers_init)

    def assign(centers, labels, block_sums, block_weights, block_counts, mode):
        yinyang.yinyang_pass(X, sample_weight, centers, order, position, group_start, group_of,
                             shift64, group_shift, margin, labels, upper, lower, block_sums,
                             block_weights, mode != common.LABELS_ONLY)

    def moved(centers, centers_new, shift):
        hamerly.center_moves(centers, centers_new, shift64)
        yinyang.group_moves(shift64, group_start, order, group_shift)

    return _iterate(X, sample_weight, centers_init, labels, max_iter, tol, verbose, assign,
                    moved, progress, relax=relax)


def _center_groups(centers, n_groups, n_iter=5):
    """Group of each centre (intp, groups numbered 0.. without gaps): a few Lloyd iterations on
    the centres from evenly spaced ones, as Yinyang prescribes; deterministic."""
    from lloyd.steps import run_kmeans

    c = centers.astype(np.float64)
    start = c[np.linspace(0, c.shape[0] - 1, n_groups).astype(np.intp)]
    _, group_of = run_kmeans(c, start, max_iters=n_iter)
    return np.unique(group_of, return_inverse=True)[1].reshape(-1).astype(np.intp)


def _bound_margin(X, centers, eps=float(np.finfo(np.float64).eps)):  # noqa: B008
    """Absolute slack for the distance bounds: well above the rounding of distances between
    rows and centres stored with machine epsilon ``eps`` (every centre is a mean of rows, a
    row or an initial centre)."""
    from lloyd._kernels.common import row_norms_sq

    row_sq = np.empty(X.shape[0])
    row_norms_sq(X, row_sq)
    row_norm = np.sqrt(float(np.max(row_sq)))
    center_norm = np.sqrt(float(np.max(np.einsum("ij,ij->i", centers, centers,
                                                  dtype=np.float64))))
    return 8.0 * (X.shape[1] + 4) * eps * (row_norm + center_norm)
