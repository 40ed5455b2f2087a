# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Serpentine error diffusion onto a fixed palette, one pixel at a time, with a strength map.

A sequential loop (each pixel depends on the error of the ones before it), compiled ahead of
time: dithering one image no longer imports numba and loads its cache (~0.6 s, three times
pngquant's whole run). Built with ``-ffp-contract=off``, so every sum rounds as written.
"""


def floyd_steinberg(const double[:, :, ::1] pixels, const double[:, ::1] palette,
                    const double[:, ::1] strength, const double[::1] lower,
                    const double[::1] upper, double faint, double max_error,
                    unsigned char[:, ::1] indices, double[:, ::1] err_this,
                    double[:, ::1] err_next, double[::1] value):
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
    cdef Py_ssize_t height = pixels.shape[0], width = pixels.shape[1]
    cdef Py_ssize_t n_channels = pixels.shape[2], n_colors = palette.shape[0]
    cdef Py_ssize_t y, x, stop, step, c, k, best
    cdef double s, size, dist, diff, best_dist, damp, err, e
    cdef double[:, ::1] this_row = err_this
    cdef double[:, ::1] next_row = err_next
    cdef double[:, ::1] swap
    with nogil:
        this_row[:, :] = 0.0
        next_row[:, :] = 0.0
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
                    e = s * this_row[x + 1, c]
                    size += e * e
                if size < faint:
                    s = 0.0
                elif size > max_error:
                    s *= 0.8
                for c in range(n_channels):
                    value[c] = min(max(pixels[y, x, c] + s * this_row[x + 1, c], lower[c]),
                                   upper[c])
                best = 0
                best_dist = 1.0 / 0.0
                for k in range(n_colors):
                    dist = 0.0
                    for c in range(n_channels):
                        diff = value[c] - palette[k, c]
                        dist += diff * diff
                    if dist < best_dist:
                        best_dist = dist
                        best = k
                indices[y, x] = <unsigned char>best
                damp = 0.75 if best_dist > max_error else 1.0
                for c in range(n_channels):
                    err = damp * (value[c] - palette[best, c])
                    this_row[x + 1 + step, c] += err * (7.0 / 16.0)
                    next_row[x + 1 - step, c] += err * (3.0 / 16.0)
                    next_row[x + 1, c] += err * (5.0 / 16.0)
                    next_row[x + 1 + step, c] += err * (1.0 / 16.0)
                x += step
            swap = this_row
            this_row = next_row
            next_row = swap
            next_row[:, :] = 0.0
