"""Reading any image Pillow can open as 8-bit RGB(A), and writing palette PNGs safely.

The first and last stages of the compression pipeline; Pillow does all decoding and encoding.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lloyd._files import already_exists, check_output, write_atomic  # noqa: F401 - re-exported

__all__ = ["ImageReadError", "MultiFrameWarning"]


class ImageReadError(OSError):
    """An input could not be read as an image: missing, not an image, truncated or too large."""


class MultiFrameWarning(UserWarning):
    """The input has several frames (an animated GIF, a multi-page TIFF); only the first is used.

    ``frames='all'`` (``lloyd compress --all-frames``) keeps every frame instead.
    """


#: Display time given to every frame of an input that has no timing (TIFF pages, arrays, a GIF
#: whose delays are all 0): about what browsers show for a GIF frame without a delay.
DEFAULT_FRAME_MS = 100


@dataclass(frozen=True)
class Animation:
    """How the frames of a multi-frame input play; an animated PNG keeps both.

    Attributes
    ----------
    durations : tuple of float
        Display time of every frame in milliseconds.
    loop : int
        How many times the animation plays; 0 is forever.
    """

    durations: tuple
    loop: int


@dataclass(frozen=True)
class Metadata:
    """What an input says about how to show its pixels, kept in the PNG written from it.

    pngquant keeps these too; ``strip`` drops them. EXIF is not kept: its orientation has
    been applied to the pixels, and a stale one would turn the image again.

    Attributes
    ----------
    icc_profile : bytes or None
        The colour profile (iCCP): without it, colours shift on a colour-managed screen.
    gamma : float or None
        gAMA's gamma.
    chromaticity : tuple of 8 floats or None
        cHRM's white point and primaries.
    srgb : int or None
        sRGB's rendering intent.
    dpi : tuple of float or None
        pHYs's resolution in dots per inch.
    text : tuple of (str, str)
        Text chunks (tEXt, zTXt, iTXt) in order, and a JPEG or GIF comment as "Comment".
    """

    icc_profile: bytes | None = None
    gamma: float | None = None
    chromaticity: tuple | None = None
    srgb: int | None = None
    dpi: tuple | None = None
    text: tuple = ()

    @classmethod
    def of(cls, im) -> Metadata | None:
        """The metadata of an opened (and loaded) Pillow image; None when it has none."""
        info = im.info
        text = [(str(k), str(v)) for k, v in (getattr(im, "text", None) or {}).items()]
        comment = info.get("comment")
        if comment and not text:
            text = [("Comment", comment.decode("latin-1") if isinstance(comment, bytes)
                     else str(comment))]
        dpi = info.get("dpi")
        found = cls(
            icc_profile=info.get("icc_profile") or None,
            gamma=info.get("gamma"),
            chromaticity=info.get("chromaticity"),
            srgb=info.get("srgb"),
            dpi=tuple(float(d) for d in dpi) if dpi else None,
            text=tuple(text),
        )
        return None if found == cls() else found

    def save_options(self) -> dict:
        """Keyword arguments for Pillow's PNG ``save`` that write these chunks."""
        from PIL.PngImagePlugin import PngInfo

        options, chunks = {}, PngInfo()
        if self.icc_profile:
            options["icc_profile"] = self.icc_profile
        elif self.srgb is not None:  # PNG allows iCCP or sRGB, not both
            chunks.add(b"sRGB", bytes([int(self.srgb)]))
        if self.gamma is not None:
            chunks.add(b"gAMA", struct.pack(">I", round(self.gamma * 100000)))
        if self.chromaticity is not None:
            chunks.add(b"cHRM", struct.pack(">8I", *(round(v * 100000)
                                                     for v in self.chromaticity)))
        if self.dpi is not None:
            options["dpi"] = self.dpi
        for key, value in self.text:
            chunks.add_text(key, value)
        if chunks.chunks:
            options["pnginfo"] = chunks
        return options


