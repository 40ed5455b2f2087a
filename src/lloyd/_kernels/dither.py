"""Serpentine error diffusion onto a fixed palette, one pixel at a time, with a strength map.

A sequential loop (each pixel depends on the error of the ones before it), so it is compiled.
"""

from __future__ import annotations

import numpy as np

from lloyd._kernels._numba import njit


@njit(cache=True, nogil=True)
def floyd_steinberg(pixels, palette, strength, lower, upper, faint, max_error, indices,
                    err_this, err_next, value):
    """Dither ``pixels`` onto ``palette`` in serpentine order; assumes validated input.

    Even rows run left to right and odd rows right to left, so the error never piles up along
    one side. A pixel takes ``strength[y, x]`` times the error its neighbours pushed to it; the
    error of its colour is pushed on, 7/16 ahead, 3/16 behind-below, 5/16 below and 1/16
    ahead-below. Where the strength is 0 the pixel keeps its entry from ``indices`` (its
    nearest colour: exact where the palette holds it) and the error it received stops there:
    none crosses a transparent pixel or one the palette matches. The nearest colour is found
    by brute force over the palette; ties go to the lower index.

    Two guards keep the noise down, as libimagequant's do. A pixel plus its received error is
    clamped to ``[lower, upper]``: without it, error piles up where the image leaves the
    palette's hull (a white the palette lacks) and bursts out as streaks of a wrong colour.
    An error whose squared size exceeds ``max_error`` is damped (by 0.8 on the way in, 0.75
    on the way out), so one far colour does not ripple across the image; one below ``faint``
    is dropped, so faint error does not turn a flat area into noise.

    Parameters
    ----------
    pixels : ndarray of shape (height, width, n_channels), float64, IN
        The image in the colour space the error is measured in.
    palette : ndarray of shape (n_colors, n_channels), float64, IN
    strength : ndarray of shape (height, width), float64, IN
        In [0, 1] per pixel; 0 everywhere gives the nearest colour of every pixel.
    lower, upper : ndarray of shape (n_channels,), float64, IN
        The range of every channel, e.g. the image's own minimum and maximum.
    faint, max_error : float
        Squared errors below which the received error is dropped and beyond which it is damped.
    indices : ndarray of shape (height, width), uint8, IN/OUT
        In: the nearest palette entry of every pixel. Out: the dithered entry.
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
            s = strength[y, x]
            if s <= 0.0:
                x += step
                continue
            size = 0.0
            for c in range(n_channels):
                size += (s * err_this[x + 1, c]) ** 2
            if size < faint:
                s = 0.0
            elif size > max_error:
                s *= 0.8
            for c in range(n_channels):
                value[c] = min(max(pixels[y, x, c] + s * err_this[x + 1, c], lower[c]),
                               upper[c])
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
            damp = 0.75 if best_dist > max_error else 1.0
            for c in range(n_channels):
                err = damp * (value[c] - palette[best, c])
                err_this[x + 1 + step, c] += err * (7.0 / 16.0)
                err_next[x + 1 - step, c] += err * (3.0 / 16.0)
                err_next[x + 1, c] += err * (5.0 / 16.0)
                err_next[x + 1 + step, c] += err * (1.0 / 16.0)
            x += step
        err_this, err_next = err_next, err_this
        err_next[:, :] = 0.0
