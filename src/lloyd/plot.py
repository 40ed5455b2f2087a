"""Every figure lloyd draws: the steps of k-means, how to choose K, palettes and compressed images.

matplotlib is imported inside the functions, so importing lloyd (or this module) never pulls it in.
Each function draws into the ``ax`` it is given, or into a new figure, and returns what it drew on.
This module holds the figures of k-means step by step and of clusters in the plane; those for
choosing K and for colours live in :mod:`lloyd._plot_choose_k` and :mod:`lloyd._plot_images`, and
every one of them is reached here, as ``lloyd.plot.<name>``.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np

from lloyd._plot_base import check_X, cluster_colors, new_axes, padded_limits, to_plane
from lloyd._plot_choose_k import plot_elbow, plot_inertia_by_k, plot_silhouette
from lloyd._plot_images import plot_colors_3d, plot_comparison, plot_palette

__all__ = [
    "animate_progress",
    "plot_clusters",
    "plot_colors_3d",
    "plot_comparison",
    "plot_distortion",
    "plot_elbow",
    "plot_inertia_by_k",
    "plot_palette",
    "plot_progress",
    "plot_silhouette",
    "plot_voronoi",
]

#: Colour of examples that are not assigned to any cluster yet (the first animation frame).
_UNASSIGNED_COLOR = "0.6"


# ------------------------------------------------------------------------------------ helpers


def _check_order(X, history, func):
    """A clear error when X and history are swapped (history alone does not hold X)."""
    if hasattr(X, "centroids") and hasattr(X, "labels"):
        raise TypeError(
            f"{func} takes X first, then history: {func}(X, history, ...). history does not "
            "hold the examples, so both are needed."
        )


def _check_history(history, X):
    """Check that ``history`` is a KMeansHistory computed on ``X``; return (centroids, labels)."""
    missing = [a for a in ("centroids", "labels", "distortion") if not hasattr(history, a)]
    if missing:
        raise TypeError(
            "history must be the KMeansHistory returned by run_kmeans(..., return_history=True), "
            f"got {type(history).__name__}."
        )
    centroids = np.asarray(history.centroids, dtype=float)
    labels = np.asarray(history.labels)
    if centroids.ndim != 3 or labels.ndim != 2 or labels.shape[0] != centroids.shape[0]:
        raise ValueError(
            "history.centroids must have shape (n_iter + 1, K, n_features) and history.labels "
            f"shape (n_iter + 1, n_samples), got {centroids.shape} and {labels.shape}."
        )
    if labels.shape[1] != X.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} rows but history.labels has {labels.shape[1]} columns; "
            "pass the X that history was computed on."
        )
    if centroids.shape[2] != X.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features but the centroids in history have {centroids.shape[2]}; "
            "pass the X that history was computed on."
        )
    return centroids, labels


def _draw_state(ax, X2, labels, paths, *, title, axis_labels, limits=None, legend_loc="best"):
    """Draw examples (coloured by ``labels``, grey when None) and the centroid ``paths``.

    ``paths`` has shape (steps, K, 2): the centroids after each update so far, the last row the
    current centroids (black crosses). ``legend_loc="outside"`` puts the legend right of the
    axes, where it stays put and covers nothing (for animations).
    """
    K = paths.shape[1]
    colors = cluster_colors(K)
    if labels is None:
        ax.scatter(X2[:, 0], X2[:, 1], s=14, color=_UNASSIGNED_COLOR, edgecolors="none",
                   label="examples (not assigned yet)")
    else:
        for k in range(K):
            members = labels == k
            ax.scatter(X2[members, 0], X2[members, 1], s=14, color=colors[k], alpha=0.75,
                       edgecolors="none", label=f"cluster {k}")
    for k in range(K):
        ax.plot(paths[:, k, 0], paths[:, k, 1], "-o", color="black", lw=1.2, ms=3, alpha=0.7,
                label="centroid paths" if k == 0 else None)
    ax.plot(paths[-1, :, 0], paths[-1, :, 1], "x", color="black", ms=11, mew=3,
            label="centroids")
    if limits is not None:
        ax.set_xlim(limits[0])
        ax.set_ylim(limits[1])
    ax.set_title(title)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    if legend_loc == "outside":
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    else:
        ax.legend(loc=legend_loc, fontsize="small", framealpha=0.8)


# ------------------------------------------------------------------- k-means, step by step


def plot_progress(X, history, *, iteration=None, ax=None, title=None):
    """Points coloured by cluster, centroids as black crosses, each centroid's path as a line.

    Data with more than two features is drawn through its first two principal components
    (computed with numpy's SVD of the centred data), and the x label says so.

    Parameters
    ----------
    X : array-like of shape (m, n)
        The examples the history was computed on, ``n >= 2``.
    history : KMeansHistory
        From :func:`lloyd.run_kmeans` with ``return_history=True``.
    iteration : int, default=None
        Draw the state after this many update steps, in ``[0, history.n_iter]``; default the last.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    title : str, default=None
        Default: the iteration and its distortion.

    Returns
    -------
    ax : matplotlib Axes
        ``K`` scatter collections (one per cluster), ``K`` path lines and one line of crosses.

    Examples
    --------
    >>> import lloyd
    >>> from lloyd.plot import plot_progress
    >>> X, _ = lloyd.load_sample_2d()
    >>> _, _, history = lloyd.run_kmeans(X, [[3, 3], [6, 2], [8, 5]], return_history=True)
    >>> ax = plot_progress(X, history)
    >>> ax.get_title()
    'Iteration 10: distortion 0.8349'
    """
    _check_order(X, history, "plot_progress")
    X = check_X(X)
    centroids, labels = _check_history(history, X)
    n_iter = centroids.shape[0] - 1
    if iteration is None:
        t = n_iter
    elif isinstance(iteration, bool) or not isinstance(iteration, numbers.Integral):
        raise ValueError(f"iteration must be an integer in [0, {n_iter}], got {iteration!r}.")
    else:
        t = int(iteration)
    if not 0 <= t <= n_iter:
        raise ValueError(f"iteration={iteration} must lie in [0, n_iter] = [0, {n_iter}].")
    X2, paths, axis_labels = to_plane(X, centroids)
    _, ax = new_axes(ax)
    if title is None:
        title = f"Iteration {t}: distortion {float(history.distortion[t]):.4f}"
    _draw_state(ax, X2, labels[t], paths[: t + 1], title=title, axis_labels=axis_labels)
    return ax


def _half_steps(X, history):
    """The frames of :func:`animate_progress`: ``2 * n_iter + 1`` dicts, in order.

    Frame 0 shows the initial centroids with no example assigned. Iteration ``t`` (1-based) then
    has two frames: *assign* (each example takes the colour of its closest centroid,
    ``labels[t - 1]``) and *move centroids* (the same colours, the centroids moved to the means,
    ``centroids[t]``). Each frame holds ``labels`` (or None), ``step`` (how many centroid
    positions of the paths to draw), ``title`` and ``distortion`` (None for frame 0).
    """
    from lloyd.steps import _compute_distortion

    centroids = np.asarray(history.centroids, dtype=float)
    labels = np.asarray(history.labels)
    frames = [{"labels": None, "step": 0, "distortion": None,
               # two lines like every other frame: the layout frozen on this frame keeps room
               "title": "Iteration 0: initial centroids\nbefore the first assignment"}]
    for t in range(1, centroids.shape[0]):
        assigned = float(history.distortion[t - 1])
        moved = _compute_distortion(X, labels[t - 1], centroids[t])
        frames.append({"labels": labels[t - 1], "step": t - 1, "distortion": assigned,
                       "title": f"Iteration {t}: assign\ndistortion J = {assigned:.4f}"})
        frames.append({"labels": labels[t - 1], "step": t, "distortion": moved,
                       "title": f"Iteration {t}: move centroids\ndistortion J = {moved:.4f}"})
    return frames


def animate_progress(X, history, path, *, fps=1.5, dpi=80, figsize=(8.0, 5.0)) -> Path:
    """Write k-means' iterations as an animation, one frame per half-step.

    The first frame shows the initial centroids; then every iteration has two frames,
    *assign* (each example takes the colour of its closest centroid) and *move centroids*
    (each centroid moves to the mean of its examples), so the animation has
    ``2 * history.n_iter + 1`` frames. Each frame's title names the half-step and the distortion
    after it; the distortion never rises from one frame to the next.

    Parameters
    ----------
    X : array-like of shape (m, n)
        The examples the history was computed on; drawn through PCA when ``n > 2``, as in
        :func:`plot_progress`.
    history : KMeansHistory
        From :func:`lloyd.run_kmeans` with ``return_history=True``.
    path : str or path-like
        Where to write: ``.gif`` (Pillow) or ``.mp4`` (needs ffmpeg on the PATH).
    fps : float, default=1.5
        Frames per second.
    dpi : int, default=80
        Resolution; the frames are ``figsize * dpi`` pixels.
    figsize : (float, float), default=(8.0, 5.0)
        Size of the figure in inches.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib, lloyd
    >>> from lloyd.plot import animate_progress
    >>> X, _ = lloyd.load_sample_2d()
    >>> _, _, history = lloyd.run_kmeans(X, [[3, 3], [6, 2], [8, 5]], 2, return_history=True)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     gif = animate_progress(X, history, pathlib.Path(tmp) / "progress.gif")
    ...     from PIL import Image
    ...     with Image.open(gif) as im:
    ...         im.n_frames
    5
    """
    import matplotlib.pyplot as plt
    from matplotlib import animation

    _check_order(X, history, "animate_progress")
    X = check_X(X)
    centroids, _ = _check_history(history, X)
    if not (isinstance(fps, numbers.Real) and fps > 0):
        raise ValueError(f"fps must be a number > 0, got {fps!r}.")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        writer = animation.PillowWriter(fps=fps)
    elif suffix == ".mp4":
        if not animation.writers.is_available("ffmpeg"):
            raise RuntimeError(
                f"path={str(path)!r} asks for an MP4, which needs ffmpeg, and ffmpeg was not "
                "found on the PATH; install ffmpeg or write a .gif instead."
            )
        writer = animation.FFMpegWriter(fps=fps)
    else:
        raise ValueError(
            f"path={str(path)!r} must end in .gif or .mp4, got suffix {path.suffix!r}."
        )

    X2, paths, axis_labels = to_plane(X, centroids)
    # Fixed limits over every frame, so the view does not jump while the centroids move.
    limits = padded_limits(np.concatenate([X2, paths.reshape(-1, 2)]))
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    try:
        with writer.saving(fig, str(path), dpi):
            for i, frame in enumerate(_half_steps(X, history)):
                ax.clear()
                _draw_state(ax, X2, frame["labels"], paths[: frame["step"] + 1],
                            title=frame["title"], axis_labels=axis_labels,
                            limits=limits, legend_loc="outside")
                writer.grab_frame()
                if i == 0:
                    # Freeze the layout the first (widest-legend) frame needed: the axes then
                    # stay still from frame to frame.
                    fig.set_layout_engine("none")
    finally:
        plt.close(fig)
    return path


def plot_voronoi(X, centroids, *, labels=None, ax=None, resolution=300, title=None):
    """The decision regions of the centroids behind the points: every point of a region is
    closer to that region's centroid than to any other (the centroids' Voronoi cells).

    Parameters
    ----------
    X : array-like of shape (m, 2)
        The examples (2-D).
    centroids : array-like of shape (K, 2)
        The centroids, drawn as black crosses.
    labels : array-like of shape (m,), default=None
        The cluster of each example, in ``[0, K)``; default its closest centroid.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    resolution : int, default=300
        The regions are coloured on a ``resolution x resolution`` grid.
    title : str, default=None
        Default: "Decision regions of K centroids".

    Returns
    -------
    ax : matplotlib Axes
        One image (the regions), ``K`` scatter collections and one line of crosses.

    Examples
    --------
    >>> import lloyd
    >>> from lloyd.plot import plot_voronoi
    >>> X, _ = lloyd.load_sample_2d()
    >>> centroids, _ = lloyd.run_kmeans(X, [[3, 3], [6, 2], [8, 5]])
    >>> ax = plot_voronoi(X, centroids)
    >>> len(ax.images), len(ax.collections)
    (1, 3)
    """
    from lloyd._validation import check_centroids, check_labels
    from lloyd.steps import _find_closest_centroids

    X = check_X(X)
    if X.shape[1] != 2:
        raise ValueError(
            f"X must have shape (m, 2) for decision regions in the plane, got {X.shape}."
        )
    centroids = check_centroids(centroids, 2)
    K = centroids.shape[0]
    if labels is None:
        labels = _find_closest_centroids(X, centroids)
    else:
        labels = check_labels(labels, X.shape[0], K, name="labels")
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Integral) \
            or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}.")

    (x0, x1), (y0, y1) = padded_limits(np.concatenate([X, centroids]))
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    grid = np.column_stack([g.ravel() for g in np.meshgrid(xs, ys)])
    regions = _find_closest_centroids(grid, centroids).reshape(resolution, resolution)
    colors = np.array(cluster_colors(K))
    _, ax = new_axes(ax)
    ax.imshow(colors[regions], extent=(x0, x1, y0, y1), origin="lower", alpha=0.25,
              interpolation="nearest")
    for k in range(K):
        members = labels == k
        ax.scatter(X[members, 0], X[members, 1], s=14, color=colors[k], alpha=0.85,
                   edgecolors="none", label=f"cluster {k}")
    ax.plot(centroids[:, 0], centroids[:, 1], "x", color="black", ms=11, mew=3,
            label="centroids")
    ax.set_title(title if title is not None else f"Decision regions of {K} centroids")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best", fontsize="small", framealpha=0.8)
    return ax


def plot_distortion(history, *, ax=None, title=None):
    """The distortion after every iteration: a line that never rises.

    Parameters
    ----------
    history : KMeansHistory
        From :func:`lloyd.run_kmeans` with ``return_history=True``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    title : str, default=None
        Default: "Distortion per iteration (it never rises)".

    Returns
    -------
    ax : matplotlib Axes
        One line with ``history.n_iter + 1`` points.

    Examples
    --------
    >>> import lloyd
    >>> from lloyd.plot import plot_distortion
    >>> X, _ = lloyd.load_sample_2d()
    >>> _, _, history = lloyd.run_kmeans(X, [[3, 3], [6, 2], [8, 5]], return_history=True)
    >>> len(plot_distortion(history).lines[0].get_xdata())
    11
    """
    from matplotlib.ticker import MaxNLocator

    distortion = np.asarray(getattr(history, "distortion", None) if history is not None else None)
    if distortion.ndim != 1 or distortion.size == 0 or distortion.dtype.kind not in "fiu":
        raise TypeError(
            "history must be the KMeansHistory returned by run_kmeans(..., return_history=True) "
            f"(its distortion a 1-D array), got {type(history).__name__}."
        )
    _, ax = new_axes(ax)
    ax.plot(np.arange(distortion.size), distortion, "-o", color="C0", ms=5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("iteration (number of update steps)")
    ax.set_ylabel("distortion J")
    ax.set_title(title if title is not None else "Distortion per iteration (it never rises)")
    ax.grid(alpha=0.3)
    return ax


# ------------------------------------------------------------------------- rows of a table


def plot_clusters(X, labels, centers, *, feature_names=None, ax=None, title=None):
    """Rows coloured by cluster, centres as black crosses; beyond two features, the plane of the
    first two principal components of X (as in :func:`plot_progress`), and the x label says so.

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
    >>> from lloyd.plot import plot_clusters
    >>> X = np.array([[0.0, 0.0, 1.0], [0.1, 0.0, 1.0], [5.0, 5.0, 0.0], [5.1, 5.0, 0.0]])
    >>> ax = plot_clusters(X, [0, 0, 1, 1], [[0.05, 0.0, 1.0], [5.05, 5.0, 0.0]])
    >>> ax.get_xlabel()[:4]
    'PC 1'
    """
    X = np.asarray(X, dtype=float)
    centers = np.asarray(centers, dtype=float)
    labels = np.asarray(labels)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(
            f"X must have shape (n_samples, n_features) with n_features >= 2 to be drawn in the "
            f"plane, got {X.shape}."
        )
    points, centers2, names = to_plane(X, centers)
    if X.shape[1] == 2 and feature_names is not None:
        names = list(feature_names)
    _, ax = new_axes(ax, figsize=(7, 5.5))
    colors = np.array(cluster_colors(len(centers)))
    ax.scatter(points[:, 0], points[:, 1], s=8, c=colors[labels], alpha=0.6, edgecolors="none")
    ax.plot(centers2[:, 0], centers2[:, 1], "x", color="black", ms=11, mew=3, label="centres")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(title if title is not None else f"{len(centers)} clusters")
    ax.legend(loc="best", fontsize="small", framealpha=0.8)
    return ax
