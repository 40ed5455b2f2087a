"""The figures of the image compressor: an image's colours in the RGB cube, a palette, and an
image beside its compressed copy.

Part of :mod:`lloyd.plot`, where every figure is reached; matplotlib is imported inside the
functions.
"""

from __future__ import annotations

import numbers

import numpy as np

from lloyd._plot_base import new_axes


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
    _, ax = new_axes(ax, figsize=(max(4, 0.4 * len(palette)), 1.2))
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
