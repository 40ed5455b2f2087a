"""k-means exactly as it is taught: assign each point, move each centroid, repeat.

Plain, vectorised numpy in float64: the specification the fast engine is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lloyd._validation import check_centroids, check_data, check_labels, check_n_clusters

__all__ = [
    "KMeansHistory",
    "compute_centroids",
    "compute_distortion",
    "find_closest_centroids",
    "kmeans_init_centroids",
    "run_kmeans",
]


def find_closest_centroids(X, centroids) -> np.ndarray:
    r"""Assign every example to its closest centroid (the *assignment step*).

    For each example :math:`x^{(i)}` the index of the nearest centroid is

    .. math:: c^{(i)} = \arg\min_j \lVert x^{(i)} - \mu_j \rVert^2 ,

    the squared Euclidean distance. When two centroids are exactly as close, the lower index wins.

    Parameters
    ----------
    X : array-like of shape (m, n)
        The examples, one per row.
    centroids : array-like of shape (K, n)
        The current centroids, one per row.

    Returns
    -------
    idx : ndarray of shape (m,), dtype intp
        ``idx[i]`` is the index in ``[0, K)`` of the centroid closest to ``X[i]``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [9.0, 9.0]])
    >>> find_closest_centroids(X, np.array([[0.0, 0.0], [10.0, 10.0]]))
    array([0, 0, 1])
    """
    X = check_data(X, dtype=(np.float64,))
    centroids = check_centroids(centroids, X.shape[1])
    return _find_closest_centroids(X, centroids)


def _find_closest_centroids(X, centroids):
    """Assignment step; assumes validated float64 input."""
    # One column of distances per centroid: memory m × K, never m × K × n.
    distances = np.empty((X.shape[0], centroids.shape[0]))
    for j, mu in enumerate(centroids):
        diff = X - mu
        distances[:, j] = np.einsum("ij,ij->i", diff, diff)
    # argmin returns the first minimum, so ties go to the lowest index.
    return np.argmin(distances, axis=1)


def compute_centroids(X, idx, K, previous_centroids=None) -> np.ndarray:
    r"""Move every centroid to the mean of the examples assigned to it (the *update step*).

    .. math:: \mu_k = \frac{1}{|C_k|} \sum_{i \in C_k} x^{(i)},
              \qquad C_k = \{ i : c^{(i)} = k \}

    A cluster with no examples has no mean. If ``previous_centroids`` is given, such a centroid
    stays where it was (this is what :func:`run_kmeans` does); otherwise a ``ValueError`` names
    the empty clusters. The result never holds NaN.

    Parameters
    ----------
    X : array-like of shape (m, n)
        The examples.
    idx : array-like of shape (m,)
        The cluster index of every example, each in ``[0, K)``.
    K : int
        The number of centroids.
    previous_centroids : array-like of shape (K, n), default=None
        Where the centroids were before this step; used only for empty clusters.

    Returns
    -------
    centroids : ndarray of shape (K, n)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 4.0]])
    >>> compute_centroids(X, np.array([0, 0, 1]), 2)
    array([[ 1.,  0.],
           [10.,  4.]])
    """
    X = check_data(X, dtype=(np.float64,))
    K = check_n_clusters(K, np.inf)
    idx = check_labels(idx, X.shape[0], K)
    if previous_centroids is not None:
        previous_centroids = check_centroids(
            previous_centroids, X.shape[1], name="previous_centroids", n_clusters=K
        )
    counts = np.bincount(idx, minlength=K)
    empty = np.flatnonzero(counts == 0)
    if empty.size and previous_centroids is None:
        raise ValueError(
            f"cluster(s) {empty.tolist()} have no examples assigned, so their mean is undefined. "
            "Pass previous_centroids to keep them where they were, or choose other initial "
            "centroids."
        )
    return _compute_centroids(X, idx, K, previous_centroids)


def _compute_centroids(X, idx, K, previous_centroids):
    """Update step; assumes validated input. Empty clusters keep their previous centroid."""
    counts = np.bincount(idx, minlength=K)
    sums = np.zeros((K, X.shape[1]))
    np.add.at(sums, idx, X)
    centroids = np.empty_like(sums)
    filled = counts > 0
    centroids[filled] = sums[filled] / counts[filled, None]
    if not filled.all():
        centroids[~filled] = previous_centroids[~filled]
    return centroids


def compute_distortion(X, idx, centroids) -> float:
    r"""The distortion (cost) :math:`J = \frac{1}{m}\sum_i \lVert x^{(i)} - \mu_{c^{(i)}}\rVert^2`.

    The mean squared distance of each example to the centroid it is assigned to. scikit-learn's
    ``inertia_`` is the same sum without the division by ``m``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [2.0, 0.0]])
    >>> compute_distortion(X, np.array([0, 0]), np.array([[1.0, 0.0]]))
    1.0
    """
    X = check_data(X, dtype=(np.float64,))
    centroids = check_centroids(centroids, X.shape[1])
    idx = check_labels(idx, X.shape[0], centroids.shape[0])
    return _compute_distortion(X, idx, centroids)


def _compute_distortion(X, idx, centroids):
    diff = X - centroids[idx]
    return float(np.einsum("ij,ij->", diff, diff) / X.shape[0])


def kmeans_init_centroids(X, K, random_state=None) -> np.ndarray:
    """Choose K distinct examples of X at random as the initial centroids.

    The first K entries of a random permutation of the rows, so no row is picked twice.

    Parameters
    ----------
    X : array-like of shape (m, n)
    K : int
        The number of centroids, ``1 <= K <= m``.
    random_state : int, numpy.random.Generator or None, default=None
        Seed or generator; the same seed gives the same centroids.

    Returns
    -------
    centroids : ndarray of shape (K, n)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(10.0).reshape(5, 2)
    >>> kmeans_init_centroids(X, 2, random_state=0).shape
    (2, 2)
    """
    X = check_data(X, dtype=(np.float64,))
    K = check_n_clusters(K, X.shape[0])
    rng = np.random.default_rng(random_state)
    randidx = rng.permutation(X.shape[0])
    return X[randidx[:K]].copy()


@dataclass(frozen=True)
class KMeansHistory:
    """Everything :func:`run_kmeans` did, iteration by iteration, for plots and lessons.

    Attributes
    ----------
    centroids : ndarray of shape (n_iter + 1, K, n)
        ``centroids[0]`` is the start, ``centroids[t]`` the centroids after ``t`` update steps.
    labels : ndarray of shape (n_iter + 1, m)
        ``labels[t]`` assigns every example to its closest centroid in ``centroids[t]``.
    distortion : ndarray of shape (n_iter + 1,)
        ``distortion[t]`` is the distortion of ``labels[t]`` with ``centroids[t]``;
        it never increases.
    """

    centroids: np.ndarray
    labels: np.ndarray
    distortion: np.ndarray

    @property
    def n_iter(self) -> int:
        """The number of update steps taken."""
        return self.centroids.shape[0] - 1


def run_kmeans(X, initial_centroids, max_iters=10, *, return_history=False):
    """Run k-means: alternate the assignment and update steps ``max_iters`` times.

    Each iteration assigns every example to its closest centroid
    (:func:`find_closest_centroids`), then moves every centroid to the mean of its examples
    (:func:`compute_centroids`; a centroid that loses all its examples stays where it was).
    After the last update, the examples are assigned once more, so the returned labels belong to
    the returned centroids, as scikit-learn's ``labels_`` do.

    Parameters
    ----------
    X : array-like of shape (m, n)
    initial_centroids : array-like of shape (K, n)
    max_iters : int, default=10
        The number of assign-and-update iterations; 0 only assigns.
    return_history : bool, default=False
        Also return a :class:`KMeansHistory` with every step.

    Returns
    -------
    centroids : ndarray of shape (K, n)
    idx : ndarray of shape (m,)
    history : KMeansHistory
        Only when ``return_history`` is true.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> centroids, idx = run_kmeans(X, np.array([[0.0], [1.0]]), max_iters=3)
    >>> centroids.ravel().tolist(), idx.tolist()
    ([0.5, 10.5], [0, 0, 1, 1])
    """
    X = check_data(X, dtype=(np.float64,))
    centroids = check_centroids(initial_centroids, X.shape[1], name="initial_centroids")
    K = check_n_clusters(centroids.shape[0], X.shape[0], name="number of initial_centroids")
    if isinstance(max_iters, bool) or not isinstance(max_iters, (int, np.integer)):
        raise ValueError(f"max_iters must be an integer >= 0, got {max_iters!r}.")
    if max_iters < 0:
        raise ValueError(f"max_iters={max_iters} must be >= 0.")

    all_centroids = [centroids]
    all_labels = []
    for _ in range(max_iters):
        idx = _find_closest_centroids(X, centroids)
        all_labels.append(idx)
        centroids = _compute_centroids(X, idx, K, centroids)
        all_centroids.append(centroids)
    idx = _find_closest_centroids(X, centroids)
    all_labels.append(idx)
    if not return_history:
        return centroids, idx
    history = KMeansHistory(
        centroids=np.stack(all_centroids),
        labels=np.stack(all_labels),
        distortion=np.array([
            _compute_distortion(X, lab, c)
            for lab, c in zip(all_labels, all_centroids, strict=True)
        ]),
    )
    return centroids, idx, history