def read_image(source) -> tuple[np.ndarray, int | None, str, Metadata | None]:
    """Any supported input as (pixels, input_bytes, name, metadata); assumes nothing about
    ``source``, which may also be the bytes of a file (standard input, say).

    Returns
    -------
    pixels : ndarray of shape (height, width, 3) or (height, width, 4), uint8
        sRGB, with alpha only if some pixel is not fully opaque. Fully transparent pixels have
        their colour set to black: it is invisible, and they all become one palette entry.
    input_bytes : int or None
        The size of the file read, or None for an in-memory image.
    name : str
        The file name, or a short description of the in-memory input.
    metadata : Metadata or None
        What a file or Pillow image says about its colours, resolution and text; None for an
        array.
    """
    from PIL import Image

    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        pixels, metadata = _read_file(path)
        return pixels, path.stat().st_size, str(path), metadata
    if isinstance(source, (bytes, bytearray)):
        pixels, metadata = _read_file("<bytes>", data=bytes(source))
        return pixels, len(source), "<bytes>", metadata
    if isinstance(source, Image.Image):
        return (_finish(_from_pil(source, name="image")), None, "<PIL image>",
                Metadata.of(source))
    if isinstance(source, (np.ndarray, list, tuple)) or hasattr(source, "__array__"):
        return _finish(_from_array(source)), None, "<array>", None
    raise TypeError(
        f"image must be a path, the bytes of an image file, a PIL.Image.Image or an array of "
        f"shape (height, width[, channels]), got {type(source).__name__}."
    )


def read_frames(source) -> tuple[np.ndarray, Animation | None, int | None, str,
                                 Metadata | None]:
    """Every frame of any supported input; assumes nothing about ``source``.

    Each frame is read as :func:`read_image` reads the first (composited as Pillow shows it
    after ``seek``, EXIF orientation applied), then the frames are made alike: all with alpha
    if any frame has it. An array of shape (n_frames, height, width, channels) is a stack of
    frames; a 2-D or 3-D array is one image.

    Returns
    -------
    pixels : ndarray of shape (n_frames, height, width, 3 | 4), uint8
        Or (height, width, 3 | 4) when the input has a single frame.
    animation : Animation or None
        Frame durations and loop count (the input's where it has them); None for one frame.
    input_bytes : int or None
    name : str
    metadata : Metadata or None
    """
    from PIL import Image

    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        (pixels, animation), metadata = _read_file(path, all_frames=True)
        return pixels, animation, path.stat().st_size, str(path), metadata
    if isinstance(source, (bytes, bytearray)):
        (pixels, animation), metadata = _read_file("<bytes>", all_frames=True,
                                                   data=bytes(source))
        return pixels, animation, len(source), "<bytes>", metadata
    if isinstance(source, Image.Image):
        return (*_all_frames(source, name="image"), None, "<PIL image>", Metadata.of(source))
    if isinstance(source, (np.ndarray, list, tuple)) or hasattr(source, "__array__"):
        arr = np.asarray(source)
        if arr.ndim != 4:
            return _finish(_from_array(arr)), None, None, "<array>", None
        if arr.shape[0] == 0 or arr.shape[3] not in (1, 2, 3, 4):
            raise ValueError(
                "frames must have shape (n_frames, height, width, channels) with at least one "
                f"frame and 1, 2 (grey and alpha), 3 (RGB) or 4 (RGBA) channels, got shape "
                f"{arr.shape}."
            )
        frames = [_finish(_from_array(frame)) for frame in arr]
        return (*_join_frames(frames, [0] * len(frames), loop=None), None, "<array>", None)
    raise TypeError(
        f"image must be a path, a PIL.Image.Image or an array of shape (height, width[, "
        f"channels]) or (n_frames, height, width, channels), got {type(source).__name__}."
    )


def _read_file(path, *, all_frames: bool = False, data: bytes | None = None):
    """Decode a file (or ``data``, its bytes, with ``path`` its name): (decoded, metadata)."""
    from PIL import Image

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # Over MAX_IMAGE_PIXELS Pillow only warns (over twice that it raises): refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path if data is None else io.BytesIO(data)) as im:
                im.load()
                metadata = Metadata.of(im)
                if all_frames:
                    decoded = _all_frames(im, name=str(path))
                else:
                    decoded = _finish(_from_pil(im, name=str(path)))
        for w in caught:
            # Ours go on to the caller; Pillow's about damage it recovered from (corrupt EXIF,
            # say) are dropped: the image decoded, and one that does not raises below.
            if issubclass(w.category, MultiFrameWarning):
                warnings.warn(w.message, w.category, stacklevel=4)
        return decoded, metadata
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageReadError(
            f"cannot read {path}: larger than Pillow's decompression-bomb limit of "
            f"{Image.MAX_IMAGE_PIXELS:,} pixels; if you trust the file, raise "
            "PIL.Image.MAX_IMAGE_PIXELS"
        ) from None
    except FileNotFoundError:
        raise ImageReadError(f"cannot read {path}: no such file") from None
    except IsADirectoryError:
        raise ImageReadError(f"cannot read {path}: it is a folder, not an image") from None
    except PermissionError:
        raise ImageReadError(f"cannot read {path}: permission denied") from None
    except Image.UnidentifiedImageError:
        raise ImageReadError(f"cannot read {path}: not an image format Pillow can read") from None
    except ImageReadError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError,
            TypeError, ZeroDivisionError, OverflowError, MemoryError) as exc:
        # Pillow reports truncated or corrupt data as OSError, but its decoders also let
        # struct.error, IndexError and others escape on malformed headers (found by fuzzing).
        raise ImageReadError(f"cannot read {path}: truncated or corrupt ({exc})") from None


