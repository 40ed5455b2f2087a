"""Where to dither: a per-pixel strength map for the error diffusion of ``_kernels.dither``.

Error diffusion pays where a smooth area would otherwise fall into flat bands of palette
colours; it costs where the image is busy (edges and texture already hide the palette's error,
and dither noise there only adds error and bytes) and where the palette already matches.
The maps follow libimagequant's ideas (contrast and run-length maps); the code is lloyd's own.
"""

from __future__ import annotations

import numpy as np

#: Strength of the diffusion where the map allows it fully: a little under 1, so error does
#: not build up over long flat runs (libimagequant uses 15/16 likewise).
FULL_STRENGTH = 15.0 / 16.0


def _shift_stack(a: np.ndarray) -> np.ndarray:
    """The 3 x 3 neighbourhood of every pixel of a 2-D map, edges repeated: (9, h, w)."""
    p = np.pad(a, 1, mode="edge")
    h, w = a.shape
    return np.stack([p[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)])


def _max3(a):
    return _shift_stack(a).max(axis=0)


def _min3(a):
    return _shift_stack(a).min(axis=0)


def _box_blur(a: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2 radius + 1)² box, edges repeated, by cumulative sums (separable)."""
    for axis in (0, 1):
        p = np.pad(a, [(radius + 1, radius) if ax == axis else (0, 0) for ax in (0, 1)],
                   mode="edge")
        c = np.cumsum(p, axis=axis)
        n = a.shape[axis]
        hi = np.take(c, np.arange(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
        lo = np.take(c, np.arange(0, n), axis=axis)
        a = (hi - lo) / (2 * radius + 1)
    return a


def contrast_map(image: np.ndarray, scale: float) -> np.ndarray:
    """How smooth each pixel's surroundings are, in [0, 1]: 1 flat or a gentle gradient, near 0
    at edges, fine texture and noise. Shape (h, w) from an image (h, w, d) in the working space.

    The local contrast is the larger of the horizontal and vertical second differences, summed
    over channels, in units of ``scale`` (the working space's range). Texture areas are grown
    and smoothed, edges thinned to one pixel's reach, so that dithering stops short of both.
    """
    p = np.pad(image / scale, ((1, 1), (1, 1), (0, 0)), mode="edge")
    centre = p[1:-1, 1:-1]
    horiz = np.abs(p[1:-1, :-2] + p[1:-1, 2:] - 2 * centre).sum(axis=2)
    vert = np.abs(p[:-2, 1:-1] + p[2:, 1:-1] - 2 * centre).sum(axis=2)
    edge = np.minimum(np.maximum(horiz, vert), 1.0)
    z = edge - 0.5 * np.abs(horiz - vert)
    z = 1.0 - np.minimum(np.maximum(z, np.minimum(horiz, vert)), 1.0)
    noise = (80.0 + 176.0 * z**4) / 256.0
    edges = 1.0 - edge
    # Texture: grown then smoothed, then grown back (thin lines are not texture).
    noise = _box_blur(_max3(_max3(noise)), 3)
    noise = _min3(_min3(_min3(_max3(noise))))
    edges = _max3(_min3(edges))
    return np.minimum(noise, edges)


def run_map(labels: np.ndarray) -> np.ndarray:
    """How much each pixel sits in a band of one palette entry, as a factor in (0, 1].

    Along every row, a run of pixels with the same nearest entry scores 10 a pixel and 15
    more for each of its pixels whose neighbour above or below has that entry too. Long runs
    (the flat bands dithering is for) reach 1; a pixel alone, at 295 / 640, about half.
    """
    h, w = labels.shape
    starts = np.ones((h, w), dtype=bool)
    starts[:, 1:] = labels[:, 1:] != labels[:, :-1]
    score = np.full((h, w), 10.0)
    score[1:] += 15.0 * (labels[1:] == labels[:-1])
    score[:-1] += 15.0 * (labels[:-1] == labels[1:])
    flat_starts = np.flatnonzero(starts.ravel())
    totals = np.add.reduceat(score.ravel(), flat_starts)
    run_of = np.cumsum(starts.ravel()) - 1
    return np.minimum((255.0 + totals[run_of]) / 640.0, 1.0).reshape(h, w)


def strength_map(image: np.ndarray, labels: np.ndarray, exact: np.ndarray, *, scale: float,
                 strength: float) -> np.ndarray:
    """The diffusion strength of every pixel, (h, w) float64 in [0, strength].

    Parameters
    ----------
    image : ndarray of shape (h, w, d), float64
        The image in the working space.
    labels : ndarray of shape (h, w)
        The nearest palette entry of every pixel (the undithered remap).
    exact : ndarray of shape (h, w), bool
        Pixels that must keep their nearest entry: their colour is in the palette, or they are
        fully transparent.
    scale : float
        The working space's range (for the contrast map's units).
    strength : float
        The user's strength in (0, 1].
    """
    out = contrast_map(image, scale) * run_map(labels)
    out *= FULL_STRENGTH * strength
    out[exact] = 0.0
    return out


#: Received error below this squared size, in 8-bit sRGB units, is dropped (a flat area the
#: palette nearly matches stays flat, and small).
_FAINT_RGB = 2.0
#: Diffused error is damped beyond this many times the palette's mean squared error ...
_MAX_ERROR_RATIO = 2.4
#: ... and never below this squared size in 8-bit sRGB units.
_MAX_ERROR_FLOOR_RGB = 16.0


def dither_frames(frames: np.ndarray, palette: np.ndarray, labels: np.ndarray,
                  exact: np.ndarray, *, strength: float, lower: np.ndarray,
                  upper: np.ndarray) -> np.ndarray:
    """Selective error diffusion of every frame onto ``palette``; returns (n, h, w) uint8.

    Assumes ``frames`` (n, h, w, d) and ``palette`` (k, d) in the working space, ``labels``
    (n, h, w) the nearest entry of every pixel, ``exact`` (n, h, w) the pixels that keep it,
    ``strength`` in (0, 1] and ``lower``, ``upper`` (d,) the working space's box. Frame by
    frame: error carried from one frame into the next would make a frame's dither depend on
    the frames before it.
    """
    from lloyd._remap import dither_indices

    scale = float(upper[0] - lower[0])
    units = (scale / 255.0) ** 2
    out = np.empty(labels.shape, dtype=np.uint8)
    for i, frame in enumerate(frames):
        diff = frame - palette[labels[i]]
        mse = float(np.mean(np.sum(diff * diff, axis=-1)))
        max_error = max(_MAX_ERROR_RATIO * mse, _MAX_ERROR_FLOOR_RGB * units)
        strengths = strength_map(frame, labels[i], exact[i], scale=scale, strength=strength)
        out[i] = dither_indices(frame, palette, labels[i], strengths, lower=lower, upper=upper,
                                faint=_FAINT_RGB * units, max_error=max_error)
    return out
