"""``lloyd compress``: its arguments, and the loop that compresses each image and reports."""

from __future__ import annotations

import argparse
import sys

from lloyd._cli_exit import EPILOG, ExitCode

COMPRESS_DESCRIPTION = """\
Reduce each IMAGE to at most N colours by k-means on its distinct colours and write a palette
PNG (1, 2, 4 or 8 bits per pixel, the fewest that hold N). Reads what Pillow reads (PNG, JPEG,
WebP, GIF, TIFF, BMP, ...), applies EXIF orientation, keeps transparency. An image with at most
N colours is written losslessly. The same image and options always give the same bytes.
Of an animated or multi-page image only the first frame is used (with a warning), unless
--all-frames: then every frame is, with one palette, written as an animated PNG.

Each output lands beside its input: the input's name without its extension, plus SUFFIX
(default '-k{K}.png', where {K} is N: photo.jpg -> photo-k16.png; with --quality and no -k,
qMIN-MAX). An existing file is never replaced without --force; files are written to a
temporary name and renamed. The input's colour profile, gamma, resolution and text chunks are
kept unless --strip. IMAGE '-' reads standard input and writes the PNG to standard output
(or to --output), as `cat a.png | lloyd compress - -k 64 > b.png`; the report then goes to
standard error.

--quality MIN-MAX (pngquant's option) uses the fewest colours, up to N (default 256), whose
palette reaches quality MAX on pngquant's 0-100 scale (its formula on the weighted mean squared
error pngquant measures; 100 is lossless); an image below MIN is not written (exit 99).
"""


def add_compress(sub) -> None:
    comp = sub.add_parser(
        "compress",
        help="reduce images to K colours and write small palette PNGs",
        description=COMPRESS_DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    comp.add_argument("images", nargs="+", metavar="IMAGE",
                      help="input image files; - reads standard input")
    comp.add_argument("-k", "--colors", type=_n_colors, default=None, metavar="N",
                      help="palette size, 1 to 256 (default: 16; 1 gives the mean colour); "
                      "with --quality the most colours allowed (default: 256)")
    comp.add_argument("--quality", type=_quality, default=None, metavar="MIN-MAX",
                      help="the fewest colours that reach quality MAX (0-100); below MIN "
                      "nothing is written and the exit status is 99 (MAX alone: MIN 0)")
    where = comp.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", metavar="PATH",
                       help="write here (only with a single IMAGE); - is standard output")
    where.add_argument("--ext", default="-k{K}.png", metavar="SUFFIX",
                       help="output name suffix, {K} replaced by N (default: -k{K}.png; "
                       "write --ext=SUFFIX when it starts with '-')")
    comp.add_argument("-f", "--force", action="store_true",
                      help="replace existing outputs (even the input itself)")
    comp.add_argument("--dither", nargs="?", type=_strength, const=1.0, default=0.0,
                      metavar="S", help="selective error diffusion (none across edges or "
                      "where the palette matches, most in smooth areas), strength S in [0, 1] "
                      "(default: off; --dither alone is 1; write --dither=S before IMAGE)")
    comp.add_argument("--posterize", type=_posterize, default=0, metavar="BITS",
                      help="drop BITS (0-4) low bits of every palette channel, e.g. 4 for "
                      "ARGB4444 displays (default: 0)")
    comp.add_argument("--skip-if-larger", action="store_true",
                      help="do not write an output that is not smaller than its input "
                      "(exit status 98)")
    comp.add_argument("--strip", action="store_true",
                      help="drop the input's metadata (colour profile, gamma, resolution, "
                      "text chunks), which is kept by default")
    comp.add_argument("--speed", type=_speed, default=4, metavar="N",
                      help="1 (slowest) to 11 (fastest), as pngquant's (default: 4); from 5 "
                      "k-means stops early: at 256 colours 10 takes a quarter of the time for "
                      "0.09 dB")
    comp.add_argument("--space", choices=("rgb", "lab", "oklab"), default="rgb",
                      help="colour space of k-means and dithering (default: rgb, the best "
                      "PSNR; oklab or lab for the lowest perceptual error, ΔE2000)")
    comp.add_argument("--compare", metavar="FIG.png",
                      help="also write original | compressed | palette side by side (with "
                      "several IMAGEs, '-<image name>' is added before FIG's extension)")
    comp.add_argument("--all-frames", action="store_true",
                      help="quantize every frame of an animated GIF, PNG or WebP or a "
                      "multi-page TIFF with one palette shared by every frame, written as an "
                      "animated PNG with the input's frame durations (default: the first "
                      "frame only)")
    comp.add_argument("--json", action="store_true",
                      help="print one JSON object per image instead of the table")
    comp.add_argument("-q", "--quiet", action="store_true",
                      help="no table and no progress bar; errors are still printed")
    comp.add_argument("--random-state", type=int, default=0, metavar="SEED",
                      help="seed of the k-means restarts (default: 0)")
    comp.set_defaults(handler=_cmd_compress)