def _from_pil(im, *, name: str) -> np.ndarray:
    """A Pillow image (any mode, first frame, EXIF orientation applied) as a uint8 array."""
    n_frames = getattr(im, "n_frames", 1)
    if n_frames > 1:
        warnings.warn(
            f"{name} has {n_frames} frames; only the first is compressed.",
            MultiFrameWarning,
            stacklevel=4,
        )
    return _frame_pixels(im, name=name)


def _frame_pixels(im, *, name: str) -> np.ndarray:
    """The current frame of a Pillow image (any mode, EXIF orientation applied) as uint8."""
    from PIL import ImageOps

    im = ImageOps.exif_transpose(im)
    mode = im.mode
    if mode.startswith("I") or mode == "F":
        grey = np.asarray(im)
        # 16-bit greyscale arrives as I;16 (or I); Pillow's own convert("L") would clip, not scale.
        if mode.startswith("I;16") or (grey.size and grey.max() > 255):
            grey = np.rint(np.clip(grey, 0, 65535) / 257.0)
        elif mode == "F" and grey.size and grey.max() <= 1.0:
            grey = np.rint(np.clip(grey, 0, 1) * 255.0)
        return np.clip(grey, 0, 255).astype(np.uint8)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    try:
        return np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
    except ValueError as exc:
        raise ImageReadError(f"cannot read {name}: unsupported mode {mode!r} ({exc})") from None


def _all_frames(im, *, name: str) -> tuple[np.ndarray, Animation | None]:
    """Every frame of a Pillow image, each as :func:`_frame_pixels` reads it, then joined."""
    from PIL import Image

    n_frames = getattr(im, "n_frames", 1)
    if n_frames == 1:
        return _finish(_frame_pixels(im, name=name)), None
    limit = Image.MAX_IMAGE_PIXELS
    if limit and n_frames * im.width * im.height > limit:
        # Pillow checks one frame; a small file can hold many frames of a large canvas.
        raise ImageReadError(
            f"cannot read {name}: its {n_frames} frames of {im.width}x{im.height} hold more "
            f"than Pillow's decompression-bomb limit of {limit:,} pixels; if you trust the "
            "file, raise PIL.Image.MAX_IMAGE_PIXELS"
        )
    first = im.tell()
    frames, durations = [], []
    try:
        im.seek(0)
        loop = im.info.get("loop")
        for i in range(n_frames):
            im.seek(i)
            frames.append(_finish(_frame_pixels(im, name=name)))
            durations.append(im.info.get("duration") or 0)
            if frames[i].shape[:2] != frames[0].shape[:2]:
                raise ImageReadError(
                    f"cannot read {name} with frames='all': frame {i} is "
                    f"{_size(frames[i])} but frame 0 is {_size(frames[0])}; every frame must "
                    "have the same size"
                )
    finally:
        im.seek(first)  # a caller's image is left on the frame it was on
    return _join_frames(frames, durations, loop=loop)


def _size(pixels: np.ndarray) -> str:
    return f"{pixels.shape[1]}x{pixels.shape[0]} pixels"


def _join_frames(frames, durations, *, loop) -> tuple[np.ndarray, Animation | None]:
    """Frames of one size (each from :func:`_finish`) as one (n_frames, h, w, c) array.

    All get alpha if one has it, which is what :func:`_finish` would give for them together.
    """
    if len(frames) == 1:
        return frames[0], None
    if any(frame.shape[2] == 4 for frame in frames):
        opaque = np.full((*frames[0].shape[:2], 1), 255, np.uint8)
        frames = [f if f.shape[2] == 4 else np.concatenate([f, opaque], axis=2) for f in frames]
    if not any(durations):
        durations = [DEFAULT_FRAME_MS] * len(frames)
    # No loop count in the input (a GIF without one, TIFF pages, arrays) means: play once.
    animation = Animation(tuple(durations), 1 if loop is None else int(loop))
    return np.stack(frames), animation


