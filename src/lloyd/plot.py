"""Every figure lloyd draws: the steps of k-means, palettes and compressed images.

matplotlib is imported inside the functions, so importing lloyd never pulls it in.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_comparison", "plot_palette", "plot_progress"]

#: A qualitative, colour-blind-friendly colour cycle for clusters (matplotlib's tab10).
_CLUSTER_CMAP = "tab10"


def _axes(ax, **subplot_kw):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(**subplot_kw)
    return ax.figure, ax


def _cluster_colors(n):
    import matplotlib as mpl

    cmap = mpl.colormaps[_CLUSTER_CMAP if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def plot_progress(X, history, *, iteration=None, ax=None, title=None):
    """Points coloured by cluster, centroids as black crosses, each centroid's path as a line.

    Parameters
    ----------
    X : array-like of shape (m, 2)
        The examples (2-D).
    history : KMeansHistory
        From :func:`lloyd.run_kmeans` with ``return_history=True``.
    iteration : int, default=None
        Draw the state after this many update steps; default the last.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    title : str, default=None
        Default: the iteration and its distortion.

    Returns
    -------
    ax : matplotlib Axes
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (m, 2) to be drawn in the plane, got {X.shape}.")
    t = history.n_iter if iteration is None else int(iteration)
    if not 0 <= t <= history.n_iter:
        raise ValueError(f"iteration={iteration} must lie in [0, {history.n_iter}].")
    _, ax = _axes(ax)
    K = history.centroids.shape[1]
    colors = np.array(_cluster_colors(K))
    labels = history.labels[t]
    for k in range(K):
        members = labels == k
        ax.scatter(
            X[members, 0], X[members, 1], s=14, color=colors[k], alpha=0.75,
            edgecolors="none", label=f"cluster {k}",
        )
    paths = history.centroids[: t + 1]
    for k in range(K):
        ax.plot(paths[:, k, 0], paths[:, k, 1], "-", color="black", lw=1.2, alpha=0.8)
        ax.plot(paths[:-1, k, 0], paths[:-1, k, 1], "o", color="black", ms=3, alpha=0.6)
    ax.plot(paths[-1, :, 0], paths[-1, :, 1], "x", color="black", ms=11, mew=3,
            label="centroids")
    if title is None:
        title = f"Iteration {t}: distortion {history.distortion[t]:.4f}"
    ax.set_title(title)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best", fontsize="small", framealpha=0.8)
    return ax


def plot_palette(palette, *, ax=None, title=None):
    """The palette as a row of colour swatches.

    Parameters
    ----------
    palette : array-like of shape (K, 3)
        RGB colours, as uint8 in [0, 255] or floats in [0, 1].
    """
    palette = np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] not in (3, 4):
        raise ValueError(f"palette must have shape (K, 3) or (K, 4), got {palette.shape}.")
    if palette.dtype.kind in "ui":
        palette = palette / 255.0
    _, ax = _axes(ax, figsize=(max(4, 0.4 * len(palette)), 1.2))
    ax.imshow(np.clip(palette, 0, 1)[None, :, :], aspect="auto")
    ax.set_yticks([])
    ax.set_xticks(range(len(palette)))
    ax.tick_params(labelsize="x-small")
    ax.set_title(title if title is not None else f"Palette: {len(palette)} colours")
    return ax


def plot_comparison(original, compressed, palette=None, *, fig=None, titles=None):
    """The original image beside the compressed one, and the palette under them.

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(10, 6.2 if palette is not None else 5), layout="constrained")
    titles = titles or ("Original", "Compressed")
    if palette is not None:
        grid = fig.add_gridspec(2, 2, height_ratios=[8, 1])
        axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])]
        plot_palette(palette, ax=fig.add_subplot(grid[1, :]))
    else:
        axes = fig.subplots(1, 2)
    for ax, image, title in zip(axes, (original, compressed), titles):
        ax.imshow(np.asarray(image))
        ax.set_title(title)
        ax.axis("off")
    return fig


def plot_clusters(X, labels, centers, *, feature_names=None, ax=None, title=None):
    """Rows coloured by cluster, centres as black crosses; beyond two features, the plane of the
    first two principal components (fitted on X).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The rows to draw (a sample of a large table), ``n_features >= 2``.
    labels : array-like of shape (n_samples,)
        Their clusters, integers in [0, n_clusters).
    centers : array-like of shape (n_clusters, n_features)
    feature_names : sequence of str, default=None
        Names of the two features, for the axes (used when n_features is 2).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0, 1.0], [0.1, 0.0, 1.0], [5.0, 5.0, 0.0], [5.1, 5.0, 0.0]])
    >>> ax = plot_clusters(X, [0, 0, 1, 1], [[0.05, 0.0, 1.0], [5.05, 5.0, 0.0]])
    >>> ax.get_xlabel()[:3]
    'PC1'
    """
    X = np.asarray(X, dtype=float)
    centers = np.asarray(centers, dtype=float)
    labels = np.asarray(labels)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(
            f"X must have shape (n_samples, n_features) with n_features >= 2 to be drawn in the "
            f"plane, got {X.shape}."
        )
    if X.shape[1] == 2:
        points, centers2 = X, centers
        names = list(feature_names) if feature_names is not None else ["$x_1$", "$x_2$"]
    else:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2).fit(X)
        points, centers2 = pca.transform(X), pca.transform(centers)
        names = [f"PC{i + 1} ({share:.0%} of the variance)"
                 for i, share in enumerate(pca.explained_variance_ratio_)]
    _, ax = _axes(ax, figsize=(7, 5.5))
    colors = np.array(_cluster_colors(len(centers)))
    ax.scatter(points[:, 0], points[:, 1], s=8, c=colors[labels], alpha=0.6, edgecolors="none")
    ax.plot(centers2[:, 0], centers2[:, 1], "x", color="black", ms=11, mew=3, label="centres")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(title if title is not None else f"{len(centers)} clusters")
    ax.legend(loc="best", fontsize="small", framealpha=0.8)
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

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(10 if silhouettes is not None else 6, 4),
                         layout="constrained")
    axes = fig.subplots(1, 2 if silhouettes is not None else 1, squeeze=False)[0]
    axes[0].plot(k_values, inertias, "o-", color="black")
    axes[0].set_xlabel("K (number of clusters)")
    axes[0].set_ylabel("inertia")
    axes[0].set_title("Inertia: look for the elbow")
    if silhouettes is not None:
        axes[1].plot(k_values, silhouettes, "o-", color="tab:blue")
        axes[1].set_xlabel("K (number of clusters)")
        axes[1].set_ylabel("silhouette score")
        axes[1].set_title("Silhouette: higher is better")
    for ax in axes:
        ax.set_xticks(list(k_values))
        ax.grid(alpha=0.3)
    return fig