def _int_in(text: str, low: int, high: int, why: str) -> int:
    """``text`` as an integer in [low, high], or argparse's error naming the range and ``why``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an integer in [{low}, {high}], got {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be in [{low}, {high}] ({why}), got {value}")
    return value


def _speed(text: str) -> int:
    return _int_in(text, 1, 11, "pngquant's range")


def _n_colors(text: str) -> int:
    return _int_in(text, 1, 256, "a PNG palette holds at most 256 colours")


def _quality(text: str) -> tuple:
    low, sep, high = text.partition("-")
    try:
        low, high = (int(low or 0), int(high or 100)) if sep else (0, int(low))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be MIN-MAX or MAX, integers in [0, 100], got {text!r}") from None
    if not 0 <= low <= high <= 100:
        raise argparse.ArgumentTypeError(
            f"must be MIN-MAX with 0 <= MIN <= MAX <= 100, got {text!r}")
    return low, high


def _posterize(text: str) -> int:
    if text not in ("0", "1", "2", "3", "4"):
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 4], got {text!r}")
    return int(text)


def _strength(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def _output_paths(args) -> list:
    from pathlib import Path

    if args.output is not None:
        return [Path(args.output)]
    if args.colors is None and args.quality is not None:
        k = "q{}-{}".format(*args.quality)
    else:
        k = str(16 if args.colors is None else args.colors)
    suffix = args.ext.replace("{K}", k)
    return [Path("-") if image == "-" else
            Path(image).with_suffix("").with_name(Path(image).stem + suffix)
            for image in args.images]


def _compare_path(args, image):
    from pathlib import Path

    fig = Path(args.compare)
    if len(args.images) == 1:
        return fig
    return fig.with_name(f"{fig.stem}-{Path(image).stem}{fig.suffix}")


class _NoProgress:
    """What ``_cmd_compress`` asks of a progress bar, doing nothing (and importing nothing)."""

    def set_postfix_str(self, *args, **kwargs):
        pass

    def update(self, n=1):
        pass

    def close(self):
        pass

    @staticmethod
    def write(message, file=None):
        print(message, file=file)


def _progress(total: int, *, shown: bool):
    """A tqdm bar over ``total`` images on standard error, or a stand-in when none is shown:
    importing tqdm costs 50 ms, a quarter of pngquant's whole run on one photo."""
    if not shown:
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, unit="image", file=sys.stderr, leave=False)


