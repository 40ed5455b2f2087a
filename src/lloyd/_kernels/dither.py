"""Serpentine Floyd–Steinberg error diffusion onto a fixed palette, one pixel at a time.

A sequential loop (each pixel depends on the error of the ones before it), so it is compiled.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def floyd_steinberg(pixels, palette, strength, lower, upper, indices, err_this, err_next, value):
    """Dither ``pixels`` onto ``palette`` in serpentine order; assumes validated input.

    Even rows run left to right and odd rows right to left, so the error never piles up along
    one side. The error pushed to the neighbours is ``strength`` times the difference between
    the pixel (plus the error it received) and its palette colour, split 7/16 ahead, 3/16
    behind-below, 5/16 below and 1/16 ahead-below. The nearest colour is found by brute force
    over the palette; ties go to the lower index. A pixel plus its received error is clamped
    to ``[lower, upper]`` first: without it, error piles up where the image leaves the palette's
    hull (a white the palette lacks) and bursts out as streaks of a wrong colour.

    Parameters
    ----------
    pixels : ndarray of shape (height, width, n_channels), float64, IN
        The image in the colour space the error is measured in.
    palette : ndarray of shape (n_colors, n_channels), float64, IN
    strength : float
        In [0, 1]; 0 gives the nearest colour of every pixel, 1 classic Floyd–Steinberg.
    lower, upper : ndarray of shape (n_channels,), float64, IN
        The range of every channel, e.g. the image's own minimum and maximum.
    indices : ndarray of shape (height, width), uint8, OUT
        The palette index of every pixel.
    err_this, err_next : ndarray of shape (width + 2, n_channels), float64, scratch
        The error for the current and the next row, with one pixel of padding at each end.
    value : ndarray of shape (n_channels,), float64, scratch
    """
    height, width, n_channels = pixels.shape
    n_colors = palette.shape[0]
    err_this[:, :] = 0.0
    err_next[:, :] = 0.0
    for y in range(height):
        if y % 2 == 0:
            x, stop, step = 0, width, 1
        else:
            x, stop, step = width - 1, -1, -1
        while x != stop:
            for c in range(n_channels):
                value[c] = min(max(pixels[y, x, c] + err_this[x + 1, c], lower[c]), upper[c])
            best = 0
            best_dist = np.inf
            for k in range(n_colors):
                dist = 0.0
                for c in range(n_channels):
                    diff = value[c] - palette[k, c]
                    dist += diff * diff
                if dist < best_dist:
                    best_dist = dist
                    best = k
            indices[y, x] = best
            for c in range(n_channels):
                err = strength * (value[c] - palette[best, c])
                err_this[x + 1 + step, c] += err * (7.0 / 16.0)
                err_next[x + 1 - step, c] += err * (3.0 / 16.0)
                err_next[x + 1, c] += err * (5.0 / 16.0)
                err_next[x + 1 + step, c] += err * (1.0 / 16.0)
            x += step
        err_this, err_next = err_next, err_this
        err_next[:, :] = 0.0
