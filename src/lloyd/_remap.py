"""The remap stage: every colour to its nearest palette entry, or dithered; palette ordering.

Runs after the palette is rounded to 8-bit sRGB, so each pixel takes the colour actually written.
"""

from __future__ import annotations

import numpy as np

#: Rows per block of the distance computation: memory stays O(block × n_colors).
_BLOCK = 16384


def nearest(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for every point; assumes float64 (n, d) and (k, d).

    ``argmin_k |x - c_k|² = argmin_k (|c_k|² - 2 x·c_k)``: one matrix product per block.
    """
    sq_norms = np.einsum("ij,ij->i", centers, centers)
    twice_t = -2.0 * centers.T
    labels = np.empty(points.shape[0], dtype=np.intp)
    for start in range(0, points.shape[0], _BLOCK):
        dist = points[start : start + _BLOCK] @ twice_t
        dist += sq_norms
        labels[start : start + _BLOCK] = np.argmin(dist, axis=1)
    return labels


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


def dither_indices(pixels: np.ndarray, palette: np.ndarray, strength: float, *,
                   lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Floyd–Steinberg onto ``palette`` (both in the working space); returns (h, w) uint8.

    Assumes float64 pixels (h, w, d) and palette (k, d) with k <= 256, strength in (0, 1], and
    ``lower``, ``upper`` (d,) the box of representable colours that pixel plus error stays in.
    """
    from lloyd._kernels.dither import floyd_steinberg

    height, width, n_channels = pixels.shape
    indices = np.empty((height, width), dtype=np.uint8)
    err_this = np.empty((width + 2, n_channels))
    err_next = np.empty((width + 2, n_channels))
    value = np.empty(n_channels)
    floyd_steinberg(np.ascontiguousarray(pixels), np.ascontiguousarray(palette), strength,
                    np.ascontiguousarray(lower, dtype=np.float64),
                    np.ascontiguousarray(upper, dtype=np.float64),
                    indices, err_this, err_next, value)
    return indices
