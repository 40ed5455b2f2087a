"""The ``lloyd`` command: it parses arguments, calls the library and formats the answer.

No algorithm lives here; heavy imports happen inside the sub-commands, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import enum
import sys


class ExitCode(enum.IntEnum):
    """Exit status of the ``lloyd`` command."""

    OK = 0
    #: an unexpected internal error (a bug: please report it)
    INTERNAL_ERROR = 1
    #: the command line was wrong (argparse's own code)
    USAGE_ERROR = 2
    #: an input could not be read or an output could not be written (the other files were done)
    IO_ERROR = 3
    #: an output already existed and --force was not given: it was left alone (others were done)
    OUTPUT_EXISTS = 4
    #: interrupted by the user (Ctrl-C)
    INTERRUPTED = 130


EPILOG = """\
exit codes:
  0    success
  1    internal error (a bug in lloyd: please report it)
  2    usage error (bad arguments)
  3    an input could not be read or an output could not be written
       (lloyd compress: that file was skipped, the others were done)
  4    lloyd compress: an output already existed and --force was not given
       (it was left untouched; the others were done); 3 wins over 4
  130  interrupted (Ctrl-C)
"""


def _build_parser() -> argparse.ArgumentParser:
    from lloyd import __version__

    parser = argparse.ArgumentParser(
        prog="lloyd",
        description="k-means clustering as it is taught, fast, and as an image compressor.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lloyd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="watch k-means work: the sample data, random starts, a photo in 16 colours",
        description=(
            "Run k-means step by step on the 2-D sample dataset (10 iterations from "
            "[[3, 3], [6, 2], [8, 5]]), compare three random initialisations, and reduce a "
            "sample photograph to 16 colours, and plot the elbow curve for choosing K. Writes "
            "PNG figures and a GIF animation of the iterations to --out and prints a report."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--out", default="lloyd-demo", metavar="DIR",
                      help="folder for the figures (created if missing; default: ./lloyd-demo)")
    demo.add_argument("--random-state", type=int, default=None, metavar="SEED",
                      help="seed for the random initialisations (default: 6, a seed where one "
                      "of the three random starts lands in a poor local minimum)")
    demo.set_defaults(handler=_cmd_demo)
    _add_compress(sub)
    return parser


COMPRESS_DESCRIPTION = """\
Reduce each IMAGE to at most N colours by k-means on its distinct colours and write a palette
PNG (1, 2, 4 or 8 bits per pixel, the fewest that hold N). Reads what Pillow reads (PNG, JPEG,
WebP, GIF, TIFF, BMP, ...), applies EXIF orientation, keeps transparency. An image with at most
N colours is written losslessly. The same image and options always give the same bytes.

