"""Spherical k-means: k-means for directions (text, embeddings), where the cosine is the measure.

Rows and centres lie on the unit sphere. lloyd's engine runs on the unit rows as it is, with one
step added after each update: the centres are projected back onto the sphere (``unit_centers``).
Sparse rows run on the sparse engine (``lloyd._sparse``) the same way, never densified.
"""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from lloyd import _sparse, distributed
from lloyd._engine import labels as nearest_labels
from lloyd._kernels.reductions import row_norms_sq
from lloyd._options import ALGORITHMS, AUTO
from lloyd._runs import fit_weighted
from lloyd._validation import (
    check_enough_rows,
    check_finite_scale,
    check_init_array,
    check_random_state,
    check_weights,
)
from lloyd.cluster import _BaseKMeans

__all__ = ["SphericalKMeans"]


# ---------------------------------------------------------------------- the unit sphere


def row_norms(X):
    """Euclidean norm of every row of validated X (n,), float64, in a fixed order."""
    squares = np.empty(X.shape[0])
    row_norms_sq(X, squares)
    return np.sqrt(squares)


def check_directions(norms, name="X", *, sparse=False):
    """Raise a ValueError naming the rows of length 0: they have no direction, so no cosine.
    ``sparse``: the fix shown is one for a SciPy sparse ``name``."""
    zero = np.flatnonzero(norms == 0)
    if zero.size:
        fix = (f"{name}[np.flatnonzero(abs({name}).sum(axis=1))]" if sparse
               else f"{name}[np.any({name} != 0, axis=1)]")
        raise ValueError(
            f"{name} has {zero.size} row(s) of zeros (the first is row {zero[0]}): a zero "
            "row has no direction, so its cosine to a centre is undefined and spherical k-means "
            f"cannot place it. Drop those rows first, e.g. {name} = {fix}."
        )


def has_unit_rows(norms, n_values, dtype):
    """Whether every row's squared norm is within ``n_values · eps`` of 1: as close as scaling
    in ``dtype`` could bring a sum of ``n_values`` squares (a dense row's n_features, a sparse
    row's stored values: an array (n,) then)."""
    return bool(np.all(np.abs(norms * norms - 1.0) <= n_values * np.finfo(dtype).eps))


def unit_rows(X, norms, *, copy):
    """The rows of validated X scaled to unit length, and whether X itself was scaled.

    When every row already has unit length (:func:`has_unit_rows`: normalised embeddings,
    TF-IDF rows), X itself is returned: no copy. Otherwise the rows are divided by ``norms``
    into a new array the size of X (``copy``) or in place (then X must be writeable, and
    :func:`restore_rows` undoes it).
    """
    if has_unit_rows(norms, X.shape[1], X.dtype):
        return X, False
    out = np.empty_like(X) if copy else X
    np.divide(X, norms[:, None], out=out, casting="same_kind")
    return out, not copy


#: Stored values scaled a slice at a time by :func:`unit_csr`: the slice's norms, repeated once
#: for each of its values, are the only temporary (512 KiB, or one row's where a row holds more),
#: whatever the size of X.
SLICE_VALUES = 1 << 16


def unit_csr(X, norms):
    """The rows of validated CSR X (no row of zeros) scaled to unit length; X is not modified.

    X itself when its rows already have unit length (:func:`has_unit_rows`, to each row's
    count of stored values); else a new CSR matrix of X's type sharing X's ``indices`` and
    ``indptr``, whose ``data`` is the one new array, of X's size and dtype: each value divided
    by its row's norm (in float64, then rounded, as :func:`unit_rows` divides dense rows).
    """
    counts = np.diff(X.indptr)
    if has_unit_rows(norms, counts, X.dtype):
        return X
    data = np.empty_like(X.data)
    # Slices of whole rows, each starting at the row that holds value SLICE_VALUES · i.
    firsts = np.searchsorted(X.indptr, np.arange(0, X.nnz, SLICE_VALUES), side="right") - 1
    bounds = np.append(np.unique(firsts), X.shape[0])
    for first, stop in itertools.pairwise(bounds):
        values = slice(X.indptr[first], X.indptr[stop])
        np.divide(X.data[values], np.repeat(norms[first:stop], counts[first:stop]),
                  out=data[values], casting="same_kind")
    return type(X)((data, X.indices, X.indptr), shape=X.shape)


