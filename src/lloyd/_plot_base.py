"""What every lloyd figure shares: new axes, cluster colours, the plane of the first two
principal components, and the one atomic way a figure is written to disk.

matplotlib is imported inside the functions, so importing this module never pulls it in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lloyd._files import atomic_output

#: A qualitative, colour-blind-friendly colour cycle for clusters (matplotlib's tab10).
_CLUSTER_CMAP = "tab10"

def new_axes(ax, **subplot_kw):
    """``(figure, ax)``: the given ``ax`` and its figure, or a new figure's single axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        # constrained layout keeps room for two-line labels and titles
        _, ax = plt.subplots(**{"layout": "constrained", **subplot_kw})
    return ax.figure, ax


def cluster_colors(n):
    """``n`` RGBA colours, one per cluster: tab10, or tab20 beyond ten clusters."""
    import matplotlib as mpl

    cmap = mpl.colormaps[_CLUSTER_CMAP if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def check_X(X, *, name="X"):
    """``X`` as a validated 2-D float64 array (the teaching figures compute in float64)."""
    from lloyd._validation import check_data

    return check_data(X, name=name, dtype=(np.float64,))


def pca_2d(X):
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


def to_plane(X, centroids):
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
    mean, components, ratios = pca_2d(X)
    # The note rides on the x label, where the layout keeps room for it and nothing covers it.
    xlabels = (
        f"PC 1 ({100 * ratios[0]:.0f}% of variance)\n"
        f"{n}-D data projected onto its first two principal components",
        f"PC 2 ({100 * ratios[1]:.0f}% of variance)",
    )
    return (X - mean) @ components.T, (centroids - mean) @ components.T, xlabels


def padded_limits(points):
    """The x and y limits that hold every point of ``points`` (shape (m, 2)), 5% padded."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.05 * np.where(hi > lo, hi - lo, 1.0)
    return (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])



def save_figure(fig, path, *, overwrite=False, dpi=100):
    """Write ``fig`` to ``path`` atomically, then close it.

    The format follows the extension (PNG when there is none); an existing ``path`` is replaced
    only with ``overwrite`` (FileExistsError otherwise, before anything is drawn), and readers
    never see half a file (:func:`lloyd._files.atomic_output`).
    """
    import matplotlib.pyplot as plt

    try:
        with atomic_output(path, overwrite=overwrite) as tmp:
            # the temporary name has no useful extension: name the format
            fig.savefig(tmp, format=Path(path).suffix[1:].lower() or "png", dpi=dpi)
    finally:
        plt.close(fig)
    return Path(path)
