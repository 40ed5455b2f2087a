"""Every figure lloyd draws: the steps of k-means, how to choose K, palettes and compressed images.

matplotlib is imported inside the functions, so importing lloyd (or this module) never pulls it in.
Each function draws into the ``ax`` it is given, or into a new figure, and returns what it drew on.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np

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

#: A qualitative, colour-blind-friendly colour cycle for clusters (matplotlib's tab10).
_CLUSTER_CMAP = "tab10"

#: Colour of examples that are not assigned to any cluster yet (the first animation frame).
_UNASSIGNED_COLOR = "0.6"


# ------------------------------------------------------------------------------------ helpers


def _axes(ax, **subplot_kw):
    import matplotlib.pyplot as plt

    if ax is None:
        # constrained layout keeps room for two-line labels and titles
        _, ax = plt.subplots(**{"layout": "constrained", **subplot_kw})
    return ax.figure, ax


def _cluster_colors(n):
    import matplotlib as mpl

    cmap = mpl.colormaps[_CLUSTER_CMAP if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _check_X(X, *, name="X"):
    from lloyd._validation import check_data

    return check_data(X, name=name, dtype=(np.float64,))


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


def _pca_2d(X):
    """The mean, the first two principal axes of X (shape (2, n)) and their variance ratios.

    Computed with numpy's SVD of the centred data. Each axis's sign is fixed so that its largest
    loading is positive, so the same data always gives the same picture.
    """
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    components = np.zeros((2, X.shape[1]))
    components[: min(2, len(vt))] = vt[:2]
    rows = np.arange(2)
    signs = np.sign(components[rows, np.abs(components).argmax(axis=1)])
    components *= np.where(signs == 0, 1.0, signs)[:, None]
    variance = s**2
    ratios = np.zeros(2)
    if variance.sum() > 0:
        ratios[: min(2, len(variance))] = variance[:2] / variance.sum()
    return mean, components, ratios


def _plane(X, centroids):
    """Points and centroids in the plane, and axis labels (with a note when PCA was needed).

    ``centroids`` has shape (..., n); the result keeps the leading shape with n replaced by 2.
    """
    n = X.shape[1]
    if n < 2:
        raise ValueError(
            f"X must have at least 2 features to be drawn in the plane, got {n}; "
            "add a second feature or plot the 1-D values with a histogram."
        )
    if n == 2:
        return X, centroids, ("$x_1$", "$x_2$")
    mean, components, ratios = _pca_2d(X)
    # The note rides on the x label, where the layout keeps room for it and nothing covers it.
    xlabels = (
        f"PC 1 ({100 * ratios[0]:.0f}% of variance)\n"
        f"{n}-D data projected onto its first two principal components",
        f"PC 2 ({100 * ratios[1]:.0f}% of variance)",
    )
    return (X - mean) @ components.T, (centroids - mean) @ components.T, xlabels


def _limits(points):
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.05 * np.where(hi > lo, hi - lo, 1.0)
    return (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])


def _draw_state(ax, X2, labels, paths, *, title, axis_labels, limits=None, legend_loc="best"):
    """Draw examples (coloured by ``labels``, grey when None) and the centroid ``paths``.

    ``paths`` has shape (steps, K, 2): the centroids after each update so far, the last row the
    current centroids (black crosses). ``legend_loc="outside"`` puts the legend right of the
    axes, where it stays put and covers nothing (for animations).
    """
    K = paths.shape[1]
    colors = _cluster_colors(K)
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


def _to_unit_rgb(colors, *, name):
    """RGB values as floats in [0, 1]: integers are read as 0..255, floats must lie in [0, 1]."""
    colors = np.asarray(colors)
    if colors.dtype.kind in "ui" or colors.dtype.kind == "b":
        if colors.dtype.kind != "b" and colors.size and (colors.min() < 0 or colors.max() > 255):
            raise ValueError(
                f"{name} holds integers outside [0, 255] (min {colors.min()}, max {colors.max()})."
            )
        return colors / 255.0
    if colors.dtype.kind != "f":
        raise ValueError(f"{name} must hold numbers, got dtype {colors.dtype}.")
    if colors.size and not np.all(np.isfinite(colors)):
        raise ValueError(f"{name} holds NaN or infinite values.")
    # A mean of values in [0, 1] can overshoot by a rounding error; more than that is a mistake.
    if colors.size and (colors.min() < -1e-6 or colors.max() > 1 + 1e-6):
        raise ValueError(
            f"{name} holds floats outside [0, 1] (min {colors.min():.4g}, max {colors.max():.4g}); "
            f"floats are read as [0, 1] RGB, so divide 0..255 values by 255."
        )
    return np.clip(colors.astype(float, copy=False), 0.0, 1.0)


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
    X = _check_X(X)
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
    X2, paths, axis_labels = _plane(X, centroids)
    _, ax = _axes(ax)
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
    X = _check_X(X)
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

    X2, paths, axis_labels = _plane(X, centroids)
    # Fixed limits over every frame, so the view does not jump while the centroids move.
    limits = _limits(np.concatenate([X2, paths.reshape(-1, 2)]))
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

    X = _check_X(X)
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

    (x0, x1), (y0, y1) = _limits(np.concatenate([X, centroids]))
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    grid = np.column_stack([g.ravel() for g in np.meshgrid(xs, ys)])
    regions = _find_closest_centroids(grid, centroids).reshape(resolution, resolution)
    colors = np.array(_cluster_colors(K))
    _, ax = _axes(ax)
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
    _, ax = _axes(ax)
    ax.plot(np.arange(distortion.size), distortion, "-o", color="C0", ms=5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("iteration (number of update steps)")
    ax.set_ylabel("distortion J")
    ax.set_title(title if title is not None else "Distortion per iteration (it never rises)")
    ax.grid(alpha=0.3)
    return ax


# -------------------------------------------------------------------------- choosing K


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

    X = _check_X(X)
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
    distortions = [
        _best_of_random_starts(X, k, n_init=n_init, max_iters=max_iters, rng=rng)[2] for k in ks
    ]
    from matplotlib.ticker import MaxNLocator

    _, ax = _axes(ax)
    ax.plot(ks, distortions, "-o", color="C0", ms=5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of clusters K")
    ax.set_ylabel(f"distortion J (best of {n_init} random starts)")
    ax.set_title(title if title is not None else "Elbow method: distortion against K")
    ax.grid(alpha=0.3)
    return ax


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

    X = _check_X(X)
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
    colors = _cluster_colors(clusters.size)
    _, ax = _axes(ax)
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


# -------------------------------------------------------------------------------- colours


def plot_colors_3d(image_or_pixels, palette=None, *, n_points=5000, random_state=0, ax=None,
                   title=None):
    """An image's colours as a point cloud in the RGB cube, with the palette marked.

    Each pixel is a point (r, g, b) drawn in its own colour; k-means on the colours looks for
    ``K`` points (the palette) that sit in the middle of the densest parts of this cloud.

    Parameters
    ----------
    image_or_pixels : array-like of shape (h, w, 3) or (n_pixels, 3)
        RGB colours: integers in [0, 255] or floats in [0, 1].
    palette : array-like of shape (K, 3), default=None
        Colours to mark with large black-edged dots, same scale rules as the pixels.
    n_points : int, default=5000
        At most this many pixels are drawn, chosen at random without replacement.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of that choice.
    ax : 3-D matplotlib Axes, default=None
        Made with ``fig.add_subplot(projection="3d")``; a new figure when None.
    title : str, default=None
        Default: "Colours of the image in RGB space".

    Returns
    -------
    ax : mpl_toolkits.mplot3d.Axes3D
        One scatter collection of pixels and, with a palette, one of palette colours.

    Examples
    --------
    >>> import lloyd
    >>> from lloyd.plot import plot_colors_3d
    >>> ax = plot_colors_3d(lloyd.load_sample_image(), n_points=500)
    >>> ax.name, len(ax.collections[0].get_offsets())
    ('3d', 500)
    """
    import matplotlib.pyplot as plt

    pixels = np.asarray(image_or_pixels)
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        pixels = pixels.reshape(-1, 3)
    elif not (pixels.ndim == 2 and pixels.shape[1] == 3):
        raise ValueError(
            "image_or_pixels must have shape (h, w, 3) or (n_pixels, 3) of RGB values, "
            f"got {pixels.shape}" + (" (drop the alpha channel: image[..., :3])."
                                     if pixels.shape[-1:] == (4,) else ".")
        )
    if pixels.shape[0] == 0:
        raise ValueError("image_or_pixels holds no pixels.")
    pixels = _to_unit_rgb(pixels, name="image_or_pixels")
    if palette is not None:
        palette = np.asarray(palette)
        if palette.ndim != 2 or palette.shape[1] != 3 or palette.shape[0] == 0:
            raise ValueError(f"palette must have shape (K, 3), got {palette.shape}.")
        palette = _to_unit_rgb(palette, name="palette")
    if isinstance(n_points, bool) or not isinstance(n_points, numbers.Integral) or n_points < 1:
        raise ValueError(f"n_points must be an integer >= 1, got {n_points!r}.")
    if ax is None:
        fig = plt.figure(figsize=(6.5, 6), layout="constrained")
        ax = fig.add_subplot(projection="3d")
    elif getattr(ax, "name", None) != "3d":
        raise ValueError(
            "ax must be a 3-D Axes, made with fig.add_subplot(projection='3d'), "
            f"got a {type(ax).__name__}."
        )
    rng = np.random.default_rng(random_state)
    n_total = pixels.shape[0]
    if n_total > n_points:
        pixels = pixels[rng.choice(n_total, size=n_points, replace=False)]
    ax.scatter(*pixels.T, c=pixels, s=3, alpha=0.6, depthshade=False,
               label=f"pixels ({len(pixels):,} of {n_total:,})")
    if palette is not None:
        ax.scatter(*palette.T, c=palette, s=140, edgecolors="black", linewidths=1.5, alpha=1,
                   depthshade=False, label=f"palette ({len(palette)} colours)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_zlim(0, 1)
    ax.set_xlabel("red")
    ax.set_ylabel("green")
    ax.set_zlabel("blue")
    ax.set_title(title if title is not None else "Colours of the image in RGB space")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_palette(palette, *, ax=None, title=None):
    """The palette as a row of colour swatches, numbered from 0.

    Parameters
    ----------
    palette : array-like of shape (K, 3) or (K, 4)
        RGB(A) colours, as integers in [0, 255] or floats in [0, 1].
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    title : str, default=None
        Default: "Palette: K colours".

    Returns
    -------
    ax : matplotlib Axes
        One image of ``K`` swatches.

    Examples
    --------
    >>> from lloyd.plot import plot_palette
    >>> plot_palette([[255, 0, 0], [0, 0, 255]]).get_title()
    'Palette: 2 colours'
    """
    palette = np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] not in (3, 4) or palette.shape[0] == 0:
        raise ValueError(f"palette must have shape (K, 3) or (K, 4), got {palette.shape}.")
    palette = _to_unit_rgb(palette, name="palette")
    _, ax = _axes(ax, figsize=(max(4, 0.4 * len(palette)), 1.2))
    ax.imshow(palette[None, :, :], aspect="auto")
    ax.set_yticks([])
    ax.set_xticks(range(len(palette)))
    ax.tick_params(labelsize="x-small")
    ax.set_title(title if title is not None else f"Palette: {len(palette)} colours")
    return ax


def _check_image(image, name):
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        hint = (
            f" To show pixels of shape (h*w, 3), reshape them: {name}.reshape(h, w, 3)."
            if image.ndim == 2 and image.shape[-1] in (3, 4) else ""
        )
        raise ValueError(
            f"{name} must be an RGB(A) image of shape (h, w, 3) or (h, w, 4), "
            f"got {image.shape}.{hint}"
        )
    return image


def plot_comparison(original, compressed, palette=None, *, fig=None, titles=None):
    """The original image beside the compressed one, and the palette under them.

    Parameters
    ----------
    original, compressed : array-like of shape (h, w, 3) or (h, w, 4)
        RGB(A) images of the same size, as integers in [0, 255] or floats in [0, 1].
    palette : array-like of shape (K, 3), default=None
        Drawn under the images with :func:`plot_palette` when given.
    fig : matplotlib Figure, default=None
        An empty figure to draw in; a new one when None.
    titles : (str, str), default=("Original", "Compressed")

    Returns
    -------
    fig : matplotlib Figure
        Two image axes, and a third for the palette when one is given.

    Examples
    --------
    >>> import numpy as np
    >>> from lloyd.plot import plot_comparison
    >>> image = np.zeros((4, 4, 3), dtype=np.uint8)
    >>> len(plot_comparison(image, image, [[0, 0, 0]]).axes)
    3
    """
    import matplotlib.pyplot as plt

    original = _check_image(original, "original")
    compressed = _check_image(compressed, "compressed")
    if original.shape[:2] != compressed.shape[:2]:
        raise ValueError(
            f"compressed has size {compressed.shape[:2]} but original has {original.shape[:2]}; "
            "they must be the same image size."
        )
    titles = titles or ("Original", "Compressed")
    if len(titles) != 2:
        raise ValueError(f"titles must hold 2 strings, got {len(titles)}.")
    if fig is None:
        fig = plt.figure(figsize=(10, 6.2 if palette is not None else 5), layout="constrained")
    if palette is not None:
        grid = fig.add_gridspec(2, 2, height_ratios=[8, 1])
        axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])]
        plot_palette(palette, ax=fig.add_subplot(grid[1, :]))
    else:
        axes = fig.subplots(1, 2)
    for ax, image, title in zip(axes, (original, compressed), titles, strict=True):
        ax.imshow(image)
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
