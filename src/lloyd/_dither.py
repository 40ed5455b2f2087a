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
_FULL_STRENGTH = 15.0 / 16.0
#: The contrast maps read second differences in units of this many times the working space's
#: range: 1.5 is about libimagequant's sensitivity (it sums weighted channels, ~2 for grey,
#: where lloyd sums three unweighted ones).
_CONTRAST_UNITS = 1.5
#: The run-length factor enters the strength to this power: at 1 (libimagequant's) busy areas
#: dither at half strength and lose blurred ΔE2000 to pngquant at 64 colours; at 0.35 they
#: gain it back for little PSNR (6 photographs, see benchmarks/results_image.md).
_RUN_POWER = 0.35
#: Palette fits weight every pixel by its texture factor to this power, so the palette spends
#: its colours where dither noise would show (smooth areas) rather than in texture that hides
#: it: at 64 colours SSIM 0.9218 -> 0.9239 on rocket, motorcycle_left and ihc (power 1 -> 2).
_TEXTURE_WEIGHT_POWER = 2.0
#: Dithering fades out as the palette gets close: the strength is scaled by the palette's
#: mean squared error (over the pixels that may be dithered, in 8-bit sRGB units summed over
#: channels) over this, where that is below 1.
#: With 256 colours on a photograph (MSE about 20) dithering adds more noise (SSIM) than it
#: removes banding (blurred ΔE2000); with 64 (MSE about 65) it is worth it at full strength.
_MSE_FULL_RGB = 25.0
#: ... but only in an image with fine noise of its own (a photograph's grain, which already
#: breaks up bands): the MSE above is scaled by the image's :func:`grain` over this (8-bit
#: units), where that is below 1. Icons' gradients are noiseless (grain 0), so any banding
#: shows and they dither at full strength: on the 12 graphics of bench_image.py blurred
#: ΔE2000 at 16 / 64 colours falls from 0.357 / 0.154 to 0.342 / 0.148 (pngquant: 0.347 /
#: 0.151); of scikit-image's photographs only rocket and retina (grain 3 and 2) change.
_GRAIN_FULL = 4.0
#: Received error below this squared size, in 8-bit sRGB units, or this fraction of the
#: palette's mean squared error if larger, is dropped: a flat area the palette nearly matches
#: stays flat, and small. 9 photographs, 64 colours: 2 alone leaves mean ΔE2000 level with
#: pngquant's (2.352 / 2.350), 5 wins it (2.347) but at 256 colours loses blurred ΔE2000
#: (0.868 / 0.864, against 0.847 with 2); the fraction gives each its own.
_FAINT_RGB = 2.0
_FAINT_RATIO = 0.08
#: Diffused error is damped beyond this many times the palette's mean squared error ...
_MAX_ERROR_RATIO = 2.4
#: ... and never below this squared size in 8-bit sRGB units.
_MAX_ERROR_FLOOR_RGB = 16.0


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


