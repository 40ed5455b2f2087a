"""KMeans: a scikit-learn estimator on lloyd's engine.

The estimators validate their parameters and input, then hand validated arrays to the engine
(``lloyd._runs``, ``lloyd._engine``) or, for Dask collections, to ``lloyd.distributed``.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from lloyd import _sparse, distributed
from lloyd._engine import choose_algorithm
from lloyd._engine import labels as nearest_labels
from lloyd._kernels.reductions import all_distances
from lloyd._options import ALGORITHMS, AUTO, INITS
from lloyd._runs import fit_weighted
from lloyd._validation import (
    KMEANS_N_INIT_RANDOM,
    check_enough_rows,
    check_finite_scale,
    check_init_array,
    check_int,
    check_random_state,
    check_weights,
    resolve_n_init,
)
from lloyd.seeding import init_centroids

__all__ = ["KMeans", "choose_algorithm", "k_means"]


class _BaseKMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """What KMeans and MiniBatchKMeans share: parameter checks, starts, predict, transform and
    score (scikit-learn's ``_BaseKMeans``)."""

    #: The values ``algorithm`` may take (None: the estimator has no such parameter).
    _algorithms = None
    #: What n_init='auto' means for a 'random' or callable init.
    _auto_n_init_random = KMEANS_N_INIT_RANDOM

    # ------------------------------------------------------------------ validation

    def _check_params(self):
        check_int(self.n_clusters, "n_clusters", 1)
        check_int(self.max_iter, "max_iter", 1)
        if not (isinstance(self.n_init, str) and self.n_init == "auto"):
            check_int(self.n_init, "n_init", 1, extra="or 'auto'")
        if isinstance(self.tol, bool) or not isinstance(self.tol, numbers.Real):
            raise ValueError(f"The 'tol' parameter must be a float >= 0, got {self.tol!r}.")
        if not self.tol >= 0:
            raise ValueError(f"The 'tol' parameter must be a float >= 0, got {self.tol!r}.")
        if self._algorithms is not None and self.algorithm not in self._algorithms:
            raise ValueError(
                f"The 'algorithm' parameter must be one of {self._algorithms}, got "
                f"{self.algorithm!r}."
            )
        init = self.init
        if (init not in INITS) if isinstance(init, str) else (
                not callable(init) and not hasattr(init, "__len__")):
            raise ValueError(
                "The 'init' parameter must be 'k-means++', 'afk-mc2', 'random', a callable or "
                f"an array of shape (n_clusters, n_features), got {init!r}."
            )
        if not isinstance(self.verbose, numbers.Integral) or self.verbose < 0:  # bools too
            raise ValueError(
                f"The 'verbose' parameter must be an int >= 0 or a bool, got {self.verbose!r}.")

    def _check_test_data(self, X):
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32], order="C",
                          accept_sparse="csr", ensure_all_finite=False)
        return _sparse.check_csr(X) if _sparse.issparse(X) else check_finite_scale(X)

    def _effective_n_init(self):
        init_is_array = not isinstance(self.init, str) and not callable(self.init)
        n_init = resolve_n_init(self.init, self.n_init, self._auto_n_init_random)
        if init_is_array and n_init != 1:
            warnings.warn(
                "Explicit initial center position passed: performing only one init in "
                f"{type(self).__name__} instead of n_init={n_init}.",
                RuntimeWarning,
                stacklevel=4,  # the user's call of fit
            )
            n_init = 1
        # scikit-learn's private name for the resolved count; its own tests of n_init='auto'
        # read it, and code written against scikit-learn may too.
        self._n_init = n_init
        return n_init

    def _init_centroids(self, X, init, random_state, sample_weight, *, x_squared_norms=None,
                        init_size=None, n_centroids=None):
        """Starting centres for validated X (``seeding.init_centroids``), with scikit-learn's
        private keywords (its own tests call them): ``x_squared_norms`` is accepted and unused
        (the kernels compute what they need), ``init_size`` draws that many random rows to seed
        on (all of them when None or larger), ``n_centroids`` overrides ``n_clusters``."""
        n_samples = X.shape[0]
        if init_size is not None and init_size < n_samples:
            rows = random_state.randint(0, n_samples, init_size)
            X, sample_weight = X[rows], sample_weight[rows]
        n_centroids = self.n_clusters if n_centroids is None else n_centroids
        return init_centroids(X, n_centroids, init, random_state,
                              np.asarray(sample_weight, dtype=X.dtype))

    def _warn_if_fewer_clusters(self, n_distinct):
        if n_distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({n_distinct}) found smaller than n_clusters "
                f"({self.n_clusters}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=4,  # the user's call of fit
            )

    # ------------------------------------------------------------------ use

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_``: the cluster of every row of X."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return the distances of every row of X to every centre."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def predict(self, X):
        """The index of the nearest centre for every row of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        if distributed.is_dask_collection(X):
            return distributed.predict(self.cluster_centers_, self.n_features_in_, X)
        X = self._check_test_data(X)
        if _sparse.issparse(X):
            return _sparse.labels(X, self.cluster_centers_)
        return nearest_labels(X, self.cluster_centers_.astype(X.dtype, copy=False))

    def transform(self, X):
        """Distances of every row of X to every centre (an n_samples × n_clusters array).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
        """
        check_is_fitted(self)
        if distributed.is_dask_collection(X):
            return distributed.transform(self.cluster_centers_, self.n_features_in_, X)
        return self._transform(self._check_test_data(X))

    def _transform(self, X):
        if _sparse.issparse(X):
            return _sparse.distances(X, self.cluster_centers_)
        out = np.empty((X.shape[0], self.n_clusters), dtype=X.dtype)
        all_distances(X, self.cluster_centers_.astype(X.dtype, copy=False), out)
        return out

    def score(self, X, y=None, sample_weight=None):
        """The opposite of the inertia of X with the fitted centres (higher is better)."""
        check_is_fitted(self)
        X = self._check_test_data(X)
        sample_weight = check_weights(sample_weight, X)
        centers = self.cluster_centers_.astype(X.dtype, copy=False)
        return -_sparse.labels_inertia(X, sample_weight, centers)[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class KMeans(_BaseKMeans):
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
    verbose : int or bool, default=0
        Print the inertia at every iteration when positive (True is 1).
    random_state : int, RandomState instance or None, default=None
        Makes seeding, and so the whole fit, repeatable.
    copy_x : bool, default=True
        Accepted for scikit-learn's signature; it changes nothing: X is never modified nor
        copied (when already C-ordered float32 or float64). The kernels centre each row as
        they read it, with the roundings of a centred copy, so no copy is needed.
    algorithm : {'auto', 'lloyd', 'elkan', 'hamerly', 'yinyang'}, default='auto'
        'lloyd' is the classic iteration; 'elkan' skips distance computations with the
        triangle inequality (k lower bounds per row: n × k memory); 'hamerly' does so with one
        upper and one lower bound per row (n memory), and wins at low dimension; 'yinyang'
        keeps one lower bound per group of about ten centres (n × k / 10 memory), for many
        clusters. 'auto' chooses from the shape of the data (:func:`choose_algorithm`). All
        give the same result from the same start. On sparse X every choice runs the sparse
        Lloyd pass (``algorithm_`` is then 'lloyd'), with the same result (see Notes).

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

    Sparse X (SciPy CSR; CSC and other formats are converted to CSR once, as scikit-learn
    does) is never densified nor centred; from the same start its labels and centres are
    scikit-learn's (float64 rows are scored as its sparse pass scores them, float32 rows in
    float32 with near-ties re-scored in float64). Elkan's, Hamerly's and Yinyang's bounds
    skip almost nothing on text-like data (its distances to the centres are all close to
    ‖x‖² + ‖c‖²), so their sparse versions would only add memory: every algorithm runs the
    sparse Lloyd pass, without a warning, as its result is the same.

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

    _algorithms = (*ALGORITHMS, AUTO)

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

    def fit(self, X, y=None, sample_weight=None):
        """Compute the k-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float64 and float32 are kept; other numeric types are converted to float64. A
            sparse matrix is converted to CSR once (no copy when it already is one).
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; None means all ones.

        Returns
        -------
        self : KMeans
        """
        if distributed.is_dask_collection(X):
            return self._fit_dask(X, sample_weight)
        if _sparse.issparse(X):
            return self._fit_sparse(X, sample_weight)
        # A shim until lloyd.tables passes its progress bar to _fit: remove with that change.
        return self._fit(X, sample_weight)

    def _fit(self, X, sample_weight=None, *, progress=None):
        """:meth:`fit` on an in-memory X; ``progress()``, when given, is called after every
        iteration of every run (``lloyd cluster``'s progress bar)."""
        self._check_params()
        X = validate_data(
            self, X, dtype=[np.float64, np.float32], order="C", ensure_min_samples=1,
            ensure_all_finite=False,
        )  # X's values are checked by fit_weighted, in its first pass over X
        check_enough_rows(X.shape[0], self.n_clusters)
        sample_weight = check_weights(sample_weight, X)
        random_state = check_random_state(self.random_state)
        n_init = self._effective_n_init()
        init = self.init
        if not isinstance(init, str) and not callable(init):
            init = check_init_array(init, X, self.n_clusters)
        algorithm = self.algorithm
        if algorithm == "elkan" and self.n_clusters == 1:
            warnings.warn(
                "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' "
                "instead.",  # scikit-learn's words: code that filters them keeps working
                RuntimeWarning,
                stacklevel=3,  # the user's call of fit
            )
            algorithm = "lloyd"
        best, algorithm = fit_weighted(
            X, sample_weight, self.n_clusters, init=init, n_init=n_init,
            max_iter=self.max_iter, tol=self.tol, random_state=random_state,
            algorithm=algorithm, verbose=self.verbose,
            progress=progress,
        )
        self._warn_if_fewer_clusters(
            int(np.count_nonzero(np.bincount(best.labels, minlength=self.n_clusters))))
        return self._keep(best, algorithm)

    def _keep(self, best, algorithm):
        """Store the kept run (a ``_engine.Run``) and the algorithm that made it."""
        self.cluster_centers_ = best.centers
        self._n_features_out = self.n_clusters
        self.labels_ = best.labels
        self.inertia_ = float(best.inertia)
        self.n_iter_ = best.n_iter
        self.algorithm_ = algorithm
        return self

    def _fit_sparse(self, X, sample_weight):
        """:meth:`fit` on a SciPy sparse matrix (``lloyd._sparse``): no copy of a CSR X."""
        self._check_params()
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                          ensure_min_samples=1, ensure_all_finite=False)
        X = _sparse.check_csr(X)
        check_enough_rows(X.shape[0], self.n_clusters)
        sample_weight = check_weights(sample_weight, X)
        init = self.init
        if not isinstance(init, str) and not callable(init):
            init = check_init_array(init, X, self.n_clusters)
        best = _sparse.fit(
            X, sample_weight, self.n_clusters, init=init, n_init=self._effective_n_init(),
            max_iter=self.max_iter, tol=self.tol, random_state=self.random_state,
            verbose=self.verbose,
        )
        self._warn_if_fewer_clusters(
            int(np.count_nonzero(np.bincount(best.labels, minlength=self.n_clusters))))
        return self._keep(best, "lloyd")

    def _fit_dask(self, X, sample_weight):
        """:meth:`fit` on a Dask array or DataFrame (``lloyd.distributed``)."""
        self._check_params()
        if isinstance(self.init, str) and self.init == "afk-mc2":
            raise ValueError("init='afk-mc2' is not supported on Dask arrays; 'k-means++' runs "
                             "k-means|| there, which also reads the data a few times only.")
        if callable(self.init):
            raise ValueError("a callable init is not supported on Dask arrays; pass an array.")
        fitted = distributed.fit(
            X, sample_weight, self.n_clusters, init=self.init, n_init=self._effective_n_init(),
            max_iter=self.max_iter, tol=self.tol, verbose=self.verbose,
            random_state=check_random_state(self.random_state),
        )
        self.cluster_centers_ = fitted.centers
        self.inertia_ = fitted.inertia
        self.n_iter_ = fitted.n_iter
        self.n_features_in_ = fitted.n_features
        if fitted.feature_names is not None:
            self.feature_names_in_ = fitted.feature_names
        self._n_features_out = self.n_clusters
        self.algorithm_ = "lloyd"
        self.labels_ = fitted.labels
        self._warn_if_fewer_clusters(fitted.n_distinct)
        return self


