"""The ``lloyd`` command: it parses arguments, calls the library and formats the answer.

No algorithm lives here; heavy imports happen inside the sub-commands, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import enum
import os
import sys

from lloyd._options import ALGORITHMS, AUTO


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
    #: the input is not a table k-means can cluster as asked (lloyd cluster)
    DATA_ERROR = 5
    #: lloyd compress --skip-if-larger: an output would not have been smaller than its input,
    #: so it was not written (pngquant's code)
    NOT_SMALLER = 98
    #: lloyd compress --quality MIN-MAX: an image could not reach MIN, so it was not written
    #: (pngquant's code)
    QUALITY_TOO_LOW = 99
    #: interrupted by the user (Ctrl-C)
    INTERRUPTED = 130


EPILOG = """\
exit codes:
  0    success
  1    internal error (a bug in lloyd: please report it)
  2    usage error (bad arguments)
  3    an input could not be read or an output could not be written
       (lloyd compress: that file was skipped, the others were done)
  4    an output already existed and --force was not given (it was left untouched;
       lloyd compress: the others were done; 3 wins over 4)
  5    lloyd cluster: the input is not a table of numbers k-means can cluster as asked
       (empty, ragged rows, text in a numeric column, NaN, fewer rows than k)
  98   lloyd compress --skip-if-larger: an output was not smaller than its input and was not
       written (the others were done)
  99   lloyd compress --quality: an image stayed below MIN and was not written (the others
       were done; 3, 4, 99 and 98 win in that order)
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
    _add_cluster(sub)
    _add_explore(sub)
    return parser


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
palette reaches quality MAX on a 0-100 scale of mean CIEDE2000 (95: 0.91, 90: 1.24, 80: 1.68,
65: 2.15, 50: 2.52; 100 is lossless); an image that stays below MIN is not written (exit 99).
"""


def _add_compress(sub) -> None:
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


def _cmd_compress(args) -> int:
    import json
    import time
    import warnings

    from tqdm import tqdm

    from lloyd._files import check_output
    from lloyd.image import ImageReadError, QualityTooLowError, quantize

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
    bar = tqdm(total=len(args.images), unit="image", file=sys.stderr, leave=False,
               disable=args.quiet or len(args.images) < 2 or not sys.stderr.isatty())

    def complain(message):
        tqdm.write(f"lloyd compress: {message}", file=sys.stderr)

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
                                  frames="all" if args.all_frames else "first")
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
    import io

    from matplotlib.figure import Figure

    from lloyd._image_io import check_output, write_atomic
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




CLUSTER_DESCRIPTION = """\
Cluster the rows of a table with k-means. DATA is a CSV file (delimiter and header line
detected; plain or compressed with gzip, bzip2, xz or zstd), a Parquet file, a Feather (Arrow
IPC) file, a .npy file (2-D, or 1-D for one column), or - for standard input. The format is
told by the file's first bytes, not its name. Every column must be numeric unless --columns
chooses some.

Exact k-means (the default) holds the data in memory. --minibatch fits mini-batch k-means and
streams a .npy file: it is read a slice at a time, so a file larger than memory clusters in
bounded memory (labels are then written slice by slice too). A Parquet or Feather file is then
read one row group at a time into a temporary file (in $TMPDIR) that is streamed the same way.

Outputs are written to a temporary file and renamed, and never replace an existing file
without --force. The report goes to standard output (--json: as JSON); a progress bar goes to
standard error when it is a terminal, unless --quiet.
"""

CLUSTER_EXAMPLES = """\
examples:
  lloyd cluster data.csv -k 3 --labels labelled.csv --plot clusters.png
  lloyd cluster big.npy -k 64 --minibatch --labels labels.npy --centers centers.npy
  lloyd cluster events.parquet -k 16 --minibatch --labels labels.parquet
  lloyd cluster survey.csv.gz --columns 3,4,5 --scale --centers centers.csv
  lloyd cluster data.csv --columns height,weight --scale --elbow 2..10
  cat data.csv | lloyd cluster - -k 4 --json