Each output lands beside its input: the input's name without its extension, plus SUFFIX
(default '-k{K}.png', where {K} is N: photo.jpg -> photo-k16.png). An existing file is never
replaced without --force; files are written to a temporary name and renamed.
"""


def _add_compress(sub) -> None:
    comp = sub.add_parser(
        "compress",
        help="reduce images to K colours and write small palette PNGs",
        description=COMPRESS_DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    comp.add_argument("images", nargs="+", metavar="IMAGE", help="input image files")
    comp.add_argument("-k", "--colors", type=_n_colors, default=16, metavar="N",
                      help="palette size, 1 to 256 (default: 16; 1 gives the mean colour)")
    where = comp.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", metavar="PATH",
                       help="write here (only with a single IMAGE)")
    where.add_argument("--ext", default="-k{K}.png", metavar="SUFFIX",
                       help="output name suffix, {K} replaced by N (default: -k{K}.png; "
                       "write --ext=SUFFIX when it starts with '-')")
    comp.add_argument("-f", "--force", action="store_true",
                      help="replace existing outputs (even the input itself)")
    comp.add_argument("--dither", nargs="?", type=_strength, const=1.0, default=0.0,
                      metavar="S", help="Floyd-Steinberg dithering, strength S in [0, 1] "
                      "(default: off; --dither alone is 1; write --dither=S before IMAGE)")
    comp.add_argument("--space", choices=("rgb", "lab", "oklab"), default="rgb",
                      help="colour space of k-means and dithering (default: rgb, the best "
                      "PSNR; oklab or lab for the lowest perceptual error, ΔE2000)")
    comp.add_argument("--compare", metavar="FIG.png",
                      help="also write original | compressed | palette side by side (with "
                      "several IMAGEs, '-<image name>' is added before FIG's extension)")
    comp.add_argument("--json", action="store_true",
                      help="print one JSON object per image instead of the table")
    comp.add_argument("-q", "--quiet", action="store_true",
                      help="no table and no progress bar; errors are still printed")
    comp.add_argument("--random-state", type=int, default=0, metavar="SEED",
                      help="seed of the k-means restarts (default: 0)")
    comp.set_defaults(handler=_cmd_compress)


def _n_colors(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer in [1, 256], got {text!r}") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(
            f"must be in [1, 256] (a PNG palette holds at most 256 colours), got {value}"
        )
    return value


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
    suffix = args.ext.replace("{K}", str(args.colors))
    return [Path(image).with_suffix("").with_name(Path(image).stem + suffix)
            for image in args.images]


def _compare_path(args, image):
    from pathlib import Path

    fig = Path(args.compare)
    if len(args.images) == 1:
        return fig
    return fig.with_name(f"{fig.stem}-{Path(image).stem}{fig.suffix}")


def _cmd_compress(args) -> int:
    import json
    import time
    import warnings

    from tqdm import tqdm

    from lloyd.image import ImageReadError, compress

    if args.output is not None and len(args.images) > 1:
        print(f"lloyd compress: --output takes a single IMAGE, got {len(args.images)}; "
              "use --ext for several", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    outputs = _output_paths(args)
    bar = tqdm(total=len(args.images), unit="image", file=sys.stderr, leave=False,
               disable=args.quiet or len(args.images) < 2 or not sys.stderr.isatty())

    def complain(message):
        tqdm.write(f"lloyd compress: {message}", file=sys.stderr)

    rows, codes, claimed = [], [], {}
    for image, output in zip(args.images, outputs, strict=True):
        bar.set_postfix_str(str(image), refresh=False)
        start = time.perf_counter()
        key = output.resolve()
        try:
            if key in claimed:
                raise FileExistsError(f"{output} is also the output of {claimed[key]}; "
                                      "use --ext or --output to tell them apart")
            claimed[key] = image
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = compress(image, output, args.colors, overwrite=args.force,
                                  color_space=args.space, dither=args.dither,
                                  random_state=args.random_state)
            for warning in caught:
                complain(f"warning: {warning.message}")
            if args.compare:
                _write_compare(result, _compare_path(args, image), overwrite=args.force)
        except ImageReadError as exc:
            code, message = ExitCode.IO_ERROR, str(exc)
        except FileExistsError as exc:
            code = ExitCode.OUTPUT_EXISTS
            target = getattr(exc, "target", None)
            message = (f"{target} already exists; use --force to replace it"
                       if target else str(exc))
        except OSError as exc:
            code = ExitCode.IO_ERROR
            message = f"cannot write {exc.filename or output}: {exc.strerror or exc}"
        else:
            report = result.report
            seconds = time.perf_counter() - start
            rows.append((str(image), report))
            if args.json:
                print(json.dumps({"input": str(image), "output": str(output), "ok": True,
                                  **report.as_dict(), "seconds": round(seconds, 4)}))
            bar.update()
            continue
        codes.append(code)
        complain(message)
        if args.json:
            print(json.dumps({"input": str(image), "output": str(output), "ok": False,
                              "error": message, "exit_code": int(code)}))
        bar.update()
    bar.close()
    if rows and not args.json and not args.quiet:
        print(_format_table(rows))
    if not codes:
        return ExitCode.OK
    return ExitCode.IO_ERROR if ExitCode.IO_ERROR in codes else ExitCode.OUTPUT_EXISTS


def _write_compare(result, path, *, overwrite: bool) -> None:
    import io

    from matplotlib.figure import Figure

    from lloyd._image_io import already_exists, write_atomic
    from lloyd.plot import plot_comparison

    if not overwrite and path.exists():
        raise already_exists(path)
    report = result.report
    fig = Figure(figsize=(10, 6.2), layout="constrained")
    psnr = "lossless" if report.psnr == float("inf") else f"PSNR {report.psnr:.2f} dB"
    plot_comparison(result.original, result.to_array(), result.palette, fig=fig, titles=(
        f"Original ({report.input_bytes or 0:,} bytes)",
        f"{report.n_colors} colours, {psnr}, ΔE2000 {report.delta_e:.2f} "
        f"({report.output_bytes:,} bytes)",
    ))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    write_atomic(path, buffer.getvalue(), overwrite=overwrite)


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
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    out = []
    for row in [header, *lines]:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                          strict=True)]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def _cmd_demo(args) -> int:
    from lloyd.demo import run_demo

    try:
        kwargs = {} if args.random_state is None else {"random_state": args.random_state}
        report = run_demo(args.out, **kwargs)
    except OSError as exc:
        print(f"lloyd demo: cannot write to {args.out!r}: {exc.strerror or exc}", file=sys.stderr)
        return ExitCode.IO_ERROR
    print(report.format())
    return ExitCode.OK


def main(argv=None) -> int:
    """Run the ``lloyd`` command with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits for --help, --version and usage errors
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return ExitCode.OK
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("lloyd: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `lloyd demo | head`): stop quietly, and drop stdout so
        # that flushing it again at exit raises nothing.
        sys.stdout = None
        return ExitCode.OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
