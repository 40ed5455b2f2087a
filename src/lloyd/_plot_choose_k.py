"""The figures for choosing K: distortion or inertia against K (the elbow), and the silhouette.

Part of :mod:`lloyd.plot`, where every figure is reached; matplotlib is imported inside the
functions. The numbers against K are measured once, by :func:`lloyd._elbow.inertia_by_k`.
"""

from __future__ import annotations

import numbers

import numpy as np

from lloyd._elbow import inertia_by_k
from lloyd._plot_base import check_X, cluster_colors, new_axes


def _best_of_random_starts(X, K, *, n_init, max_iters, rng):
    """Cluster X into K groups: the lowest distortion over ``n_init`` random starts.

    The elbow's only contact with the clustering, on lloyd's engine. Assumes validated float64 X.
    Returns (centroids, labels, distortion).
    """
    from lloyd.cluster import KMeans

    seed = int(rng.integers(2**31 - 1))
    km = KMeans(K, init="random", n_init=n_init, max_iter=max_iters, tol=0,
                random_state=seed).fit(X)
    return km.cluster_centers_, km.labels_, km.inertia_ / X.shape[0]


def plot_elbow(X, k_range=range(1, 11), *, n_init=5, max_iters=30, random_state=0, ax=None,
               title=None):
    """Distortion against the number of clusters K, to look for an *elbow*.

    The distortion always falls as K grows (K = m gives 0); the K after which it falls much
    more slowly is a reasonable choice. For each K, :class:`lloyd.KMeans` runs from ``n_init``
    random starts (distinct rows of X) and the lowest distortion is kept.

    Parameters
    ----------
    X : array-like of shape (m, n)
    k_range : iterable of int, default=range(1, 11)
        The values of K to try, each in ``[1, m]``.
    n_init : int, default=5
        Random starts per K.
    max_iters : int, default=30
        Iterations per run.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the random starts.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    title : str, default=None
        Default: "Elbow method: distortion against K".

    Returns
    -------
    ax : matplotlib Axes
        One line; its data are K and the best distortion for that K.

    Examples
    --------
    >>> import lloyd
    >>> from lloyd.plot import plot_elbow
    >>> X, _ = lloyd.load_sample_2d()
    >>> ax = plot_elbow(X, range(1, 6))
    >>> ax.lines[0].get_xdata().tolist()
    [1, 2, 3, 4, 5]
    """
    from lloyd._validation import check_n_clusters

    X = check_X(X)
    try:
        ks = [int(k) if isinstance(k, numbers.Integral) and not isinstance(k, bool) else k
              for k in k_range]
    except TypeError:
        raise ValueError(f"k_range must be an iterable of integers, got {k_range!r}.") from None
    if not ks:
        raise ValueError(f"k_range must hold at least one value of K, got {k_range!r}.")
    for k in ks:
        check_n_clusters(k, X.shape[0], name="every K in k_range")
    for name, value, low in (("n_init", n_init, 1), ("max_iters", max_iters, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    rng = np.random.default_rng(random_state)

    def best(k):
        centroids, _, distortion = _best_of_random_starts(X, k, n_init=n_init,
                                                          max_iters=max_iters, rng=rng)
        return distortion, centroids

    _, ax = new_axes(ax)
    _draw_against_k(ax, ks, inertia_by_k(best, ks).inertias,
                    ylabel=f"distortion J (best of {n_init} random starts)",
                    title=title if title is not None else "Elbow method: distortion against K")
    return ax


def _draw_against_k(ax, k_values, values, *, ylabel, title):
    """One line of ``values`` against K, on integer ticks: every figure against K draws so."""
    from matplotlib.ticker import MaxNLocator

    k_values = list(k_values)
    ax.plot(k_values, values, "-o", color="C0", ms=5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    # Every K on the axis, even where a value is NaN (no silhouette for K = 1), so that figures
    # side by side line up.
    if k_values:
        low, high = min(k_values), max(k_values)
        pad = 0.05 * max(high - low, 1)
        ax.set_xlim(low - pad, high + pad)
    ax.set_xlabel("number of clusters K")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)


def plot_silhouette(X, labels, *, ax=None, title=None):
    r"""The silhouette of every example, grouped by cluster, and their mean.

    The silhouette of example i is :math:`s(i) = (b_i - a_i) / \max(a_i, b_i)`, where
    :math:`a_i` is its mean distance to the other examples of its cluster and :math:`b_i` its
    mean distance to the examples of the nearest other cluster: near 1, well inside its cluster;
    near 0, on a border; negative, probably in the wrong cluster. Computed with scikit-learn's
    ``silhouette_samples`` and ``silhouette_score`` (time and memory grow as m²).

    Parameters
    ----------
    X : array-like of shape (m, n)
    labels : array-like of shape (m,)
        The cluster of each example; between 2 and ``m - 1`` distinct values.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    title : str, default=None
        Default: the number of clusters and the mean silhouette.

    Returns
    -------
    ax : matplotlib Axes
        One filled band per cluster (in ``ax.collections``), labelled by its cluster, and one
        dashed line, the mean.

    Examples
    --------
    >>> import lloyd
    >>> from lloyd.plot import plot_silhouette
    >>> X, _ = lloyd.load_sample_2d()
    >>> _, labels = lloyd.run_kmeans(X, [[3, 3], [6, 2], [8, 5]])
    >>> len(plot_silhouette(X, labels).collections)
    3
    """
    from sklearn.metrics import silhouette_samples, silhouette_score

    X = check_X(X)
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != X.shape[0]:
        raise ValueError(
            f"labels must have shape ({X.shape[0]},), one label per row of X, "
            f"got shape {labels.shape}."
        )
    clusters = np.unique(labels)
    if not 2 <= clusters.size <= X.shape[0] - 1:
        raise ValueError(
            f"labels has {clusters.size} distinct clusters; the silhouette needs between 2 and "
            f"n_samples - 1 = {X.shape[0] - 1}."
        )
    values = silhouette_samples(X, labels)
    score = silhouette_score(X, labels)
    colors = cluster_colors(clusters.size)
    _, ax = new_axes(ax)
    gap = max(2, X.shape[0] // 50)
    y = gap
    for i, k in enumerate(clusters):
        s = np.sort(values[labels == k])
        ax.fill_betweenx(np.arange(y, y + s.size), 0, s, color=colors[i], alpha=0.85,
                         edgecolor="none")
        ax.text(-0.02, y + s.size / 2, f"cluster {k}", ha="right", va="center",
                fontsize="small")
        y += s.size + gap
    # Headroom above the bands for the label of the mean, so it covers no band.
    top = y + 3 * gap
    ax.axvline(score, color="black", linestyle="--", lw=1.2, label="mean silhouette")
    ax.text(score, top - gap, f" mean {score:.3f}", ha="left", va="top", fontsize="small")
    ax.set_xlim(min(-0.25, float(values.min()) - 0.05), 1.0)
    ax.set_ylim(0, top)
    ax.set_yticks([])
    ax.set_xlabel("silhouette coefficient s(i)")
    ax.set_ylabel("examples, grouped by cluster")
    ax.set_title(
        title if title is not None
        else f"Silhouette, K = {clusters.size}: mean {score:.3f}"
    )
    return ax


def plot_inertia_by_k(k_values, inertias, silhouettes=None, *, fig=None):
    """Inertia against the number of clusters K (look for the elbow), and beside it the
    silhouette score (higher is better) when given.

    Parameters
    ----------
    k_values : sequence of int
    inertias : sequence of float
        One per K.
    silhouettes : sequence of float, default=None
        One per K (NaN where undefined, e.g. K = 1).
    fig : matplotlib Figure, default=None
        An empty figure to draw in; a new one when None.

    Returns
    -------
    fig : matplotlib Figure
        One axes (inertia), or two (inertia, silhouette), each with one line.

    Examples
    --------
    >>> from lloyd.plot import plot_inertia_by_k
    >>> fig = plot_inertia_by_k([1, 2, 3], [90.0, 30.0, 6.0], [float("nan"), 0.5, 0.7])
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['inertia', 'silhouette score']
    """
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(10 if silhouettes is not None else 6, 4),
                         layout="constrained")
    axes = fig.subplots(1, 2 if silhouettes is not None else 1, squeeze=False)[0]
    _draw_against_k(axes[0], k_values, inertias, ylabel="inertia",
                    title="Inertia: look for the elbow")
    if silhouettes is not None:
        _draw_against_k(axes[1], k_values, silhouettes, ylabel="silhouette score",
                        title="Silhouette: higher is better")
    return fig