def restore_rows(X, norms):
    """IN/OUT: X, scaled back by ``norms`` after :func:`unit_rows` scaled it in place (equal to
    the original to rounding)."""
    np.multiply(X, norms[:, None], out=X, casting="same_kind")


def unit_centers(centers, centers_new):
    """IN/OUT: ``centers_new`` (k, d), each row scaled to unit length: a cluster's mean direction
    from the mean of its unit rows (the engine's ``project`` step).

    A mean of length 0 (rows that cancel out, such as x and −x) has no direction: that cluster
    keeps its centre from ``centers``, as an empty one does.
    """
    norms = np.sqrt(np.einsum("ij,ij->i", centers_new, centers_new, dtype=np.float64))
    has_direction = norms > 0
    centers_new[has_direction] /= norms[has_direction, None]
    centers_new[~has_direction] = centers[~has_direction]


def unit_init(init, X, n_clusters, name="init"):
    """Validated initial centres (an array), scaled to unit length: only their directions count."""
    centers = check_init_array(init, X, n_clusters, name=name)
    norms = row_norms(centers)
    check_directions(norms, name=name)
    centers /= norms[:, None]
    return centers


def _unit_callable_init(init):
    """``init(X, n_clusters, random_state)`` whose centres are validated and scaled to unit
    length, so that the first assignment is already by the largest cosine."""

    def unit(X, n_clusters, random_state):
        centers = init(X, n_clusters, random_state=random_state)
        if _sparse.issparse(centers):
            centers = centers.toarray()
        return unit_init(centers, X, n_clusters, name="init(X, ...) result")

    return unit


def _check_in_memory(X, estimator):
    """A clear error for the inputs this estimator does not take: Dask collections."""
    if distributed.is_dask_collection(X):
        raise TypeError(
            f"lloyd.{estimator} runs in memory and does not take Dask collections; pass "
            "X.compute() if it fits, or cluster the normalised rows with lloyd.KMeans on Dask."
        )


# ---------------------------------------------------------------------- the estimator


