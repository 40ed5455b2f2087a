"""The remap stage: every colour to its nearest palette entry, or dithered; palette ordering.

Runs after the palette is rounded to 8-bit sRGB, so each pixel takes the colour actually written.
"""

from __future__ import annotations

import numpy as np

from lloyd._engine import labels


def nearest(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for every point (the first on ties); assumes C-contiguous
    float64 (n, d) and (k, d), d <= 4.

    lloyd's compiled low-dimension pass, distances measured directly: 30 times faster than
    NumPy's matrix-product argmin at d = 3 (113k colours, 256 entries: 5 against 170 ms).
    """
    return labels(points, centers).astype(np.intp)


def order_palette(palette: np.ndarray, labels: np.ndarray, counts: np.ndarray):
    """Drop unused entries; translucent ones first (tRNS can stop early), then most used first.

    Parameters
    ----------
    palette : ndarray of shape (n_entries, 3 | 4), uint8
    labels : ndarray of shape (n_unique,)
        Palette entry of every distinct colour.
    counts : ndarray of shape (n_unique,)
        Pixels of every distinct colour.

    Returns
    -------
    palette : ndarray of shape (n_used, 3 | 4), uint8
    labels : ndarray of shape (n_unique,), intp
        Relabelled to the new order.
    """
    usage = np.bincount(labels, weights=counts, minlength=palette.shape[0])
    used = np.flatnonzero(usage > 0)
    opaque = palette[used, 3] == 255 if palette.shape[1] == 4 else np.ones(used.size, bool)
    # lexsort: last key first; it is stable, so equal usage keeps the palette's order.
    order = used[np.lexsort((-usage[used], opaque))]
    new_index = np.zeros(palette.shape[0], dtype=np.intp)
    new_index[order] = np.arange(order.size)
    return np.ascontiguousarray(palette[order]), new_index[labels]


def dither_indices(pixels: np.ndarray, palette: np.ndarray, labels: np.ndarray,
                   strength: np.ndarray, *, lower: np.ndarray, upper: np.ndarray, faint: float,
                   max_error: float) -> np.ndarray:
    """Error diffusion onto ``palette`` (both in the working space); returns (h, w) uint8.

    Assumes float64 pixels (h, w, d) and palette (k, d) with k <= 256, ``labels`` (h, w) the
    nearest entry of every pixel, ``strength`` (h, w) in [0, 1] (0: the pixel keeps its label),
    ``lower``, ``upper`` (d,) the box of representable colours that pixel plus error stays in,
    and ``faint`` < ``max_error`` the squared errors it drops and damps (see the kernel).
    """
    from lloyd._kernels.dither import floyd_steinberg

    _, width, n_channels = pixels.shape
    indices = np.ascontiguousarray(labels, dtype=np.uint8).copy()
    err_this = np.empty((width + 2, n_channels))
    err_next = np.empty((width + 2, n_channels))
    value = np.empty(n_channels)
    floyd_steinberg(np.ascontiguousarray(pixels), np.ascontiguousarray(palette),
                    np.ascontiguousarray(strength, dtype=np.float64),
                    np.ascontiguousarray(lower, dtype=np.float64),
                    np.ascontiguousarray(upper, dtype=np.float64), float(faint),
                    float(max_error), indices, err_this, err_next, value)
    return indices