def contrast_maps(image: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """How smooth each pixel's surroundings are: (texture, edges), each (h, w) in [0, 1].

    From an image (h, w, d) in the working space. The local contrast is the larger of the
    horizontal and vertical second differences, summed over channels, in units of ``scale``
    (the working space's range). ``texture`` is 1 where the image is flat or a gentle gradient
    and falls to 80/256 in fine texture and noise (grown and smoothed: a thin line is not
    texture); ``edges`` is the lower of it and 1 less the contrast (thinned to one pixel's
    reach), so that dithering stops short of both.
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
    return noise, np.minimum(noise, edges)


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


def smoothness(frames: np.ndarray, lower: np.ndarray, upper: np.ndarray):
    """:func:`contrast_maps` of every frame (n, h, w, d) in the working space, whose box is
    ``lower``, ``upper``: (texture, edges), each (n, h, w)."""
    units = _CONTRAST_UNITS * float(upper[0] - lower[0])
    maps = [contrast_maps(frame, units) for frame in frames]
    return np.stack([m[0] for m in maps]), np.stack([m[1] for m in maps])


def palette_weights(texture: np.ndarray, inverse: np.ndarray, n_unique: int) -> np.ndarray:
    """Pixel weights for a palette fit that will be dithered, summed per distinct colour.

    ``texture`` (n, h, w) from :func:`smoothness`, ``inverse`` the histogram's pixel -> colour
    map; returns (n_unique,) float64, each colour's pixels weighted by texture ** 2.
    """
    return np.bincount(inverse, weights=texture.ravel() ** _TEXTURE_WEIGHT_POWER,
                       minlength=n_unique)


def grain(frame: np.ndarray, where: np.ndarray) -> float:
    """The image's own fine noise: the median over ``where`` (h, w) of the smaller of the
    horizontal and vertical second differences of ``frame`` (h, w, d), summed over colours.

    In the working space's units. scikit-image's photographs have 2 (retina) to 15 (Hubble)
    on the 8-bit scale; Adwaita's icons and lloyd's figures 0 or 1.
    """
    c = frame[:, :, :3]
    horiz = np.abs(c[1:-1, :-2] + c[1:-1, 2:] - 2 * c[1:-1, 1:-1]).sum(axis=2)
    vert = np.abs(c[:-2, 1:-1] + c[2:, 1:-1] - 2 * c[1:-1, 1:-1]).sum(axis=2)
    inner = where[1:-1, 1:-1]
    return float(np.median(np.minimum(horiz, vert)[inner])) if inner.any() else 0.0


def dither_frames(frames: np.ndarray, palette: np.ndarray, labels: np.ndarray,
                  exact: np.ndarray, edges: np.ndarray, *, strength: float, lower: np.ndarray,
                  upper: np.ndarray) -> np.ndarray:
    """Selective error diffusion of every frame onto ``palette``; returns (n, h, w) uint8.

    Assumes ``frames`` (n, h, w, d) and ``palette`` (k, d) in the working space, ``labels``
    (n, h, w) the nearest entry of every pixel, ``exact`` (n, h, w) the pixels that keep it,
    ``edges`` (n, h, w) from :func:`smoothness`, ``strength`` in (0, 1] and ``lower``,
    ``upper`` (d,) the working space's box. A pixel's strength is ``strength`` times
    15/16, its edges factor, its run-length factor (:func:`run_map`) to the power 0.35, and
    the palette's closeness to an image with grain (:data:`_MSE_FULL_RGB`,
    :data:`_GRAIN_FULL`). Frame by frame: error carried from one
    frame into the next would make a frame's dither depend on the frames before it.
    """
    from lloyd._remap import dither_indices

    units = (float(upper[0] - lower[0]) / 255.0) ** 2  # 8-bit sRGB units -> the working space
    out = np.empty(labels.shape, dtype=np.uint8)
    for i, frame in enumerate(frames):
        # Over the pixels that may be dithered: an icon's flat, exactly matched background
        # would otherwise make any palette look close.
        loose = ~exact[i]
        diff = frame[loose] - palette[labels[i][loose]]
        mse = float(np.mean(np.sum(diff * diff, axis=-1))) if diff.size else 0.0
        noise = grain(frame, loose) / (_GRAIN_FULL * units ** 0.5)
        full_mse = _MSE_FULL_RGB * units * min(1.0, noise)
        scaled = strength * _FULL_STRENGTH * (min(1.0, mse / full_mse) if full_mse > 0 else 1.0)
        strengths = edges[i] * run_map(labels[i]) ** _RUN_POWER * scaled
        strengths[exact[i]] = 0.0
        max_error = max(_MAX_ERROR_RATIO * mse, _MAX_ERROR_FLOOR_RGB * units)
        out[i] = dither_indices(frame, palette, labels[i], strengths, lower=lower, upper=upper,
                                faint=max(_FAINT_RGB * units, _FAINT_RATIO * mse),
                                max_error=max_error)
    return out
