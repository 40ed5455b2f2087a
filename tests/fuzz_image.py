"""Fuzzing the image path: random valid images, mutated files and random bytes, quantized.

Run for as long as you like: ``python tests/fuzz_image.py --seconds 1800 --seed 1``; the test
suite runs a short version. Every input must either work or fail with one of lloyd's documented
errors (ImageReadError, or ValueError/TypeError naming a parameter); anything else is a crash,
and the input that caused it is written to ``--crashes`` for a regression test.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

MODES = ["RGB", "RGBA", "L", "LA", "P", "1", "I;16", "I", "F", "CMYK", "PA"]
FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif",
           "WEBP": ".webp", "PPM": ".ppm", "ICO": ".ico"}


def random_image(rng):
    """A Pillow image of a random mode and size (tiny to a few hundred pixels a side)."""
    from PIL import Image

    h = int(rng.choice([1, 2, 3, 7, 16, 33, 64, 150]))
    w = int(rng.choice([1, 2, 5, 16, 31, 64, 120]))
    mode = str(rng.choice(MODES))
    kind = rng.integers(3)
    if kind == 0:  # few colours: the lossless path
        base = rng.integers(0, 256, size=(int(rng.integers(1, 6)), 4), dtype=np.uint8)
        rgba = base[rng.integers(0, len(base), size=(h, w))]
    elif kind == 1:  # smooth gradients, like photos
        y, x = np.mgrid[0:h, 0:w]
        rgba = np.stack([x * 255 // max(w, 1), y * 255 // max(h, 1), (x + y) % 256,
                         np.full_like(x, 255)], axis=2).astype(np.uint8)
    else:  # noise
        rgba = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
    if rng.random() < 0.5:
        rgba[..., 3] = 255
    im = Image.fromarray(rgba, "RGBA")
    try:
        if mode == "P":
            im = im.convert("RGB").quantize(int(rng.integers(2, 257)))
        elif mode == "PA":
            im = im.convert("PA")
        elif mode in ("I;16", "I", "F"):
            im = im.convert("L").convert(mode)
        else:
            im = im.convert(mode)
    except (ValueError, OSError):
        im = im.convert("RGB")
    return im


def encode(im, rng):
    """The image's bytes in a random format that can hold its mode (PNG as the fallback)."""
    fmt = str(rng.choice(list(FORMATS)))
    buf = io.BytesIO()
    try:
        if fmt == "GIF" and rng.random() < 0.3:  # animated
            second = im.convert("RGB").transpose(0)
            im.convert("RGB").save(buf, "GIF", save_all=True, append_images=[second])
        else:
            im.save(buf, fmt)
    except (OSError, ValueError, KeyError, TypeError):
        buf = io.BytesIO()
        fmt = "PNG"
        try:
            im.save(buf, "PNG")
        except (OSError, ValueError):  # modes PNG cannot hold (PA, CMYK)
            buf = io.BytesIO()
            im.convert("RGBA").save(buf, "PNG")
    return buf.getvalue(), FORMATS[fmt]


def mutate(data, rng):
    """Bit flips, truncation, junk inserted, chunks duplicated."""
    data = bytearray(data)
    for _ in range(int(rng.integers(1, 6))):
        op = rng.integers(4)
        if op == 0 and data:
            i = int(rng.integers(len(data)))
            data[i] ^= 1 << int(rng.integers(8))
        elif op == 1 and len(data) > 1:
            data = data[: int(rng.integers(1, len(data)))]
        elif op == 2:
            i = int(rng.integers(len(data) + 1))
            data[i:i] = rng.integers(0, 256, size=int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
        elif op == 3 and len(data) > 8:
            i = int(rng.integers(len(data) - 4))
            j = int(rng.integers(i, min(len(data), i + 256)))
            data[j:j] = data[i:j]
    return bytes(data)


def documented(exc):
    """Is this one of lloyd's documented errors?"""
    from lloyd._image_io import ImageReadError

    if isinstance(exc, ImageReadError):
        return True
    if isinstance(exc, (ValueError, TypeError)):
        # our own parameter errors name the parameter
        text = str(exc)
        return any(word in text for word in ("n_colors", "image", "color_space", "dither"))
    return False


def one_input(rng, folder):
    """Make one input, quantize it; return (kind, None) or (kind, crash description)."""
    import lloyd

    kind = str(rng.choice(["valid", "valid", "mutated", "mutated", "random", "array"]))
    n_colors = int(rng.choice([1, 2, 3, 16, 64, 255, 256, 257, 0]))
    space = str(rng.choice(["rgb", "lab", "oklab"]))
    dither = bool(rng.random() < 0.3)
    if kind == "array":
        shape = tuple(int(s) for s in rng.integers(0, 20, size=int(rng.integers(1, 4))))
        dtype = rng.choice([np.uint8, np.float32, np.int64, np.float64, bool])
        source = (rng.random(shape) * rng.choice([1, 255, 300])).astype(dtype)
        data = None
    else:
        im = random_image(rng)
        data, suffix = encode(im, rng)
        if kind == "mutated":
            data = mutate(data, rng)
        elif kind == "random":
            data = rng.integers(0, 256, size=int(rng.integers(0, 2048)), dtype=np.uint8).tobytes()
            suffix = str(rng.choice(list(FORMATS.values())))
        source = Path(folder) / f"input{suffix}"
        source.write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = lloyd.quantize(source, n_colors, color_space=space, dither=dither,
                                    random_state=0)
            png = result.to_png()
        # what comes out must be a palette PNG Pillow reads back to the same indices
        from PIL import Image

        back = Image.open(io.BytesIO(png))
        back.load()
        assert back.mode in ("P", "1", "L"), back.mode
        assert back.size[::-1] == result.indices.shape, (back.size, result.indices.shape)
    except Exception as exc:
        if documented(exc):
            return kind, None
        return kind, (data, "".join(traceback.format_exception(exc)))
    return kind, None


def run(seconds, seed=0, crashes_dir=None, verbose=False):
    """Fuzz for ``seconds``; returns (inputs tried, counts by kind, crashes)."""
    rng = np.random.default_rng(seed)
    tried, counts, crashes = 0, {}, []
    deadline = time.monotonic() + seconds
    with tempfile.TemporaryDirectory() as folder:
        while time.monotonic() < deadline:
            kind, crash = one_input(rng, folder)
            tried += 1
            counts[kind] = counts.get(kind, 0) + 1
            if crash is not None:
                data, trace = crash
                crashes.append(trace)
                if crashes_dir is not None:
                    Path(crashes_dir).mkdir(parents=True, exist_ok=True)
                    stem = Path(crashes_dir) / f"crash-{seed}-{tried}"
                    if data is not None:
                        stem.with_suffix(".bin").write_bytes(data)
                    stem.with_suffix(".txt").write_text(trace)
                if verbose:
                    print(trace, file=sys.stderr)
    return tried, counts, crashes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crashes", default="fuzz-crashes")
    args = parser.parse_args(argv)
    start = time.monotonic()
    tried, counts, crashes = run(args.seconds, args.seed, args.crashes, verbose=True)
    print(f"{tried} inputs in {time.monotonic() - start:.0f} s ({counts}); "
          f"{len(crashes)} crashes")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
