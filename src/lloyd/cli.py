"""The ``lloyd`` command: it parses arguments, calls the library and formats the answer.

No algorithm lives here; heavy imports happen inside the sub-commands, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys

from lloyd._cli_cluster import add_cluster
from lloyd._cli_compress import add_compress
from lloyd._cli_exit import EPILOG, ExitCode

__all__ = ["EPILOG", "ExitCode", "main"]


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
    add_compress(sub)
    add_cluster(sub)
    _add_explore(sub)
    _add_warmup(sub)
    return parser


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


def _add_warmup(sub):
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
    # lloyd's kernels are the parallel part and hold BLAS to one thread while they run, so a
    # command spares OpenBLAS its thread pool (set before numpy loads it): starting it cost
    # 47 ms of a one-photo compress (465 -> 418 ms), a fifth of pngquant's whole run. A
    # user's own setting is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if args.command in _COMPUTING:  # said when (and only if) numba's kernels load cold
        from lloyd import _warmup

        _warmup.announce()
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