def k_means(X, n_clusters, *, sample_weight=None, init="k-means++", n_init="auto",
            max_iter=300, verbose=False, tol=1e-4, random_state=None, copy_x=True,
            algorithm="lloyd", return_n_iter=False):
    """k-means clustering as a function: scikit-learn's ``sklearn.cluster.k_means``.

    Fits :class:`KMeans` with these parameters (``algorithm`` defaults to 'lloyd', as
    scikit-learn's function does) and returns what it found.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_clusters : int
    sample_weight : array-like of shape (n_samples,), default=None
    init, n_init, max_iter, verbose, tol, random_state, copy_x, algorithm
        As for :class:`KMeans`.
    return_n_iter : bool, default=False
        Also return the number of iterations of the best run.

    Returns
    -------
    centroid : ndarray of shape (n_clusters, n_features)
    label : ndarray of shape (n_samples,)
    inertia : float
    best_n_iter : int
        Only when ``return_n_iter``.

    Examples
    --------
    >>> import numpy as np
    >>> from lloyd.cluster import k_means
    >>> X = np.array([[1.0, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> centroid, label, inertia = k_means(X, n_clusters=2, n_init="auto", random_state=0)
    >>> sorted(centroid.tolist())
    [[1.0, 2.0], [10.0, 2.0]]
    >>> float(inertia)
    16.0
    """
    est = KMeans(n_clusters=n_clusters, init=init, n_init=n_init, max_iter=max_iter,
                 verbose=verbose, tol=tol, random_state=random_state, copy_x=copy_x,
                 algorithm=algorithm).fit(X, sample_weight=sample_weight)
    if return_n_iter:
        return est.cluster_centers_, est.labels_, est.inertia_, est.n_iter_
    return est.cluster_centers_, est.labels_, est.inertia_
