"""Quality targets, pngquant's ``--quality MIN-MAX``: a 0-100 scale on mean CIEDE2000, and the
search for the fewest colours that reach it.

The scale: quality ``q`` asks for a mean ΔE2000 (over pixels, palette against original, before
any dithering) of at most ``0.45 (100 - q) ** 0.44``, times ``20 / q`` below 20. Some points:
100 is lossless, 95 is 0.91, 90 is 1.24, 80 is 1.68, 65 is 2.15, 50 is 2.52, 20 is 3.09, 10
is 6.5 and 0 accepts anything. It was fitted to what pngquant 2.18 reaches (undithered) on
four of scikit-image's photographs at the same settings (65: 2.11, 80: 1.74 where 256
colours allowed it), so that a quality means about the same in both.
"""

from __future__ import annotations

import math

#: ΔE2000 = _SCALE (100 - q) ** _POWER, from quality 20 up.
_SCALE = 0.45
_POWER = 0.44
#: Below this quality the allowed error grows as 1 / q, so that 0 accepts anything.
_LOW = 20


def quality_to_delta_e(quality: float) -> float:
    """The largest mean ΔE2000 that reaches ``quality`` in [0, 100] (inf at 0, 0 at 100)."""
    if quality <= 0:
        return math.inf
    error = _SCALE * (100.0 - quality) ** _POWER
    return error * max(1.0, _LOW / quality)


def delta_e_to_quality(delta_e: float) -> int:
    """The highest whole quality that a mean ΔE2000 of ``delta_e`` reaches, in [0, 100]."""
    # quality_to_delta_e falls as quality rises: the answer is the last q it allows.
    return max((q for q in range(101) if delta_e <= quality_to_delta_e(q) + 1e-12), default=0)


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