def _from_array(array) -> np.ndarray:
    arr = np.asarray(array)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
        frames_hint = "; for a stack of frames pass frames='all'" if arr.ndim == 4 else ""
        raise ValueError(
            f"image must have shape (height, width) or (height, width, channels) with 1, 2 (grey "
            f"and alpha), 3 (RGB) or 4 (RGBA) channels, got shape {arr.shape}{frames_hint}."
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"image must have at least one pixel, got shape {arr.shape}.")
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise ValueError(
                "a float image must hold values in [0, 1], got values in "
                f"[{np.nanmin(arr)}, {np.nanmax(arr)}]; divide by 255 if it is on the 8-bit scale."
            )
        return np.rint(arr * 255.0).astype(np.uint8)
    if arr.dtype.kind in "iu":
        if arr.min() < 0 or arr.max() > 255:
            raise ValueError(
                f"an integer image must hold values in [0, 255], got values in [{arr.min()}, "
                f"{arr.max()}]; scale it to 8 bits first (16-bit: divide by 257)."
            )
        return arr.astype(np.uint8)
    raise ValueError(f"image must hold numbers, got dtype {arr.dtype}.")


def _finish(pixels: np.ndarray) -> np.ndarray:
    """Grey -> RGB, grey+alpha -> RGBA; alpha dropped when all opaque; invisible colours -> 0."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.shape[2] in (1, 2):
        grey = np.repeat(pixels[:, :, :1], 3, axis=2)
        pixels = grey if pixels.shape[2] == 1 else np.concatenate([grey, pixels[:, :, 1:]], 2)
    if pixels.shape[2] == 4:
        alpha = pixels[:, :, 3]
        if (alpha == 255).all():
            pixels = pixels[:, :, :3]
        else:
            pixels = pixels.copy()
            pixels[alpha == 0] = 0
    return np.ascontiguousarray(pixels)


#: zlib strategies tried by :func:`encode_png` (3 is Z_RLE), cheapest first.
_ZLIB_SETTINGS = ({"compress_level": 9, "compress_type": 3}, {"compress_level": 6})
#: zlib strategies tried on 1, 2 and 4-bit rows: (level, strategy); 3 is Z_RLE.
_PACKED_ZLIB = ((9, 0), (9, 3))


def encode_png(indices: np.ndarray, palette: np.ndarray,
               metadata: Metadata | None = None) -> bytes:
    """A palette PNG, at the smallest bit depth that holds the palette; assumes valid input.

    Parameters
    ----------
    indices : ndarray of shape (height, width), uint8
    palette : ndarray of shape (n_colors, 3) or (n_colors, 4), uint8
        With alpha, the translucent entries must come first, so tRNS can stop after them.
    metadata : Metadata or None
        Chunks to write (colour profile, gamma, resolution, text).
    """
    from PIL import Image

    options = {} if metadata is None else metadata.save_options()
    transparency = _transparency(palette)
    if transparency is not None:
        options["transparency"] = transparency

    def encode(settings):
        # One Image per encoding: Image.save stores its options on the image.
        im = Image.fromarray(indices)
        im.putpalette(palette[:, :3].tobytes())
        buffer = io.BytesIO()
        im.save(buffer, format="PNG", **settings, **options)
        return buffer.getvalue()

    bits = _bit_depth(palette.shape[0])
    if bits < 8:
        # Pillow (13.0) runs its adaptive row filters on 1, 2 and 4-bit palette rows, which
        # suits nothing packed: filter bytes of 0 (libpng's and pngquant's choice for palette
        # images) make files 6% smaller undithered and 17% dithered (astronaut, 16 colours).
        # Pillow has no option for it, so its file keeps every chunk but IDAT, which is
        # rebuilt from the same rows unfiltered.
        return _with_unfiltered_rows(encode({"compress_level": 1}), indices, bits)
    # Pillow writes no PNG filter for 8-bit palette images (what libpng does too). Two zlib
    # settings, the smaller file kept (the first on a tie): the default strategy at level 6
    # is within 0.2% of level 9 at half the time. zlib releases the GIL, so the cheap
    # encoding runs on a thread beside the other: at 64 and 256 colours, 17 instead of 22 ms
    # a photograph.
    with ThreadPoolExecutor(max_workers=1) as pool:
        side = [pool.submit(encode, settings) for settings in _ZLIB_SETTINGS[:-1]]
        last = encode(_ZLIB_SETTINGS[-1])
        candidates = [future.result() for future in side] + [last]
    return min(candidates, key=len)


def _bit_depth(n_colors: int) -> int:
    """The bits per pixel Pillow writes for a palette of ``n_colors`` entries."""
    return next(bits for bits in (1, 2, 4, 8) if n_colors <= 1 << bits)


def _with_unfiltered_rows(png: bytes, indices: np.ndarray, bits: int) -> bytes:
    """``png`` with its IDAT chunks replaced by one holding ``indices`` packed ``bits`` to a
    byte, every row unfiltered, deflated with the smaller of :data:`_PACKED_ZLIB`."""
    height, width = indices.shape
    per_byte = 8 // bits
    padded = np.zeros((height, -(-width // per_byte) * per_byte), dtype=np.uint8)
    padded[:, :width] = indices
    packed = np.zeros((height, padded.shape[1] // per_byte), dtype=np.uint8)
    for j in range(per_byte):  # the leftmost pixel in the high bits
        packed |= padded[:, j::per_byte] << np.uint8(8 - bits * (j + 1))
    rows = np.hstack([np.zeros((height, 1), dtype=np.uint8), packed]).tobytes()
    data = min(
        (_deflate(rows, level, strategy) for level, strategy in _PACKED_ZLIB), key=len
    )
    chunks = list(_chunks(png))
    first = next(i for i, (kind, _) in enumerate(chunks) if kind == b"IDAT")
    kept = [c for c in chunks if c[0] != b"IDAT"]
    kept.insert(first, (b"IDAT", data))
    return png[:8] + b"".join(_chunk(kind, body) for kind, body in kept)


def _deflate(data: bytes, level: int, strategy: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
    return compressor.compress(data) + compressor.flush()


def _chunks(png: bytes):
    """(type, body) of every chunk of a PNG file Pillow wrote; assumes a valid file."""
    offset = 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset:offset + 4])
        yield png[offset + 4:offset + 8], png[offset + 8:offset + 8 + length]
        offset += 12 + length


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(body, zlib.crc32(kind))
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def encode_apng(indices: np.ndarray, palette: np.ndarray, animation: Animation,
                metadata: Metadata | None = None) -> bytes:
    """An animated PNG whose frames share one palette (one PLTE); assumes valid input.

    Parameters
    ----------
    indices : ndarray of shape (n_frames, height, width), uint8
    palette : ndarray of shape (n_colors, 3) or (n_colors, 4), uint8
        With alpha, the translucent entries must come first, as for :func:`encode_png`.
    animation : Animation
        One duration per frame, and the loop count.
    metadata : Metadata or None
        Chunks to write, as for :func:`encode_png`.
    """
    from PIL import Image
    from PIL.PngImagePlugin import Disposal

    transparency = _transparency(palette)
    frames, disposal = [], []
    for i, frame in enumerate(indices):
        # Pillow merges a frame that shows the same colours as the one before into it (adding
        # the durations) unless their disposal differs. OP_PREVIOUS on the repeat restores the
        # same picture, so nothing changes on screen, and the file keeps one frame per frame.
        if i > 0 and np.array_equal(palette[frame], palette[indices[i - 1]]):
            after = disposal[-1]  # alternate along a run of repeats
            disposal.append(Disposal.OP_PREVIOUS if after == Disposal.OP_NONE else Disposal.OP_NONE)
        else:
            disposal.append(Disposal.OP_NONE)
        im = Image.fromarray(frame)
        im.putpalette(palette[:, :3].tobytes())  # a 'P' frame: Pillow writes it as it is
        if transparency is not None:
            # On every frame, not only the first: Pillow stores each frame as its difference
            # from the one before, measured in RGBA, so an alpha-only change must show there.
            im.info["transparency"] = transparency
        frames.append(im)
    # Pillow writes PLTE and tRNS once, from the first frame, and the bit depth from the
    # palette length as for a still image; each later frame is the rectangle that changed.
    # The same zlib settings as encode_png, the smaller file kept.
    best = None
    for settings in _ZLIB_SETTINGS:
        buffer = io.BytesIO()
        frames[0].save(
            buffer,
            format="PNG",
            save_all=True,
            append_images=frames[1:],
            duration=list(animation.durations),
            disposal=disposal,
            loop=animation.loop,
            **settings,
            **({} if metadata is None else metadata.save_options()),
        )
        if best is None or buffer.tell() < len(best):
            best = buffer.getvalue()
    return best


def _transparency(palette: np.ndarray) -> bytes | None:
    """The tRNS chunk's alpha values: up to the last translucent entry (those come first), or
    None when every entry is opaque."""
    if palette.shape[1] != 4:
        return None
    translucent = np.flatnonzero(palette[:, 3] < 255)
    return palette[: translucent[-1] + 1, 3].tobytes() if translucent.size else None
