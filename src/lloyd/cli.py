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
    #: an input could not be read or an output could not be written
    IO_ERROR = 3
    #: interrupted by the user (Ctrl-C)
    INTERRUPTED = 130


EPILOG = """\
exit codes:
  0    success
  1    internal error (a bug in lloyd: please report it)
  2    usage error (bad arguments)
  3    an input could not be read or an output could not be written
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
    return parser


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
