"""Colour quantization by k-means: an image in K colours, written as a small palette PNG.

The pipeline, one module per stage: read (``_image_io``) -> histogram of distinct colours
(``_histogram``) -> weighted k-means (here) -> remap and dither (``_remap``) -> palette PNG.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from lloyd._histogram import coarse_bins, color_histogram
from lloyd._image_io import (
    ImageReadError,
    MultiFrameWarning,
    check_output,
    encode_apng,
    encode_png,
    read_frames,
    read_image,
    write_atomic,
)
from lloyd._dither import dither_frames
from lloyd._remap import nearest, order_palette
from lloyd.color import (
    _ALPHA_SCALE,
    COLOR_SPACES,
    _delta_e_2000,
    _from_space,
    _rgb_to_lab,
    _to_space,
)

__all__ = [
    "ImageReadError",
    "MultiFrameWarning",
    "QuantizeReport",
    "QuantizedImage",
    "compress",
    "quantize",
]

#: A PNG palette holds at most 256 colours.
MAX_COLORS = 256
#: The coarse histogram keeps 6 bits a channel (64 levels): about ten times fewer points.
_COARSE_DROP_BITS = 2
#: Seed through the coarse histogram only when it still has this many bins per colour.
_COARSE_MIN_BINS_PER_COLOR = 4
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


@dataclass(frozen=True)
class QuantizeReport:
    """How well and how small: the numbers ``lloyd compress`` prints for every file.

    Attributes
    ----------
    width, height : int
        Of one frame.
    n_colors : int
        Palette entries actually used.
    psnr : float
        Peak signal-to-noise ratio in dB over all channels (alpha included), ``inf`` if lossless.
    delta_e : float
        Mean CIEDE2000 difference per pixel, on the colour channels.
    bits_per_pixel : float
        Size of the written PNG file in bits, divided by the number of pixels.
    input_bytes : int or None
        Size of the input file; None for an in-memory image.
    output_bytes : int
        Size of the PNG file.
    frames : int, default=1
        Frames quantized; the other numbers cover every pixel of every frame.
    """

    width: int
    height: int
    n_colors: int
    psnr: float
    delta_e: float
    bits_per_pixel: float
    input_bytes: int | None
    output_bytes: int
    frames: int = 1

    @property
    def ratio(self) -> float | None:
        """``input_bytes / output_bytes``, or None when there was no input file."""
        return None if self.input_bytes is None else self.input_bytes / self.output_bytes

    def as_dict(self) -> dict:
        """The report as JSON-ready values (an infinite PSNR becomes None)."""
        out = asdict(self)
        out["psnr"] = None if math.isinf(self.psnr) else round(self.psnr, 4)
        out["delta_e"] = round(self.delta_e, 4)
        out["bits_per_pixel"] = round(self.bits_per_pixel, 4)
        out["ratio"] = None if self.ratio is None else round(self.ratio, 4)
        return out


class QuantizedImage:
    """An image reduced to a palette: what :func:`quantize` returns.

    Attributes
    ----------
    palette : ndarray of shape (n_colors, 3) or (n_colors, 4), uint8
        sRGB colours (with alpha when the image has transparency), translucent entries first,
        then by how many pixels use them. One palette for every frame.
    indices : ndarray of shape (height, width) or (frames, height, width), uint8
        The palette entry of every pixel; the leading frame axis is there only when
        ``frames > 1``.
    original : ndarray of shape (height, width, 3 | 4) or (frames, height, width, 3 | 4), uint8
        The input as it was quantized: EXIF orientation applied, 8-bit sRGB.
    color_space : str
        Where k-means and dithering measured distances.
    frames : int
        Frames quantized: 1, or every frame of the input with ``quantize(..., frames='all')``.
    durations : tuple of float or None
        With several frames, the display time of each in milliseconds: the input's, or 100 ms
        each when it has none. None for one frame.
    loop : int or None
        With several frames, how many times the animation plays (0: forever): the input's loop
        count, or 1 when it has none. None for one frame.
    """

    def __init__(self, palette, indices, *, original, histogram, labels, color_space,
                 input_bytes=None, name="<array>", animation=None):
        self.palette = palette
        self.indices = indices
        self.original = original
        self.color_space = color_space
        self.name = name
        self.frames = 1 if animation is None else len(animation.durations)
        self.durations = None if animation is None else animation.durations
        self.loop = None if animation is None else animation.loop
        self._histogram = histogram
        self._labels = labels  # palette entry per distinct colour, None when dithered
        self._input_bytes = input_bytes
        self._animation = animation

    def __repr__(self) -> str:
        h, w = self.indices.shape[-2:]
        frames = f", {self.frames} frames" if self.frames > 1 else ""
        return f"<QuantizedImage {w}x{h}{frames}, {len(self.palette)} colours, {self.color_space}>"

    def to_array(self) -> np.ndarray:
        """The quantized image as an array of shape (height, width, 3 or 4), uint8.

        With several frames, (frames, height, width, 3 or 4).
        """
        return self.palette[self.indices]

    def to_image(self, frame: int = 0):
        """The quantized image as a Pillow 'P' (palette) image, transparency in its info.

        With several frames, the frame numbered ``frame`` (default: the first).
        """
        from PIL import Image

        if not -self.frames <= frame < self.frames:
            raise IndexError(f"frame={frame} must be in [0, {self.frames}): the frames quantized.")
        im = Image.fromarray(self.indices if self.frames == 1 else self.indices[frame])
        im.putpalette(self.palette[:, :3].tobytes())
        if self.palette.shape[1] == 4:
            im.info["transparency"] = self.palette[:, 3].tobytes()
        return im

    def to_png(self) -> bytes:
        """The PNG file, 1, 2, 4 or 8 bits per pixel (the fewest that hold the palette).

        With several frames, an animated PNG (APNG) of every frame, all sharing the one
        palette, with their durations and loop count.
        """
        return self._png

    @cached_property
    def _png(self) -> bytes:
        if self._animation is None:
            return encode_png(self.indices, self.palette)
        return encode_apng(self.indices, self.palette, self._animation)

    def save(self, path, *, overwrite: bool = True) -> Path:
        """Write the PNG atomically (temporary file, then rename); return the path.

        With ``overwrite=False`` an existing file raises FileExistsError and is left untouched.
        """
        write_atomic(path, self._png, overwrite=overwrite)
        return Path(path)

    @cached_property
    def report(self) -> QuantizeReport:
        """Colours used, PSNR, mean ΔE2000, bits per pixel and sizes (computed once).

        Over every pixel of every frame.
        """
        h, w = self.indices.shape[-2:]
        diff = self.original.astype(np.float64) - self.to_array()
        mse = float(np.mean(diff * diff))
        psnr = math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)
        return QuantizeReport(
            width=w,
            height=h,
            n_colors=int(np.unique(self.indices).size),
            psnr=psnr,
            delta_e=self._mean_delta_e(),
            bits_per_pixel=len(self._png) * 8 / (h * w * self.frames),
            input_bytes=self._input_bytes,
            output_bytes=len(self._png),
            frames=self.frames,
        )

    def _mean_delta_e(self) -> float:
        # Over pairs (distinct colour, palette entry) weighted by pixels: far fewer than pixels.
        hist = self._histogram
        if self._labels is not None:
            original, entries, counts = hist.colors, self._labels, hist.counts
        else:
            n = len(self.palette)
            pairs, counts = np.unique(
                hist.inverse * n + self.indices.ravel(), return_counts=True
            )
            original, entries = hist.colors[pairs // n], pairs % n
        lab_original = _rgb_to_lab(original[:, :3] / 255.0)
        lab_palette = _rgb_to_lab(self.palette[:, :3] / 255.0)
        delta_e = _delta_e_2000(lab_original, lab_palette[entries])
        return float(np.dot(delta_e, counts) / counts.sum())


def quantize(image, n_colors: int = 16, *, color_space: str = "rgb", dither=False,
             init="k-means++", n_init="auto", max_iter: int = 300, tol: float = 1e-4,
             random_state=None, frames: str = "first") -> QuantizedImage:
    """Reduce an image to at most ``n_colors`` colours by k-means on its distinct colours.

    The distinct colours and their pixel counts form a weighted histogram; weighted k-means on
    it finds the same palette as k-means on every pixel, far faster. The restarts run on a
    coarser histogram (6 bits a channel, each bin its mean colour), then the best start is
    refined on the full one. Every pixel then takes its nearest palette colour, or is dithered.
    An image with at most ``n_colors`` distinct colours comes back unchanged (lossless).

    Parameters
    ----------
    image : str, path, PIL.Image.Image or array-like
        A file Pillow reads (PNG, JPEG, WebP, GIF, TIFF, BMP, ...), an image in any mode, or an
        array of shape (height, width[, 1 | 2 | 3 | 4]): uint8, or floats in [0, 1]. EXIF
        orientation is applied. Of several frames (an animated GIF, PNG or WebP, a multi-page
        TIFF) only the first is used, with a :class:`MultiFrameWarning`, unless ``frames`` is
        'all'.
    n_colors : int, default=16
        The palette size, 1 to 256. 1 gives the mean colour.
    color_space : {'rgb', 'lab', 'oklab'}, default='rgb'
        Where distances are measured: 'rgb' minimises squared error (best PSNR), 'lab'
        (CIELAB) and 'oklab' follow perception. The palette is always written as sRGB.
    dither : bool or float, default=False
        Floyd–Steinberg error diffusion (serpentine) with this strength in [0, 1]; True is 1.
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
    """
    n_colors = _check_n_colors(n_colors)
    if color_space not in COLOR_SPACES:
        raise ValueError(f"color_space={color_space!r} must be one of {list(COLOR_SPACES)}.")
    strength = _check_dither(dither)
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
        pixels, animation, input_bytes, name = read_frames(image)
    else:
        (pixels, input_bytes, name), animation = read_image(image), None
    return _quantize(pixels, n_colors, color_space=color_space, strength=strength, init=init,
                     n_init=n_init, max_iter=max_iter, tol=float(tol),
                     random_state=random_state, input_bytes=input_bytes, name=name,
                     animation=animation)


def compress(source, output, n_colors: int = 16, *, overwrite: bool = False,
             **options) -> QuantizedImage:
    """Read ``source``, quantize it and write a palette PNG to ``output`` (file to file).

    Never replaces an existing file (the input included) unless ``overwrite`` is true; the
    check happens before any work, and the file is written atomically.

    Parameters
    ----------
    source : str or path
    output : str or path
    n_colors : int, default=16
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
    """
    output = Path(output)
    check_output(output, overwrite=overwrite)
    result = quantize(source, n_colors, **options)
    result.save(output, overwrite=overwrite)
    return result


def _check_n_colors(n_colors) -> int:
    if isinstance(n_colors, bool) or not isinstance(n_colors, numbers.Integral):
        raise ValueError(f"n_colors must be an integer in [1, {MAX_COLORS}], got {n_colors!r}.")
    if not 1 <= n_colors <= MAX_COLORS:
        raise ValueError(
            f"n_colors={n_colors} must be in [1, {MAX_COLORS}]: a PNG palette holds at most "
            f"{MAX_COLORS} colours."
        )
    return int(n_colors)


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


def _features(colors: np.ndarray, color_space: str) -> np.ndarray:
    """uint8 sRGB(A) colours (n, 3 | 4) -> points in the working space (n, 3 | 4), float64."""
    out = np.empty(colors.shape, dtype=np.float64)
    out[:, :3] = _to_space(colors[:, :3] / 255.0, color_space)
    if colors.shape[1] == 4:
        out[:, 3] = colors[:, 3] * (_ALPHA_SCALE[color_space] / 255.0)
    return out


def _gamut_box(color_space: str, n_channels: int):
    """The smallest box around all sRGB(A) colours in the working space: (lower, upper)."""
    levels = np.linspace(0, 255, 18).round().astype(np.uint8)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)
    if n_channels == 4:
        grid = np.hstack([grid, np.repeat(levels[[0, -1]], grid.shape[0] // 2)[:, None]])
    features = _features(grid, color_space)
    return features.min(axis=0), features.max(axis=0)


def _to_palette(centers: np.ndarray, color_space: str) -> np.ndarray:
    """Working-space centres -> the nearest representable sRGB(A) colours, uint8."""
    palette = np.empty(centers.shape, dtype=np.uint8)
    rgb = _from_space(centers[:, :3], color_space)
    palette[:, :3] = np.rint(np.clip(rgb, 0.0, 1.0) * 255.0)
    if centers.shape[1] == 4:
        alpha = centers[:, 3] * (255.0 / _ALPHA_SCALE[color_space])
        palette[:, 3] = np.rint(np.clip(alpha, 0.0, 255.0))
        palette[palette[:, 3] == 0, :3] = 0
    return palette


def _quantize(pixels, n_colors, *, color_space, strength, init, n_init, max_iter, tol,
              random_state, input_bytes, name, animation=None) -> QuantizedImage:
    """The pipeline after validation; assumes valid options and uint8 pixels.

    ``pixels`` is an image (h, w, 3 | 4), or frames (n_frames, h, w, 3 | 4) with their
    ``animation``: then one histogram and one palette serve them all.
    """
    *shape, width, n_channels = pixels.shape
    hist = color_histogram(pixels.reshape(-1, width, n_channels))
    features = _features(hist.colors, color_space)
    lossless = hist.colors.shape[0] <= n_colors
    if lossless:
        palette, labels = hist.colors, np.arange(hist.colors.shape[0])
    else:
        # Fully transparent pixels (all stored as colour 0) keep an exact entry of their own.
        transparent = (hist.colors[:, 3] == 0) if n_channels == 4 else np.zeros(0, bool)
        reserve = bool(transparent.any()) and n_colors >= 2
        fit = ~transparent if reserve else slice(None)
        n_fit = n_colors - reserve
        start = init
        if not isinstance(init, str):
            start = _features(_check_init(init, n_fit, n_channels), color_space)
        centers = _search_palette(hist.colors[fit], features[fit], hist.counts[fit], n_fit,
                                  init=start, n_init=n_init, max_iter=max_iter, tol=tol,
                                  random_state=random_state)
        palette = _to_palette(centers, color_space)
        if reserve:
            palette = np.vstack([palette, np.zeros((1, 4), np.uint8)])
        labels = nearest(features, _features(palette, color_space))
    palette, labels = order_palette(palette, labels, hist.counts)
    if strength > 0 and not lossless:
        palette_features = _features(palette, color_space)
        # Pixels whose colour the palette holds, and fully transparent ones, are never dithered.
        exact = (hist.colors == palette[labels]).all(axis=1)
        if n_channels == 4:
            exact |= hist.colors[:, 3] == 0
        n_frames = int(np.prod(shape[:-1], dtype=np.int64))
        frame_shape = (n_frames, shape[-1], width)
        lower, upper = _gamut_box(color_space, n_channels)
        indices = dither_frames(
            features[hist.inverse].reshape(*frame_shape, features.shape[1]), palette_features,
            labels[hist.inverse].reshape(frame_shape), exact[hist.inverse].reshape(frame_shape),
            strength=strength, lower=lower, upper=upper,
        ).reshape(*shape, width)
        labels = None
    else:
        indices = labels[hist.inverse].astype(np.uint8).reshape(*shape, width)
    return QuantizedImage(palette, indices, original=pixels, histogram=hist, labels=labels,
                          color_space=color_space, input_bytes=input_bytes, name=name,
                          animation=animation)


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
        if n_bins >= _COARSE_MIN_BINS_PER_COLOR * n_colors and 2 * n_bins <= colors.shape[0]:
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
    from lloyd.cluster import KMeans

    model = KMeans(n_clusters=n_colors, init=init, n_init=n_init, max_iter=max_iter, tol=tol,
                   random_state=random_state, algorithm=_palette_algorithm(n_colors))
    model._relaxation = _PALETTE_RELAXATION
    model.fit(colors, sample_weight=weights)
    return np.asarray(model.cluster_centers_, dtype=np.float64)