def _cmd_compress(args) -> int:
    import json
    import time
    import warnings

    from lloyd._files import check_output
    from lloyd.image import ImageReadError, QualityTooLowError, quantize, speed_options

    if args.output is not None and len(args.images) > 1:
        print(f"lloyd compress: --output takes a single IMAGE, got {len(args.images)}; "
              "use --ext for several", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    if args.images.count("-") > 1:
        print("lloyd compress: standard input (-) can be read once", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    outputs = _output_paths(args)
    to_stdout = any(str(output) == "-" for output in outputs)
    if to_stdout and sys.stdout.isatty():
        print("lloyd compress: will not write a PNG to a terminal; redirect standard output "
              "(> out.png) or give --output", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    report_to = sys.stderr if to_stdout else sys.stdout  # stdout carries nothing but the PNG
    bar = _progress(len(args.images), shown=not args.quiet and len(args.images) > 1
                    and sys.stderr.isatty())

    def complain(message):
        bar.write(f"lloyd compress: {message}", file=sys.stderr)

    rows, codes, claimed = [], [], {}
    for image, output in zip(args.images, outputs, strict=True):
        bar.set_postfix_str(str(image), refresh=False)
        start = time.perf_counter()
        stdout = str(output) == "-"
        key = output if stdout else output.resolve()
        try:
            if key in claimed:
                raise FileExistsError(f"{output} is also the output of {claimed[key]}; "
                                      "use --ext or --output to tell them apart")
            claimed[key] = image
            if not stdout:
                check_output(output, overwrite=args.force)
            if args.compare:  # fail before the work, not after the output is written
                check_output(_compare_path(args, image), overwrite=args.force)
            source = _read_stdin() if image == "-" else image
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = quantize(source, args.colors, quality=args.quality,
                                  color_space=args.space, dither=args.dither,
                                  posterize=args.posterize, strip=args.strip,
                                  random_state=args.random_state,
                                  frames="all" if args.all_frames else "first",
                                  **speed_options(args.speed))
            for warning in caught:
                complain(f"warning: {warning.message}")
            report = result.report
            if args.skip_if_larger and report.output_bytes >= report.input_bytes:
                raise _NotSmaller(f"{image}: not written, {report.output_bytes:,} bytes would "
                                  f"not be smaller than the input's {report.input_bytes:,}")
            if stdout:
                sys.stdout.buffer.write(result.to_png())
                sys.stdout.buffer.flush()
            else:
                result.save(output, overwrite=args.force)
            if args.compare:
                _write_compare(result, _compare_path(args, image), overwrite=args.force)
        except ImageReadError as exc:
            code, message = ExitCode.IO_ERROR, str(exc)
        except QualityTooLowError as exc:
            code, message = ExitCode.QUALITY_TOO_LOW, f"{image}: not written, {exc}"
        except _NotSmaller as exc:
            code, message = ExitCode.NOT_SMALLER, str(exc)
        except FileExistsError as exc:
            code = ExitCode.OUTPUT_EXISTS
            target = getattr(exc, "target", None)
            message = (f"{target} already exists; use --force to replace it"
                       if target else str(exc))
        except OSError as exc:
            code = ExitCode.IO_ERROR
            message = f"cannot write {exc.filename or output}: {exc.strerror or exc}"
        else:
            seconds = time.perf_counter() - start
            rows.append((str(image), report))
            if args.json:
                print(json.dumps({"input": str(image), "output": str(output), "ok": True,
                                  **report.as_dict(), "seconds": round(seconds, 4)}),
                      file=report_to)
            bar.update()
            continue
        codes.append(code)
        complain(message)
        if args.json:
            print(json.dumps({"input": str(image), "output": str(output), "ok": False,
                              "error": message, "exit_code": int(code)}), file=report_to)
        bar.update()
    bar.close()
    if rows and not args.json and not args.quiet:
        print(_format_table(rows), file=report_to)
    # The most serious first: an unreadable input, a refused overwrite, then pngquant's two.
    order = (ExitCode.IO_ERROR, ExitCode.OUTPUT_EXISTS, ExitCode.QUALITY_TOO_LOW,
             ExitCode.NOT_SMALLER)
    return next((code for code in order if code in codes), ExitCode.OK)


class _NotSmaller(Exception):
    """--skip-if-larger: the output would not be smaller than its input."""


def _read_stdin() -> bytes:
    data = sys.stdin.buffer.read()
    if not data:
        from lloyd.image import ImageReadError

        raise ImageReadError("cannot read standard input: it is empty")
    return data


def _write_compare(result, path, *, overwrite: bool) -> None:
    from matplotlib.figure import Figure

    from lloyd._image_io import check_output
    from lloyd._plot_base import save_figure
    from lloyd.plot import plot_comparison

    check_output(path, overwrite=overwrite)
    report = result.report
    fig = Figure(figsize=(10, 6.2), layout="constrained")
    psnr = "lossless" if report.psnr == float("inf") else f"PSNR {report.psnr:.2f} dB"
    original, compressed = result.original, result.to_array()
    frame = ""
    if result.frames > 1:  # the first frame stands for them all; the numbers cover every one
        original, compressed = original[0], compressed[0]
        frame = f", frame 1 of {result.frames}"
    plot_comparison(original, compressed, result.palette, fig=fig, titles=(
        f"Original ({report.input_bytes or 0:,} bytes{frame})",
        f"{report.n_colors} colours, {psnr}, ΔE2000 {report.delta_e:.2f} "
        f"({report.output_bytes:,} bytes)",
    ))
    save_figure(fig, path, overwrite=overwrite, dpi=100)


def _format_table(rows) -> str:
    header = ("file", "colours", "PSNR dB", "ΔE2000", "bytes before → after", "ratio")
    lines = []
    for name, r in rows:
        before = "-" if r.input_bytes is None else f"{r.input_bytes:,}"
        lines.append((
            name,
            str(r.n_colors),
            "lossless" if r.psnr == float("inf") else f"{r.psnr:.2f}",
            f"{r.delta_e:.2f}",
            f"{before} → {r.output_bytes:,}",
            "-" if r.ratio is None else f"{r.ratio:.1f}x",
        ))
    if any(r.frames > 1 for _, r in rows):  # only then: the usual table stays as it was
        header = (header[0], "frames", *header[1:])
        lines = [(line[0], str(r.frames), *line[1:]) for line, (_, r) in zip(lines, rows)]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    out = []
    for row in [header, *lines]:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                          strict=True)]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)
