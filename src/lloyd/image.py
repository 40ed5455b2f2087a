"""Colour quantization by k-means: an image in K colours, written as a small palette PNG.

The pipeline, one module per stage: read (``_image_io``) -> histogram of distinct colours
(``_histogram``) -> weighted k-means (here; with a quality target, over K by ``_quality``) ->
remap (``_remap``) and selective dithering (``_dither``) -> palette PNG (``_quantized``).
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np

from lloyd._dither import dither_frames, palette_weights, smoothness
from lloyd._histogram import coarse_bins, color_histogram
from lloyd._image_io import (
    ImageReadError,
    MultiFrameWarning,
    check_output,
    read_frames,
    read_image,
)
from lloyd._quality import (
    AIM,
    error_features,
    fewest_colors,
    mean_squared_error,
    mse_to_quality,
    quality_to_mse,
)
from lloyd._quantized import (
    QualityTooLowError,
    QuantizedImage,
    QuantizeReport,
    _histogram_delta_e,
)
from lloyd._remap import nearest, order_palette
from lloyd._runs import fit_weighted
from lloyd.color import (
    _ALPHA_SCALE,
    COLOR_SPACES,
    _bytes_to_lab,
    _from_space,
    _to_space,
)

__all__ = [
    "ImageReadError",
    "MultiFrameWarning",
    "QualityTooLowError",
    "QuantizeReport",
    "QuantizedImage",
    "compress",
    "quantize",
    "speed_options",
]

#: A PNG palette holds at most 256 colours.
MAX_COLORS = 256
#: The coarse histogram keeps 6 bits a channel (64 levels): about ten times fewer points.
_COARSE_DROP_BITS = 2
#: Seed through the coarse histogram only when it still has this many bins per colour ...
_COARSE_MIN_BINS_PER_COLOR = 4
#: ... and the full one has at least this many colours. Below, restarts on the full histogram
#: cost little, and the coarse one loses what graphics are made of (gentle gradients in steps
#: of one or two levels): on Adwaita's folder icon at 64 colours (1,314 colours), seeding
#: through it ends at a mean squared error of 0.95 against 0.72 without (scikit-learn: 0.72).
_COARSE_MIN_COLORS = 16384
#: n_init='auto': (fewer than this many colours, restarts), in order; one restart beyond.
_AUTO_RESTARTS = ((32, 8), (128, 3))
#: From this many colours the palette is fitted with Hamerly's algorithm.
_HAMERLY_MIN_COLORS = 128
#: Palette fits over-relax Lloyd's step: each entry moves this many times the way to its
#: colours' mean (the step that converges is a plain one, so the palette is still a k-means
#: fixed point). 8 photographs, K = 16 / 64 / 256, in-process ms an image and mean PSNR:
#: 1.0: 88 / 137 / 192 ms, 29.791 / 35.281 / 39.901 dB; 1.5: 91 / 104 / 172 ms, 29.791 /
#: 35.280 / 39.908; 1.8: 73 / 99 / 158 ms, 29.794 / 35.288 / 39.906; 1.95: 80 / 109 / 216 ms
#: (closer to 2 it overshoots, and the iterations grow again).
_PALETTE_RELAXATION = 1.8


def quantize(image, n_colors: int | None = None, *, quality=None, color_space: str = "rgb",
             dither=False, posterize: int = 0, strip: bool = False, init="k-means++",
             n_init="auto", max_iter: int = 300, tol: float = 1e-4, random_state=None,
             frames: str = "first") -> QuantizedImage:
    """Reduce an image to at most ``n_colors`` colours by k-means on its distinct colours.

    The distinct colours and their pixel counts form a weighted histogram; weighted k-means on
    it finds the same palette as k-means on every pixel, far faster. The restarts run on a
    coarser histogram (6 bits a channel, each bin its mean colour), then the best start is
    refined on the full one. Every pixel then takes its nearest palette colour, or is dithered.
    An image with at most ``n_colors`` distinct colours comes back unchanged (lossless).

    Parameters
    ----------
    image : str, path, bytes, PIL.Image.Image or array-like
        A file (or its bytes) Pillow reads (PNG, JPEG, WebP, GIF, TIFF, BMP, ...), an image
        in any mode, or an array of shape (height, width[, 1 | 2 | 3 | 4]): uint8, or floats
        in [0, 1]. EXIF orientation is applied. Of several frames (an animated GIF, PNG or
        WebP, a multi-page TIFF) only the first is used, with a :class:`MultiFrameWarning`,
        unless ``frames`` is 'all'.
    n_colors : int, default=None
        The palette size, 1 to 256; 1 gives the mean colour. None is 16, or with ``quality``
        256: then it is the most colours allowed.
    quality : (int, int) or None, default=None
        ``(min, max)`` on pngquant's 0-100 scale, as its ``--quality``: the fewest colours (at
        most ``n_colors``) that reach ``max`` are used, found by bisection over the number of
        colours; if even ``n_colors`` stay below ``min``, :class:`QualityTooLowError` is
        raised. The scale is pngquant's formula on the error pngquant measures (a weighted
        mean squared error of premultiplied colours, before dithering; see ``lloyd._quality``),
        so a quality means about what it means to pngquant; the search aims a little beyond
        ``max``, as pngquant's does. ``report.quality`` says the quality reached.
    color_space : {'rgb', 'lab', 'oklab'}, default='rgb'
        Where distances are measured: 'rgb' minimises squared error (best PSNR), 'lab'
        (CIELAB) and 'oklab' follow perception. The palette is always written as sRGB.
    dither : bool or float, default=False
        Selective error diffusion (serpentine Floyd–Steinberg) with this strength in [0, 1];
        True is 1. Each pixel's share of the error depends on its surroundings: none across
        strong edges, less in texture (which hides the palette's error), most in smooth areas
        where the palette would leave bands, and none for pixels whose colour the palette
        holds or that are fully transparent; in an image with grain of its own (a photograph)
        it fades as the palette nears the image (mean squared error below 25 on the 8-bit
        scale), where that grain already hides the bands. The palette is then fitted with
        smooth areas weighted up, where dither noise would show. Off by default: it lowers
        the error the eye sees of banding (blurred ΔE2000) but raises PSNR's, plain
        ΔE2000's and the file's size; see ``benchmarks/results_image.md``.
    posterize : int, default=0
        Bits dropped from every channel of the palette, 0 to 4, as pngquant's ``--posterize``:
        4 gives colours a 16-bit ARGB4444 display shows exactly (each channel a multiple of
        17). The palette is fitted, then rounded, and every colour remapped.
    strip : bool, default=False
        Drop the input's metadata. By default the PNG keeps its colour profile (iCCP),
        gamma (gAMA, cHRM, sRGB), resolution (pHYs) and text chunks, as pngquant does; EXIF
        is not kept (its orientation is applied to the pixels).
    init : {'k-means++', 'random'} or array-like of shape (n_colors, n_channels), \
default='k-means++'
        How the restarts start; an array gives the starting palette as sRGB (and alpha) on the
        0–255 scale (one row less when the image has fully transparent pixels: they keep an
        entry of their own).
    n_init : int or 'auto', default='auto'
        Restarts; the one with the lowest inertia is refined. 'auto' is 8 below 32 colours, 3
        below 128 and 1 from 128: with few colours the restarts are cheap (short seedings on
        the coarse histogram) and their local optima differ most; with many they differ little
        (on scikit-image's photographs, 8 restarts instead of 3 gain 0.014 dB at 16 colours, 3
        instead of 1 gain 0.004 dB at 256, where each costs a seeding of 255 steps).
    max_iter : int, default=300
        Iterations of each k-means run at most.
    tol : float, default=1e-4
        Relative centre movement below which a run has converged.
    random_state : int, numpy.random.RandomState or None, default=None
        The same seed, image and options give a byte-identical file.
    frames : {'first', 'all'}, default='first'
        'all' quantizes every frame with one palette fitted on the colours of all of them
        together, and keeps the frames: ``indices`` gets a leading frame axis and the file is
        an animated PNG with the input's frame durations and loop count. Every frame is read
        as Pillow composites it and dithered on its own. An array of shape (n_frames, height,
        width, channels) is then a stack of frames. An input of one frame gives the same
        result as 'first'.

    Returns
    -------
    QuantizedImage

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> image = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    >>> result = quantize(image, 4, random_state=0)
    >>> result.palette.shape, result.indices.shape, result.report.n_colors
    ((4, 3), (32, 32), 4)

    Three frames, one palette:

    >>> frames = rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    >>> result = quantize(frames, 4, frames="all", random_state=0)
    >>> result.frames, result.palette.shape, result.indices.shape
    (3, (4, 3), (3, 32, 32))

    The fewest colours that reach quality 80, up to 256:

    >>> gradient = np.linspace(0, 1, 64 * 64 * 3).reshape(64, 64, 3)
    >>> result = quantize(gradient, quality=(50, 80), random_state=0)
    >>> result.report.quality >= 80, len(result.palette) < 256
    (True, True)
    """
    quality = _check_quality(quality)
    if n_colors is None:
        n_colors = MAX_COLORS if quality is not None else 16
    n_colors = _check_n_colors(n_colors)
    if quality is not None and not isinstance(init, str):
        raise ValueError("init must be 'k-means++' or 'random' with quality: the number of "
                         "colours is searched, so no array of starting colours fits.")
    if color_space not in COLOR_SPACES:
        raise ValueError(f"color_space={color_space!r} must be one of {list(COLOR_SPACES)}.")
    strength = _check_dither(dither)
    if (isinstance(posterize, bool) or not isinstance(posterize, numbers.Integral)
            or not 0 <= posterize <= 4):
        raise ValueError(f"posterize={posterize!r} must be an integer in [0, 4]: the bits "
                         "dropped from every channel.")
    if isinstance(init, str) and init not in ("k-means++", "random"):
        raise ValueError(f"init={init!r} must be 'k-means++', 'random' or an array of colours.")
    if isinstance(n_init, str):
        if n_init != "auto":
            raise ValueError(f"n_init must be an integer >= 1 or 'auto', got {n_init!r}.")
        n_init = next((r for limit, r in _AUTO_RESTARTS if n_colors < limit), 1)
    n_init = _check_positive_int(n_init, "n_init")
    max_iter = _check_positive_int(max_iter, "max_iter")
    if not isinstance(tol, numbers.Real) or not tol >= 0:
        raise ValueError(f"tol={tol!r} must be a number >= 0.")
    if not isinstance(frames, str) or frames not in ("first", "all"):
        raise ValueError(f"frames={frames!r} must be 'first' or 'all'.")
    if frames == "all":
        pixels, animation, input_bytes, name, metadata = read_frames(image)
    else:
        (pixels, input_bytes, name, metadata), animation = read_image(image), None
    return _quantize(pixels, n_colors, color_space=color_space, strength=strength, init=init,
                     n_init=n_init, max_iter=max_iter, tol=float(tol),
                     random_state=random_state, input_bytes=input_bytes, name=name,
                     animation=animation, quality=quality, posterize=int(posterize),
                     metadata=None if strip else metadata)


def compress(source, output, n_colors: int | None = None, *, overwrite: bool = False,
             **options) -> QuantizedImage:
    """Read ``source``, quantize it and write a palette PNG to ``output`` (file to file).

    Never replaces an existing file (the input included) unless ``overwrite`` is true; the
    check happens before any work, and the file is written atomically.

    Parameters
    ----------
    source : str or path
    output : str or path
    n_colors : int, default=None
        As for :func:`quantize`: 16, or the most colours allowed with ``quality``.
    overwrite : bool, default=False
    **options
        Passed to :func:`quantize`; ``frames='all'`` writes every frame of an animated or
        multi-page input as an animated PNG with one shared palette.

    Returns
    -------
    QuantizedImage

    Raises
    ------
    ImageReadError
        The input is missing, not an image, truncated or over Pillow's pixel limit.
    FileExistsError
        ``output`` exists and ``overwrite`` is false.
    QualityTooLowError
        With ``quality=(min, max)``, when ``min`` is out of reach; nothing is written.
    """
    output = Path(output)
    check_output(output, overwrite=overwrite)
    result = quantize(source, n_colors, **options)
    result.save(output, overwrite=overwrite)
    return result


#: pngquant's ``--speed`` (1 slowest to 11 fastest; 4 its default) as k-means options, from the
#: fastest speed up. ``bench_image.py --mode speed`` on astronaut, coffee and motorcycle_left
#: (file to file, median of 3, load 3-5): at 256 colours speed 7 takes 0.77 s an image against
#: 1.40 s for -0.03 dB PSNR, speed 10 0.31 s for -0.09 dB; at 16 colours speed 10 takes 0.10 s
#: against 0.13 s for -0.02 dB, and 11 (one restart instead of 8) 0.09 s for -0.21 dB.
#: Below 5 nothing is slower: the palette fit already runs to convergence.
_SPEEDS = ((11, {"max_iter": 3, "n_init": 1}), (8, {"max_iter": 3}), (5, {"max_iter": 10}))


def speed_options(speed: int) -> dict:
    """:func:`quantize`'s ``max_iter`` and ``n_init`` for pngquant's ``--speed`` ``speed``.

    Parameters
    ----------
    speed : int
        1 (slowest) to 11 (fastest), as pngquant's. 1 to 4 are lloyd's defaults (the fit runs
        to convergence); 5 to 7 stop k-means after 10 iterations, 8 to 10 after 3, and 11
        also drops the restarts: at 256 colours half the time for 0.03 dB PSNR (7) or a
        quarter for 0.09 dB (10); at 16 colours, where the fit is short, a quarter less for
        0.02 dB (10) or 0.2 dB (11).

    Returns
    -------
    dict
        Keyword arguments for :func:`quantize` (empty at 1 to 4).

    Examples
    --------
    >>> speed_options(4), speed_options(8)
    ({}, {'max_iter': 3})
    """
    if isinstance(speed, bool) or not isinstance(speed, numbers.Integral) or not 1 <= speed <= 11:
        raise ValueError(f"speed={speed!r} must be an integer in [1, 11], as pngquant's --speed.")
    return dict(next((options for fastest, options in _SPEEDS if speed >= fastest), {}))


def _check_n_colors(n_colors) -> int:
    if isinstance(n_colors, bool) or not isinstance(n_colors, numbers.Integral):
        raise ValueError(f"n_colors must be an integer in [1, {MAX_COLORS}], got {n_colors!r}.")
    if not 1 <= n_colors <= MAX_COLORS:
        raise ValueError(
            f"n_colors={n_colors} must be in [1, {MAX_COLORS}]: a PNG palette holds at most "
            f"{MAX_COLORS} colours."
        )
    return int(n_colors)


def _check_quality(quality):
    if quality is None:
        return None
    try:
        low, high = quality
    except (TypeError, ValueError):
        raise ValueError(f"quality must be a pair (min, max) of integers in [0, 100], got "
                         f"{quality!r}.") from None
    for value in (low, high):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not (
                0 <= value <= 100):
            raise ValueError(f"quality must be a pair (min, max) of integers in [0, 100], got "
                             f"{quality!r}.")
    if low > high:
        raise ValueError(f"quality=({low}, {high}) must have min <= max.")
    return int(low), int(high)


def _check_dither(dither) -> float:
    if isinstance(dither, bool):
        return float(dither)
    if not isinstance(dither, numbers.Real) or not 0 <= dither <= 1:
        raise ValueError(f"dither={dither!r} must be a bool or a strength in [0, 1].")
    return float(dither)


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    return int(value)


#: The middle of each working space's gamut (mid-grey), about which colours with alpha are
#: premultiplied, and the length of the opacity's axis, √3/2 of the gamut's span (see
#: :func:`_features`).
_MID = {"rgb": np.array([127.5, 127.5, 127.5]), "lab": np.array([50.0, 0.0, 0.0]),
        "oklab": np.array([0.5, 0.0, 0.0])}
_ALPHA_AXIS = {space: 3**0.5 / 2 * span for space, span in _ALPHA_SCALE.items()}


def _features(colors: np.ndarray, color_space: str) -> np.ndarray:
    """uint8 sRGB(A) colours (n, 3 | 4) -> points in the working space (n, 3 | 4), float64.

    With alpha, the distance between two points is the error of showing one pixel as the
    other, averaged over black and white backgrounds (libimagequant takes the larger of the
    two; k-means needs a Euclidean distance, and the mean of squares is within a factor 2 of
    it). Over black, colour c at opacity a shows as a·c; over white (span S) as
    a·c + (1 − a)·S. With m = S/2, the two errors per channel are Δ[a·(c − m)] ± m·Δa, and the
    mean of their squares is Δ[a·(c − m)]² + m²·Δa². So the point is the colour premultiplied
    about mid-grey, a·(c − m), with the opacity as a fourth coordinate, a·m·√3 (the three
    channels' m²·Δa² together). A translucent pixel's colour counts as much as it shows (in
    the fit, the remap and the dithering), and a fully transparent pixel is one point,
    whatever its stored colour. Premultiplied about black, as libimagequant's colours are
    (which is exact over black only), the 12 graphics of ``benchmarks/bench_image.py``
    measured over white lost 0.8-1.0 dB of PSNR at K = 16, 64 and 256, and ΔE2000 and SSIM.
    """
    out = np.empty(colors.shape, dtype=np.float64)
    out[:, :3] = _to_space(colors[:, :3] / 255.0, color_space)
    if colors.shape[1] == 4:
        out[:, :3] -= _MID[color_space]
        out[:, :3] *= colors[:, 3:] / 255.0
        out[:, 3] = colors[:, 3] * (_ALPHA_AXIS[color_space] / 255.0)
    return out


def _gamut_box(color_space: str, n_channels: int):
    """The smallest box around all sRGB(A) colours in the working space: (lower, upper)."""
    levels = np.linspace(0, 255, 18).round().astype(np.uint8)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)
    if n_channels == 4:  # every colour fully transparent and fully opaque
        grid = np.vstack([np.hstack([grid, np.full((grid.shape[0], 1), a, np.uint8)])
                          for a in (0, 255)])
    features = _features(grid, color_space)
    return features.min(axis=0), features.max(axis=0)


def _to_palette(centers: np.ndarray, color_space: str) -> np.ndarray:
    """Working-space centres -> the nearest representable sRGB(A) colours, uint8."""
    palette = np.empty(centers.shape, dtype=np.uint8)
    values = centers[:, :3]
    if centers.shape[1] == 4:
        alpha = np.clip(centers[:, 3] * (255.0 / _ALPHA_AXIS[color_space]), 0.0, 255.0)
        palette[:, 3] = np.rint(alpha)
        # Undo the premultiplication (see _features) by the opacity actually written.
        values = values / np.maximum(palette[:, 3:], 1) * 255.0 + _MID[color_space]
    rgb = _from_space(values, color_space)
    palette[:, :3] = np.rint(np.clip(rgb, 0.0, 1.0) * 255.0)
    if centers.shape[1] == 4:
        palette[palette[:, 3] == 0, :3] = 0
    return palette


def _quantize(pixels, n_colors, *, color_space, strength, init, n_init, max_iter, tol,
              random_state, input_bytes, name, animation=None, quality=None, posterize=0,
              metadata=None) -> QuantizedImage:
    """The pipeline after validation; assumes valid options and uint8 pixels.

    ``pixels`` is an image (h, w, 3 | 4), or frames (n_frames, h, w, 3 | 4) with their
    ``animation``: then one histogram and one palette serve them all. With ``quality``
    (min, max), ``n_colors`` is the most colours allowed.
    """
    *shape, width, n_channels = pixels.shape
    hist = color_histogram(pixels.reshape(-1, width, n_channels))
    features = _features(hist.colors, color_space)
    lower, upper = _gamut_box(color_space, n_channels)

    def frames():  # the image(s) in the working space, (n_frames, h, w, d)
        return features[hist.inverse].reshape(-1, shape[-1], width, features.shape[1])

    weights = hist.counts
    if strength > 0:
        texture, edges = smoothness(frames(), lower, upper)
        weights = palette_weights(texture, hist.inverse, hist.counts.shape[0])

    def palette_for(k):
        return _palette(hist, features, weights, k, color_space=color_space, init=init,
                        n_init=n_init, max_iter=max_iter, tol=tol, random_state=random_state,
                        posterize=posterize)

    reached = None
    if quality is None:
        palette, labels = palette_for(n_colors)
    else:
        colors_f = error_features(hist.colors)
        # Fully transparent pixels do not count, as in pngquant.
        counts = hist.counts * (hist.colors[:, 3] > 0 if n_channels == 4 else 1)

        def error_of(k):
            palette, labels = palette_for(k)
            return (mean_squared_error(colors_f, error_features(palette), labels, counts),
                    (palette, labels))

        _, error, (palette, labels) = fewest_colors(error_of, AIM * quality_to_mse(quality[1]),
                                                    n_colors)
        reached = mse_to_quality(error)
        if error > quality_to_mse(quality[0]):
            # Over what shows: a pixel counts as much as it is opaque.
            visible = hist.counts * (hist.colors[:, 3] / 255.0 if n_channels == 4 else 1.0)
            delta_e = _histogram_delta_e(_bytes_to_lab(hist.colors), palette,
                                         labels, visible)
            raise QualityTooLowError(reached, quality[0], n_colors, delta_e)
    lossless = hist.colors.shape[0] <= palette.shape[0]
    if strength > 0 and not lossless:
        palette_features = _features(palette, color_space)
        # Pixels whose colour the palette holds, and fully transparent ones, are never dithered.
        exact = (hist.colors == palette[labels]).all(axis=1)
        if n_channels == 4:
            exact |= hist.colors[:, 3] == 0
        frame_shape = (-1, shape[-1], width)
        indices = dither_frames(
            frames(), palette_features, labels[hist.inverse].reshape(frame_shape),
            exact[hist.inverse].reshape(frame_shape), edges, strength=strength, lower=lower,
            upper=upper,
        ).reshape(*shape, width)
        labels = None
    else:
        indices = labels[hist.inverse].astype(np.uint8).reshape(*shape, width)
    return QuantizedImage(palette, indices, original=pixels, histogram=hist, labels=labels,
                          color_space=color_space, input_bytes=input_bytes, name=name,
                          animation=animation, quality=reached, metadata=metadata)


def _palette(hist, features, weights, n_colors, *, color_space, init, n_init, max_iter, tol,
             random_state, posterize=0):
    """The palette of ``n_colors`` entries for a histogram, ordered, and every colour's entry.

    The histogram's own colours when it has no more than ``n_colors`` (lossless); otherwise
    weighted k-means of its colours' ``features`` with ``weights`` (pixel counts, or the
    dithering weights). With ``posterize`` bits dropped, the palette is rounded and every
    colour remapped. Returns (palette (k, 3 | 4) uint8, labels (n_unique,) intp).
    """
    n_channels = hist.colors.shape[1]
    if hist.colors.shape[0] <= n_colors:
        palette, labels = hist.colors, np.arange(hist.colors.shape[0])
        if posterize:
            palette = _posterize(palette, posterize)
            labels = nearest(features, _features(palette, color_space))
        return order_palette(palette, labels, hist.counts)
    # Fully transparent pixels (all stored as colour 0) keep an exact entry of their own.
    transparent = (hist.colors[:, 3] == 0) if n_channels == 4 else np.zeros(0, bool)
    reserve = bool(transparent.any()) and n_colors >= 2
    fit = ~transparent if reserve else slice(None)
    n_fit = n_colors - reserve
    start = init
    if not isinstance(init, str):
        start = _features(_check_init(init, n_fit, n_channels), color_space)
    centers = _search_palette(hist.colors[fit], features[fit], weights[fit], n_fit,
                              init=start, n_init=n_init, max_iter=max_iter, tol=tol,
                              random_state=random_state)
    palette = _to_palette(centers, color_space)
    if posterize:
        palette = _posterize(palette, posterize)
    if reserve:
        palette = np.vstack([palette, np.zeros((1, 4), np.uint8)])
    labels = nearest(features, _features(palette, color_space))
    return order_palette(palette, labels, hist.counts)


def _posterize(palette: np.ndarray, bits: int) -> np.ndarray:
    """Every channel to the nearest of the 2^(8 - bits) levels spread evenly over 0-255."""
    levels = (1 << (8 - bits)) - 1
    out = np.rint(np.rint(palette * (levels / 255.0)) * (255.0 / levels)).astype(np.uint8)
    if palette.shape[1] == 4:
        out[out[:, 3] == 0, :3] = 0  # invisible colours stay one entry
    return out


def _check_init(init, n_fit: int, n_channels: int) -> np.ndarray:
    colors = np.asarray(init, dtype=np.float64)
    if colors.shape != (n_fit, n_channels):
        raise ValueError(
            f"init must have shape ({n_fit}, {n_channels}): one starting colour per palette "
            f"entry to fit, with this image's {n_channels} channels; got shape {colors.shape}."
        )
    if not np.isfinite(colors).all() or colors.min() < 0 or colors.max() > 255:
        raise ValueError("init colours must be finite and on the 0-255 scale.")
    return np.rint(colors).astype(np.uint8)


def _search_palette(colors, features, counts, n_colors, *, init, n_init, max_iter, tol,
                    random_state):
    """Palette search: restarts on the coarse histogram, then the best refined on the full one.

    Assumes validated input with more distinct colours than ``n_colors``.
    """
    weights = counts.astype(np.float64)
    if isinstance(init, str):
        means, bin_weights = coarse_bins(colors, features, counts, drop_bits=_COARSE_DROP_BITS)
        n_bins = means.shape[0]
        if (colors.shape[0] >= _COARSE_MIN_COLORS and 2 * n_bins <= colors.shape[0]
                and n_bins >= _COARSE_MIN_BINS_PER_COLOR * n_colors):
            init = _fit_palette(means, bin_weights, n_colors, init=init, n_init=n_init,
                                max_iter=max_iter, tol=tol, random_state=random_state)
            n_init = 1
    else:
        n_init = 1
    return _fit_palette(features, weights, n_colors, init=init, n_init=n_init,
                        max_iter=max_iter, tol=tol, random_state=random_state)


def _palette_algorithm(n_colors: int) -> str:
    """Hamerly from 128 colours up: after the first few iterations a palette entry moves far
    less than the gap to its neighbours, so its bounds skip most distances (K = 256, 8
    photographs: 257 against 367 ms an image with Lloyd's kernel, same answer; remeasured after
    Hamerly's bounds were tightened, K = 128: 216 against 246 ms); below, Lloyd's
    low-dimension kernel, four entries a sweep, is as fast or faster (K = 64: 180 against 191
    ms, and 212 against 213 after the tightening)."""
    return "hamerly" if n_colors >= _HAMERLY_MIN_COLORS else "lloyd"


def _fit_palette(colors, weights, n_colors, *, init, n_init, max_iter, tol, random_state):
    """Weighted k-means of colours: the one place the compressor runs k-means.

    Assumes validated input: ``colors`` (n, n_features) float64 with more distinct rows than
    ``n_colors``, ``weights`` (n,) positive, ``init`` a method name or an (n_colors, n_features)
    array (then ``n_init`` is 1).

    Returns
    -------
    centers : ndarray of shape (n_colors, n_features), float64
    """
    if not isinstance(init, str):
        init = np.array(init, dtype=np.float64, order="C")
    run, _ = fit_weighted(
        np.ascontiguousarray(colors, dtype=np.float64),
        np.ascontiguousarray(weights, dtype=np.float64), n_colors, init=init, n_init=n_init,
        max_iter=max_iter, tol=tol, random_state=random_state,
        algorithm=_palette_algorithm(n_colors),
        relaxation=_PALETTE_RELAXATION,
    )
    return np.asarray(run.centers, dtype=np.float64)