"""


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def _n_init(text):
    return text if text == "auto" else _positive_int(text)


def _k_range(text):
    lo, sep, hi = text.partition("..")
    try:
        lo, hi = int(lo), int(hi)
    except ValueError:
        lo = hi = None
    if not sep or lo is None or not 1 <= lo <= hi:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a range of K like 2..12 (1 <= first <= last)"
        )
    return range(lo, hi + 1)


def _add_cluster(sub):
    cluster = sub.add_parser(
        "cluster",
        help="cluster the rows of a table: CSV, Parquet, Feather or .npy (streams large files "
        "with --minibatch)",
        description=CLUSTER_DESCRIPTION,
        epilog=CLUSTER_EXAMPLES + "\n" + EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cluster.add_argument("data", metavar="DATA",
                         help="a CSV (.gz, .bz2, .xz, .zst too), Parquet, Feather or .npy file, "
                         "or - (stdin)")
    cluster.add_argument("-k", "--n-clusters", type=_positive_int, default=None, metavar="N",
                         help="number of clusters (default: 8)")
    cluster.add_argument("--columns", metavar="COLS",
                         help="comma-separated columns to cluster, by header name or 1-based "
                         "position (default: all, which must be numeric)")
    cluster.add_argument("--scale", action="store_true",
                         help="standardise every column (mean 0, variance 1) first; centres "
                         "are written in the columns' own units")
    cluster.add_argument("--init", choices=("k-means++", "afk-mc2", "random"),
                         default="k-means++",
                         help="how to choose the starting centres (default: k-means++; "
                         "afk-mc2 reads the data once, for very many rows)")
    cluster.add_argument("--n-init", type=_n_init, default="auto", metavar="N",
                         help="starts tried, the best kept (default: auto: 1 for k-means++; "
                         "10 for random, 3 with --minibatch)")
    cluster.add_argument("--algorithm", choices=(AUTO, *ALGORITHMS), default=None,
                         help="exact k-means algorithm (default: auto: chosen from the data's "
                         "shape)")
    cluster.add_argument("--random-state", type=int, default=None, metavar="SEED",
                         help="seed: the same seed gives the same clusters")
    cluster.add_argument("--minibatch", action="store_true",
                         help="mini-batch k-means: faster on many rows; streams .npy, Parquet "
                         "and Feather files")
    cluster.add_argument("--batch-size", type=_positive_int, default=None, metavar="N",
                         help="rows per mini-batch (default: 1024; needs --minibatch)")
    cluster.add_argument("--labels", metavar="PATH",
                         help="write each row's cluster: .npy (int32), .parquet or .feather "
                         "(a 'cluster' column), or CSV (a CSV input's rows with a 'cluster' "
                         "column)")
    cluster.add_argument("--centers", metavar="PATH",
                         help="write the centres: .npy, or .parquet, .feather or CSV with the "
                         "column names")
    cluster.add_argument("--plot", metavar="FIG",
                         help="draw the clusters (2-D, or the first two principal components) "
                         "to FIG (.png, .svg, .pdf); with --elbow, the elbow figure "
                         "(default there: elbow.png)")
    cluster.add_argument("--elbow", type=_k_range, metavar="A..B",
                         help="fit every K from A to B: a table of K, inertia and silhouette "
                         "(on a sample) and the elbow figure")
    cluster.add_argument("--json", action="store_true", help="print the report as JSON")
    cluster.add_argument("-f", "--force", action="store_true",
                         help="replace existing output files")
    cluster.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    cluster.set_defaults(handler=_cmd_cluster)

    warmup = sub.add_parser(
        "warmup",
        help="compile every kernel now, so that no later run waits for it",
        description="Compile every kernel lloyd may run (each algorithm, float32 and float64) by "
        "running it once on small data. The first run of any command does this on its own for "
        "the kernels it needs; run it ahead when building an image or a CI cache.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    warmup.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    warmup.set_defaults(handler=_cmd_warmup)


def _cmd_cluster(args) -> int:
    def fail(code, message):
        print(f"lloyd cluster: {message}", file=sys.stderr)
        return code

    if args.batch_size is not None and not args.minibatch:
        return fail(ExitCode.USAGE_ERROR, "--batch-size needs --minibatch")
    if args.algorithm is not None and args.minibatch:
        return fail(ExitCode.USAGE_ERROR, "--algorithm applies to exact k-means, not --minibatch")
    if args.elbow is not None and (args.n_clusters is not None or args.labels or args.centers):
        return fail(ExitCode.USAGE_ERROR,
                    "--elbow fits a range of K: it takes no -k, --labels or --centers")

    outputs = [p for p in (args.labels, args.centers, args.plot) if p]
    if len({os.path.abspath(p) for p in outputs}) < len(outputs):
        return fail(ExitCode.USAGE_ERROR, "--labels, --centers and --plot need different files")

    from lloyd import tables

    options = {
        "columns": args.columns.split(",") if args.columns else None,
        "scale": args.scale,
        "init": args.init,
        "n_init": args.n_init,
        "algorithm": args.algorithm or "auto",
        "random_state": args.random_state,
        "minibatch": args.minibatch,
        "batch_size": args.batch_size or 1024,
        "force": args.force,
        "progress": not args.quiet and sys.stderr.isatty(),
    }
    try:
        if args.elbow is not None:
            report = tables.elbow_file(args.data, args.elbow, plot_path=args.plot or "elbow.png",
                                       **options)
        else:
            report = tables.cluster_file(
                args.data, args.n_clusters or 8, labels_path=args.labels,
                centers_path=args.centers, plot_path=args.plot, **options,
            )
    except tables.TableError as exc:
        return fail(ExitCode.DATA_ERROR, str(exc))
    except FileExistsError as exc:
        target = getattr(exc, "target", None)
        return fail(ExitCode.OUTPUT_EXISTS, f"{target} already exists; use --force to replace it"
                    if target else str(exc).splitlines()[0])
    except OSError as exc:
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        return fail(ExitCode.IO_ERROR, f"{exc.strerror or exc}{where}")
    print(report.to_json() if args.json else report.format())
    return ExitCode.OK


EXPLORE_DESCRIPTION = """\
Start a local web app to touch k-means: step through it on sample or uploaded data (place,
drag, assign, move, k-means++), compress an image, and choose K. Every number on the page is
computed by lloyd. The server listens on 127.0.0.1 only and every request needs the secret
token in the printed address. Stop it with Ctrl-C.
"""


def _add_explore(sub):
    explore = sub.add_parser(
        "explore",
        help="k-means you can touch, in the browser (a local web app)",
        description=EXPLORE_DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    explore.add_argument("--port", type=_port, default=0, metavar="N",
                         help="port to listen on (default: a free one)")
    explore.add_argument("--no-browser", action="store_true",
                         help="print the address instead of opening the default browser")
    explore.add_argument("--host", default="127.0.0.1", metavar="ADDR",
                         help="address to listen on (default: 127.0.0.1); anything but "
                         "loopback also needs --allow-remote, and browsers must use this "
                         "very address (the Host header is checked)")
    explore.add_argument("--allow-remote", action="store_true",
                         help="allow a --host other than loopback: anyone who can reach it "
                         "and has the address (token included) can use the app")
    explore.set_defaults(handler=_cmd_explore)


def _port(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an integer in [0, 65535], got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be in [0, 65535], got {value}")
    return value


def _cmd_explore(args) -> int:
    try:
        from lloyd.explore import server
    except ImportError as exc:  # starlette or uvicorn missing from a broken install
        print(f"lloyd explore: {exc}; reinstall lloyd-kmeans (it needs starlette and uvicorn)",
              file=sys.stderr)
        return ExitCode.INTERNAL_ERROR
    if not server.is_loopback(args.host):
        if not args.allow_remote:
            print(f"lloyd explore: --host {args.host} is not loopback: other machines could "
                  "reach the server; add --allow-remote if you mean it", file=sys.stderr)
            return ExitCode.USAGE_ERROR
        print(f"lloyd explore: warning: listening on {args.host}, not loopback; anyone who can "
              "reach it and has the address (with its token) can use it", file=sys.stderr)
    try:
        server.serve(args.host, args.port, open_browser=not args.no_browser)
    except KeyboardInterrupt:  # uvicorn has shut down cleanly; Ctrl-C is how it is stopped
        print("lloyd explore: stopped", file=sys.stderr)
        return ExitCode.OK
    except OSError as exc:
        print(f"lloyd explore: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return ExitCode.IO_ERROR
    return ExitCode.OK


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


def _cmd_warmup(args) -> int:
    from lloyd._warmup import warm_up

    count, seconds = warm_up(progress=not args.quiet)
    print(f"lloyd warmup: {count} workloads run, every kernel compiled, in {seconds:.1f} s")
    return ExitCode.OK


#: The commands that run kernels, and so may compile them on a first run.
_COMPUTING = ("demo", "compress", "cluster")


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
    if args.command in _COMPUTING:
        from lloyd._warmup import notice_if_cold

        notice_if_cold()
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
