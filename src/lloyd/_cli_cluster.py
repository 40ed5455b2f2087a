"""``lloyd cluster``: its arguments, and the call into ``lloyd.tables`` with its errors."""

from __future__ import annotations

import argparse
import os
import sys

from lloyd._cli_exit import EPILOG, ExitCode
from lloyd._options import ALGORITHMS, AUTO

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


def add_cluster(sub):
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