class SphericalKMeans(_BaseKMeans):
    """Spherical k-means: clusters of directions, measured by the cosine (Dhillon & Modha 2001).

    For text (TF-IDF rows) and embeddings, where the angle between two rows matters and their
    length does not. Every row is scaled to unit length; each row joins the centre of largest
    cosine; each centre becomes the mean direction of its rows (their weighted mean, scaled to
    unit length). This minimises ``Σ w · (1 − cos(x, c))``. On unit rows the largest cosine is
    the nearest centre (``‖u − c‖² = 2 − 2 cos``), so lloyd's exact k-means engine runs
    unchanged, every algorithm with it, plus one projection of the centres onto the sphere per
    iteration. k-means++ seeds on the unit rows, where its distances are chord lengths. SciPy
    sparse rows (text) run the same way on the sparse engine, never densified.

    An estimator of its own, rather than a parameter of :class:`KMeans`, because the
    estimators' contracts differ: here ``transform`` gives cosine distances, ``inertia_`` and
    ``score`` the cosine objective, centres have unit length, rows of zeros are errors and the
    rows' lengths are ignored. A flag on KMeans would give the same attributes two meanings
    (with faiss's ``spherical=True`` the reported objective silently becomes a sum of inner
    products, which its documentation still calls the squared error: faiss issue #2466) and
    take KMeans away from scikit-learn's signature, whose drop-in it is. scikit-learn has
    neither yet (issue #31450 is open; a ``metric='cosine'`` and a ``SphericalKMeans`` pull
    request were both closed unmerged); spherecluster and ELKI give it a class of its own, R a
    function (``skmeans``).

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters, ``1 <= n_clusters <= n_samples``.
    init : {'k-means++', 'afk-mc2', 'random'}, callable or array-like of shape \
(n_clusters, n_features), default='k-means++'
        As for :class:`KMeans`, on the unit rows. An array (or a callable's result) is scaled
        to unit length: only the directions of the initial centres count. 'afk-mc2' does not
        take sparse X.
    n_init : 'auto' or int, default='auto'
        Runs from different starts; the one with the lowest inertia is kept. 'auto' is 1 for
        'k-means++', 'afk-mc2' or an array, 10 for 'random' or a callable.
    max_iter : int, default=300
        The most iterations of a run.
    tol : float, default=1e-4
        A run stops when the sum of squared centre shifts falls to ``tol`` times the mean
        variance of the features of the unit rows, or when no label changes.
    verbose : int or bool, default=0
        Print the inertia at every iteration when positive. The figure printed is the sum of
        weighted squared distances between unit rows and centres, ``2 · inertia_``.
    random_state : int, RandomState instance or None, default=None
        Makes seeding, and so the whole fit, repeatable.
    copy_x : bool, default=True
        X is never left modified. Rows already of unit length (to rounding) are used as they
        are, with no copy. Otherwise, when True, the unit rows are a copy the size of X; when
        False, X is scaled in place during the fit and scaled back afterwards (it may then
        differ from the original by rounding). Sparse X is never modified, whatever
        ``copy_x`` (as in scikit-learn's KMeans); see Notes.
    algorithm : {'auto', 'lloyd', 'elkan', 'hamerly', 'yinyang'}, default='auto'
        As for :class:`KMeans`: every algorithm gives the same result from the same start. On
        sparse X every choice runs the sparse Lloyd pass (``algorithm_`` is then 'lloyd'), as
        :class:`KMeans` does.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Unit-length centres (mean directions), in X's dtype.
    labels_ : ndarray of shape (n_samples,)
        The centre of largest cosine for every row.
    inertia_ : float
        ``Σ w · (1 − cos(x, c))`` over the rows and their centres: the weighted sum of cosine
        distances (scikit-learn's ``cosine_distances``), between 0 and 2 a row, chosen over the
        squared chord ``‖u − c‖² = 2 (1 − cos)`` for being in the units users ask for (R's
        skmeans reports the same criterion). It is computed from the chords, which keeps its
        accuracy when rows lie close to their centres.
    n_iter_ : int
        Iterations run by the kept run.
    algorithm_ : str
        The algorithm that ran ('auto' resolved).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string feature names.

    See Also
    --------
    KMeans : k-means in Euclidean distance.

    Notes
    -----
    Memory: the rows' norms (n float64) and, unless the rows already have unit length, the
    unit rows (a copy of X, or X itself scaled in place with ``copy_x=False``). Assigning raw
    rows with weights ``w / ‖x‖`` would need no copy (the largest ``x · c`` does not depend
    on ``‖x‖`` and ``Σ w · x / ‖x‖`` is the mean direction), but k-means++ and the relocation
    of empty clusters measure distances between rows, which needs them on the sphere.

    Sparse X (SciPy CSR; CSC and the other formats are converted to CSR once, as for
    :class:`KMeans`) is never densified nor modified. Rows already of unit length are used as
    they are; otherwise the unit rows are a new CSR matrix sharing X's column indices and row
    pointers, with one new array of values the size of ``X.data``. From the same start, the
    labels and centres are those of dense X (to rounding).

    Examples
    --------
    >>> import numpy as np
    >>> from lloyd import SphericalKMeans
    >>> X = np.array([[1.0, 0.1], [3.0, 0.2], [0.1, 1.0], [0.3, 4.0]])
    >>> skm = SphericalKMeans(n_clusters=2, random_state=0).fit(X)
    >>> bool(skm.labels_[0] == skm.labels_[1] != skm.labels_[2] == skm.labels_[3])
    True
    >>> np.linalg.norm(skm.cluster_centers_, axis=1).round(12).tolist()
    [1.0, 1.0]
    >>> skm.predict([[10.0, 0.5]]).tolist() == [skm.labels_[0]]
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
        """Compute the spherical k-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float64 and float32 are kept; other numeric types are converted to float64. A
            sparse matrix is converted to CSR once (no copy when it already is one). No row
            may be all zeros.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; None means all ones. A row's length does not weigh it.

        Returns
        -------
        self : SphericalKMeans
        """
        self._check_params()
        _check_in_memory(X, type(self).__name__)
        if _sparse.issparse(X):
            return self._fit_sparse(X, sample_weight)
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C", copy=False,
                          ensure_min_samples=1, ensure_all_finite=False)
        check_finite_scale(X)
        check_enough_rows(X.shape[0], self.n_clusters)
        sample_weight = check_weights(sample_weight, X)
        norms = row_norms(X)
        check_directions(norms)
        n_init = self._effective_n_init()
        init = self._unit_start(X)
        unit, scaled_in_place = unit_rows(X, norms,
                                          copy=self.copy_x or not X.flags.writeable)
        try:
            best, algorithm = fit_weighted(
                unit, sample_weight, self.n_clusters, init=init, n_init=n_init,
                max_iter=self.max_iter, tol=self.tol,
                random_state=check_random_state(self.random_state), algorithm=self.algorithm,
                verbose=self.verbose, project=unit_centers,
            )
        finally:
            if scaled_in_place:
                restore_rows(X, norms)
        return self._keep(best, algorithm)

    def _fit_sparse(self, X, sample_weight):
        """:meth:`fit` on a SciPy sparse matrix: the sparse engine (``lloyd._sparse``) on the
        unit rows (:func:`unit_csr`), with the centres projected onto the sphere."""
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                          ensure_min_samples=1, ensure_all_finite=False)
        X = _sparse.check_csr(X)
        check_enough_rows(X.shape[0], self.n_clusters)
        sample_weight = check_weights(sample_weight, X)
        norms = np.sqrt(_sparse.row_norms_sq(X))
        check_directions(norms, sparse=True)
        n_init = self._effective_n_init()
        init = self._unit_start(X)
        best = _sparse.fit(
            unit_csr(X, norms), sample_weight, self.n_clusters, init=init, n_init=n_init,
            max_iter=self.max_iter, tol=self.tol,
            random_state=check_random_state(self.random_state), verbose=self.verbose,
            project=unit_centers,
        )
        return self._keep(best, "lloyd")

    def _unit_start(self, X):
        """``init`` for validated X: a string as it is, an array or a callable's result scaled
        to unit length (:func:`unit_init`)."""
        if callable(self.init):
            return _unit_callable_init(self.init)
        if not isinstance(self.init, str):
            return unit_init(self.init, X, self.n_clusters)
        return self.init

    def _keep(self, best, algorithm):
        """Store the kept run (a ``_engine.Run`` on the unit rows) and the algorithm that ran."""
        self._warn_if_fewer_clusters(
            int(np.count_nonzero(np.bincount(best.labels, minlength=self.n_clusters))))
        self.cluster_centers_ = best.centers
        self._n_features_out = self.n_clusters
        self.labels_ = best.labels
        # The engine's inertia is Σ w·‖u − c‖², and ‖u − c‖² = 2 (1 − cos) on the sphere.
        self.inertia_ = float(best.inertia) / 2.0
        self.n_iter_ = best.n_iter
        self.algorithm_ = algorithm
        return self

    def _unit_test_rows(self, X):
        """Validated rows of X (n, d) of unit length, dense or CSR, for predict, transform
        and score."""
        check_is_fitted(self)
        _check_in_memory(X, type(self).__name__)
        X = self._check_test_data(X)
        if _sparse.issparse(X):
            norms = np.sqrt(_sparse.row_norms_sq(X))
            check_directions(norms, sparse=True)
            return unit_csr(X, norms)
        norms = row_norms(X)
        check_directions(norms)
        return unit_rows(X, norms, copy=True)[0]

    def _centers_as(self, unit):
        """The fitted centres in the dtype of the rows ``unit``."""
        return self.cluster_centers_.astype(unit.dtype, copy=False)

    def predict(self, X):
        """The index of the centre of largest cosine for every row of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            No row may be all zeros; the rows' lengths do not matter.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        unit = self._unit_test_rows(X)
        if _sparse.issparse(unit):
            return _sparse.labels(unit, self._centers_as(unit))
        return nearest_labels(unit, self._centers_as(unit))

    def transform(self, X):
        """Cosine distances ``1 − cos(x, c)`` of every row of X to every centre.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            No row may be all zeros.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
            Values from 0 (same direction) to 2 (opposite), in X's dtype.
        """
        return self._transform(self._unit_test_rows(X))

    def _transform(self, X):
        """Half the squared chords ``‖u − c‖²`` of the unit rows X (n, d), dense or CSR. Dense:
        the chords squared, accurate at near directions, where 1 − u·c would cancel. Sparse:
        the kernel's squared distances ``‖u‖² + ‖c‖² − 2 u·c`` as they are (their square roots
        squared again would only add rounding)."""
        if _sparse.issparse(X):
            chords = _sparse.distances(X, self.cluster_centers_, squared=True)
        else:
            chords = super()._transform(X)
            chords *= chords
        chords *= 0.5
        return chords

    def score(self, X, y=None, sample_weight=None):
        """The opposite of ``Σ w · (1 − cos(x, c))`` of X with the fitted centres (higher is
        better).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        unit = self._unit_test_rows(X)
        sample_weight = check_weights(sample_weight, unit)
        return -_sparse.labels_inertia(unit, sample_weight, self._centers_as(unit))[1] / 2.0
