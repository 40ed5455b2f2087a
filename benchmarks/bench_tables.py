"""Reading a large CSV: lloyd's Arrow reader against the hand-written one it replaced.

Run: ``python benchmarks/bench_tables.py`` (1 GB, 3 repeats: about 10 min on 2 busy cores), or
e.g. ``python benchmarks/bench_tables.py --gb 0.1 --repeats 5``.

A CSV of --gb GB (a header and 8 float64 columns of Gaussian blobs, written by pyarrow at full
precision) is generated in a temporary folder (--tmp) and deleted afterwards. Each repeat reads
it once with ``lloyd.tables.read_csv`` of this checkout and once with the same function of the
base revision (--base, default d9380ab: the csv-module reader; its ``src/`` is taken with
``git archive`` into the temporary folder), interleaved (new, base, new, base, ...), each read in
a fresh child process so that neither inherits the other's memory. The table reports the median
seconds, MB/s and peak resident memory (VmHWM) of each and the ratio base / new; both readers
must return the same array (a checksum is compared). One-time costs (importing pyarrow, loading
numba's cached kernel for the finiteness check) are paid before the clock starts. Reading CSV
uses no BLAS; pyarrow's thread count is printed.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import re, sys, time
import numpy as np
from lloyd.tables import read_csv
from lloyd._kernels.reductions import finite_max_abs
finite_max_abs(np.zeros((2, 2)))  # numba loads its compiled kernel: not the reader's cost
try:
    import pyarrow.csv  # imported on first use by the new reader: not the reading's cost
except ImportError:
    pass
start = time.perf_counter()
table = read_csv(sys.argv[1])
seconds = time.perf_counter() - start
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
X = table.X
print(seconds, peak / 1024, X.shape[0], X.shape[1], repr(float(np.sum(X[::997]))))
"""


def write_csv(path, gb, d=8, k=16, seed=0):
    """About ``gb`` GB of blobs as CSV with a header line, written slice by slice."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    rng = np.random.default_rng(seed)
    centers = rng.uniform(-50, 50, size=(k, d))
    names = [f"x{j}" for j in range(d)]
    target = gb * 1e9
    with pa_csv.CSVWriter(str(path), pa.schema([(n, pa.float64()) for n in names])) as writer:
        while path.stat().st_size < target:
            X = centers[rng.integers(0, k, 200_000)] + rng.normal(size=(200_000, d))
            writer.write_table(pa.table({n: X[:, j] for j, n in enumerate(names)}))


def base_source(rev, folder):
    """``src/`` of revision ``rev``, unpacked into ``folder``; its path."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "src"],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(folder, filter="data")
    return Path(folder) / "src"


def read_once(src, path):
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), (int(out[2]), int(out[3]), out[4])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="size of the CSV (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="reads of each (default 3)")
    parser.add_argument("--base", default="d9380ab", help="the revision to compare against")
    parser.add_argument("--tmp", default=None, help="folder for the CSV (default: TMPDIR)")
    args = parser.parse_args(argv)

    import pyarrow as pa

    folder = Path(tempfile.mkdtemp(prefix="lloyd-bench-tables-", dir=args.tmp))
    try:
        path = folder / "blobs.csv"
        write_csv(path, args.gb)
        size_mb = path.stat().st_size / 1e6
        readers = {"new": ROOT / "src", "base": base_source(args.base, folder / "base")}
        runs = {name: [] for name in readers}
        for _ in range(args.repeats):
            for name, src in readers.items():  # interleaved: new, base, new, base, ...
                runs[name].append(read_once(src, path))
        checks = {r[2] for rs in runs.values() for r in rs}
        assert len(checks) == 1, f"the readers disagree: {checks}"
        shape = next(iter(checks))[:2]
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"{size_mb:,.0f} MB CSV, {shape[0]:,} rows x {shape[1]} float columns and a header; "
          f"median of {args.repeats} reads each, interleaved, each in a fresh process")
    print(f"python {platform.python_version()}, numpy {np.__version__}, pyarrow {pa.__version__} "
          f"({pa.cpu_count()} threads), {os.cpu_count()} CPUs, load average {' '.join(load)}")
    print("\n| reader | seconds | MB/s | peak memory (MB) |\n|---|---:|---:|---:|")
    median = {}
    for name, label in (("new", "pyarrow (this checkout)"), ("base", f"csv module ({args.base})")):
        seconds = statistics.median(r[0] for r in runs[name])
        peak = statistics.median(r[1] for r in runs[name])
        median[name] = seconds
        print(f"| {label} | {seconds:.2f} | {size_mb / seconds:,.0f} | {peak:,.0f} |")
    print(f"\nthe Arrow reader is {median['base'] / median['new']:.1f}x as fast "
          f"(all times: new {[round(r[0], 2) for r in runs['new']]}, "
          f"base {[round(r[0], 2) for r in runs['base']]})")


if __name__ == "__main__":
    main()
