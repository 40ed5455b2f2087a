"""What :func:`lloyd.quantize` returns: the quantized image, its report, and the error raised
when a quality target is out of reach.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from lloyd._image_io import encode_apng, encode_png, write_atomic
from lloyd.color import _bytes_to_lab, _delta_e_2000_entries


class QualityTooLowError(ValueError):
    """Even the most colours allowed do not reach the minimum of ``quality=(min, max)``.

    pngquant's exit status 99: nothing is written. The attributes say how close it came.

    Attributes
    ----------
    quality : int
        The quality reached, on the 0-100 scale.
    minimum : int
        The minimum asked for.
    n_colors : int
        The colours it took to reach ``quality`` (the most allowed).
    delta_e : float
        The mean ΔE2000 reached.
    """

    def __init__(self, quality: int, minimum: int, n_colors: int, delta_e: float):
        super().__init__(
            f"quality {quality} is below the minimum of {minimum} (mean ΔE2000 {delta_e:.2f} "
            f"with {n_colors} colours); lower the minimum or allow more colours"
        )
        self.quality, self.minimum, self.n_colors, self.delta_e = (quality, minimum, n_colors,
                                                                    delta_e)


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
    quality : int or None, default=None
        With ``quantize(..., quality=(min, max))``, the quality the palette reached on the
        0-100 scale of ``quality`` (before any dithering); None otherwise.
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
    quality: int | None = None

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
                 input_bytes=None, name="<array>", animation=None, quality=None,
                 metadata=None):
        self.palette = palette
        self.metadata = metadata
        self.quality = quality
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
            return encode_png(self.indices, self.palette, self.metadata)
        return encode_apng(self.indices, self.palette, self._animation, self.metadata)

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
        # Over the (distinct colour, palette entry) pairs, weighted by their pixels: the same
        # integers summed as over every pixel, exactly (all below 2**53), in a tenth the time.
        colors, entries, counts = self._pairs
        diff = self._histogram.colors[colors].astype(np.float64) - self.palette[entries]
        mse = float(np.dot(counts, np.einsum("ij,ij->i", diff, diff))) / self.original.size
        psnr = math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)
        return QuantizeReport(
            width=w,
            height=h,
            n_colors=int(np.count_nonzero(np.bincount(entries, minlength=1))),
            psnr=psnr,
            delta_e=self._mean_delta_e(),
            bits_per_pixel=len(self._png) * 8 / (h * w * self.frames),
            input_bytes=self._input_bytes,
            output_bytes=len(self._png),
            frames=self.frames,
            quality=self.quality,
        )

    @cached_property
    def _pairs(self):
        """Every (distinct colour, palette entry) pair the image has, with its pixels: (colour
        indices into the histogram, entries, counts). Far fewer than pixels."""
        hist = self._histogram
        if self._labels is not None:
            return np.arange(hist.colors.shape[0]), self._labels, hist.counts
        n = len(self.palette)
        pairs, counts = _distinct_counts(hist.inverse * n + self.indices.ravel())
        return pairs // n, pairs % n, counts

    def _mean_delta_e(self) -> float:
        colors, entries, counts = self._pairs
        return _histogram_delta_e(_bytes_to_lab(self._histogram.colors[colors]), self.palette,
                                  entries, counts)


def _distinct_counts(keys):
    """``np.unique(keys, return_counts=True)`` for a 1-d integer array, by one sort: numpy's own
    imports numpy.ma (25 ms) on its first call."""
    keys = np.sort(keys)
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], np.diff(np.append(starts, keys.size))


def _histogram_delta_e(lab_colors, palette, entries, counts) -> float:
    """Mean ΔE2000 over pixels between distinct colours (their CIELAB, (n, 3)) and the palette
    entries they take, weighted by ``counts`` pixels each."""
    lab_palette = _bytes_to_lab(palette)  # as the colours' own: equal colours measure 0
    delta_e = _delta_e_2000_entries(lab_colors, lab_palette, entries)
    return float(np.dot(delta_e, counts) / counts.sum())
