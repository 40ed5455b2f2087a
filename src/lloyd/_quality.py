"""Quality targets, pngquant's ``--quality MIN-MAX``: pngquant's 0-100 scale on a weighted mean
squared error, and the search for the fewest colours that reach it.

The scale is libimagequant's (``quality_to_mse``; :func:`mse_to_quality` gives the quality
``pngquant -v`` prints for the MSE it prints) on the error pngquant measures: colours
premultiplied by opacity, each channel raised to the power 0.5499 / 0.45455 (libimagequant's
internal gamma), weighted 0.5 (red), 1 (green), 0.45 (blue) and 0.625 (alpha), squared
differences summed over channels and averaged over the pixels that are not fully transparent.
Two corrections:

- pngquant's printed MSE of its own output is 2.0-2.5 times this measure of it on every
  photograph of scikit-image (:data:`_PNGQUANT_RATIO`), but 1.8-9 times on graphics, whose
  error sits on few pixels (anti-aliased edges, gentle gradients) among many exact ones that
  dilute a mean. So the mean is divided by the square root of the share of pixels with any
  error (:data:`_DILUTION_POWER`): on photographs (every pixel is off a little) it changes
  nothing; on icons it brings the ratio to 1.1-1.8.
- pngquant's palette search overshoots MAX (its median cut stops on an estimate of the
  error, which k-means then lowers); lloyd's finds the fewest colours that just reach it.
  To give as good images, the search aims at :data:`AIM` times MAX's error. MIN is the
  limit as the scale has it, so an image pngquant writes at MIN, lloyd writes too.

A first scale, on mean CIEDE2000, forgave graphics (quality 80 took 9 colours on icons where
pngquant took 46, with three times its ΔE2000) and refused 4 of 9 photographs at 80 that
pngquant wrote. Figures: ``benchmarks/results_image.md``.
"""

from __future__ import annotations

import math

import numpy as np

#: libimagequant's per-channel weights (red, green, blue, alpha) and internal gamma.
_WEIGHTS = np.array([0.5, 1.0, 0.45, 0.625])
_GAMMA_POWER = 0.5499 / 0.45455
#: pngquant prints its mean squared error times 65536 / 6.
_PRINTED_UNITS = 65536.0 / 6.0
#: pngquant's printed MSE of its own output over this module's measure of it (about the
#: median over scikit-image's 9 photographs, pngquant --nofs at 64 colours).
_PNGQUANT_RATIO = 2.3
#: The error is divided by (share of visible pixels with any error) to this power.
_DILUTION_POWER = 0.5
#: The search aims at this times MAX's error. bench_image.py --mode quality, 65-80: 0.7 gives
#: 167 colours on the photographs (pngquant 156) and ΔE2000 1.72 (pngquant 1.79, dithered),
#: 1 gives 113 and 1.95; on the graphics at 80-95, 0.7 leaves ΔE2000 level (0.176 / 0.177).
AIM = 0.6


def quality_to_mse(quality: float) -> float:
    """The largest error (:func:`mean_squared_error`) that reaches ``quality`` in [0, 100].

    libimagequant's ``quality_to_mse`` in pngquant's printed units: inf at 0, 0 at 100.
    """
    if quality <= 0:
        return math.inf
    if quality >= 100:
        return 0.0
    low_quality_fudge = max(0.016 / (0.001 + quality) - 0.001, 0.0)
    return _PRINTED_UNITS * (low_quality_fudge + 2.5 / (210.0 + quality) ** 1.2
                             * (100.1 - quality) / 100.0)


def mse_to_quality(mse: float) -> int:
    """The highest whole quality that an error of ``mse`` reaches, in [0, 100]."""
    # quality_to_mse falls as quality rises: the answer is the last q it allows.
    return max((q for q in range(101) if mse <= quality_to_mse(q) * (1 + 1e-12)), default=0)


def error_features(colors: np.ndarray) -> np.ndarray:
    """uint8 sRGB(A) colours (n, 3 | 4) -> the space the error is measured in, (n, 4) float64."""
    colors = np.asarray(colors, dtype=np.float64) / 255.0
    alpha = colors[:, 3:] if colors.shape[1] == 4 else np.ones((colors.shape[0], 1))
    out = np.hstack([colors[:, :3] ** _GAMMA_POWER * alpha, alpha])
    return out * _WEIGHTS


def mean_squared_error(colors_f: np.ndarray, palette_f: np.ndarray, entries: np.ndarray,
                       counts: np.ndarray) -> float:
    """The quality scale's error of a palette, from a colour histogram.

    ``colors_f`` (n, 4) and ``palette_f`` (k, 4) from :func:`error_features`, ``entries`` (n,)
    each colour's palette entry and ``counts`` (n,) its pixels, fully transparent ones
    counted as 0. The mean squared error over the pixels counted, divided by the square root
    of the share of them with any error, in pngquant's printed units; 0 when none has any.
    """
    diff = colors_f - palette_f[entries]
    squared = (diff * diff).sum(axis=1)
    total = counts.sum()
    inexact = counts[squared > 0].sum()
    if inexact <= 0:
        return 0.0
    mean = float(np.dot(squared, counts) / total)
    return mean * (total / inexact) ** _DILUTION_POWER * _PRINTED_UNITS * _PNGQUANT_RATIO


def fewest_colors(error_of, target: float, max_colors: int):
    """The fewest colours in [1, ``max_colors``] whose error is at most ``target``, by bisection.

    ``error_of(k)`` fits a palette of ``k`` colours and returns ``(error, result)``; each ``k``
    is tried once (the answers are kept). The error is taken to fall as ``k`` grows, which
    k-means palettes do but for noise: the answer is the first ``k`` the bisection finds at or
    under the target. When even ``max_colors`` misses it, that is the answer.

    Returns
    -------
    n_colors : int
    error : float
    result : whatever ``error_of`` returned for it
    """
    tried = {}

    def attempt(k):
        if k not in tried:
            tried[k] = error_of(k)
        return tried[k]

    if attempt(max_colors)[0] > target:
        return max_colors, *tried[max_colors]
    lo, hi = 0, max_colors  # error(lo) > target (or lo = 0), error(hi) <= target
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if attempt(mid)[0] <= target:
            hi = mid
        else:
            lo = mid
    return hi, *tried[hi]
