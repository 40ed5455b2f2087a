"""``lloyd cluster`` on tables on disk: read, cluster, write, report.

The readers (CSV, compressed CSV, Parquet and Feather through pyarrow; .npy through a memory
map) are in :mod:`lloyd._readers` and :mod:`lloyd._npy_rows`, the writers in
:mod:`lloyd._sinks`. With ``minibatch`` a .npy file is streamed, and a Parquet or Feather file
is read one row group at a time into a temporary spool that is then streamed, so a file larger
than memory clusters in bounded memory.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from lloyd._elbow import inertia_by_k
from lloyd._engine import labels_inertia
from lloyd._npy_rows import NpyRows, TableError
from lloyd._plot_base import save_figure
from lloyd._readers import CsvTable, Table, open_table, read_csv
from lloyd._rows import ArrayRows
from lloyd._runs import fit_weighted
from lloyd._sinks import (
    LabelSink,
    atomic_output,
    check_outputs,
    write_array,
    write_labels,
)
from lloyd._validation import KMEANS_N_INIT_RANDOM, resolve_n_init, too_many_clusters

__all__ = [
    "ClusterReport",
    "CsvTable",
    "ElbowReport",
    "NpyRows",
    "Table",
    "TableError",
    "check_outputs",
    "cluster_file",
    "elbow_file",
    "open_table",
    "read_csv",
]

#: At most this many rows are drawn in figures and scored by the silhouette.
PLOT_SAMPLE = 5000
SILHOUETTE_SAMPLE = 2000


class _Progress:
    """A tqdm bar on standard error, or nothing (``enabled`` False)."""

    def __init__(self, enabled, **kwargs):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(file=sys.stderr, leave=False, dynamic_ncols=True, **kwargs)

    def update(self, n=1):
        if self.bar is not None:
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _check_k(k, n_rows):
    if k > n_rows:
        raise TableError(too_many_clusters("k", k, "the number of rows n_rows", n_rows))


class _ExactFit(NamedTuple):
    """An exact fit's results, named as KMeans's fitted attributes."""

    cluster_centers_: np.ndarray
    labels_: np.ndarray
    inertia_: float
    n_iter_: int
    algorithm_: str


class _Dataset:
    """The rows to cluster, in memory (a Table, or a .npy for exact k-means) or streamed (a .npy
    or a spooled Parquet/Feather file with ``minibatch``), standardised when asked."""

    def __init__(self, table, *, scale, minibatch):
        self.table = table
        self.names = table.names
        self.n_rows = table.n_rows
        self.scale = scale
        self.scaler = None
        self.streamed = isinstance(table, NpyRows) and minibatch
        if self.streamed:
            table.prepare(scale=scale)
            self.scaler = table.scaler
            self.X = None
            self.rows = table
        else:
            if isinstance(table, NpyRows):
                X = table.load()
                table.check_finite(X)
            else:
                X = table.X
            if scale:
                from sklearn.preprocessing import StandardScaler

                self.scaler = StandardScaler(copy=False).fit(X)
                X = self.scaler.transform(X)
            self.X = X
            self.rows = ArrayRows(X)

    def fit(self, k, *, minibatch, init, n_init, algorithm, batch_size, random_state,
            progress=None):
        if minibatch:
            from lloyd.minibatch import MiniBatchKMeans  # an estimator: imports scikit-learn

            est = MiniBatchKMeans(k, init=init, n_init=n_init, batch_size=batch_size,
                                  random_state=random_state, compute_labels=not self.streamed)
            return est._fit_rows(self.rows, None, progress)
        # The exact fit runs on the engine, as KMeans.fit would on these validated rows, so
        # that a table (of any size) is clustered without importing scikit-learn (1-2 s).
        X = self.X
        if not X.flags.c_contiguous:  # the fit reads it as it is (never copied nor modified)
            X = np.ascontiguousarray(X)
        run, algorithm = fit_weighted(
            X, np.ones(len(X), X.dtype), k, init=init,
            n_init=resolve_n_init(init, n_init, KMEANS_N_INIT_RANDOM), algorithm=algorithm,
            random_state=random_state,
            progress=None if progress is None else lambda: progress(None))
        return _ExactFit(run.centers, run.labels, float(run.inertia), run.n_iter, algorithm)

    def inertia_and_sizes(self, est, sink=None, progress=None):
        """The inertia and cluster sizes of all rows; labels to ``sink`` when streamed."""
        k = len(est.cluster_centers_)
        if not self.streamed:
            return est.inertia_, np.bincount(est.labels_, minlength=k)
        centers = est.cluster_centers_
        inertia, sizes = 0.0, np.zeros(k, dtype=np.int64)
        for start, rows in self.rows.chunks():
            labels, chunk_inertia = labels_inertia(rows, np.ones(len(rows), rows.dtype), centers)
            inertia += chunk_inertia
            sizes += np.bincount(labels, minlength=k)
            if sink is not None:
                sink.write(start, labels)
            if progress is not None:
                progress.update(len(rows))
        return inertia, sizes

    def sample(self, size, random_state=0):
        """Up to ``size`` distinct random rows, in row order."""
        if self.n_rows <= size:
            return self.rows.take(np.arange(self.n_rows))
        rng = np.random.default_rng(random_state)
        return self.rows.take(np.sort(rng.choice(self.n_rows, size, replace=False)))

    def centers_in_units(self, centers):
        """Centres in the columns' own units (undoing --scale)."""
        centers = np.asarray(centers, dtype=np.float64)
        return self.scaler.inverse_transform(centers) if self.scaler is not None else centers


@dataclass
class ClusterReport:
    """What ``lloyd cluster`` did: the fit, the clusters, the outputs. ``seconds`` covers
    reading, fitting and labelling, not writing the outputs."""

    data: str
    n_rows: int
    columns: list
    k: int
    method: str
    inertia: float
    n_iter: int
    sizes: list
    seconds: float
    n_steps: int | None = None
    scaled: bool = False
    centers: list = field(default_factory=list)
    outputs: list = field(default_factory=list)

    def to_dict(self):
        """The report as JSON-ready values."""
        out = {
            "data": self.data,
            "rows": self.n_rows,
            "columns": self.columns,
            "k": self.k,
            "method": self.method,
            "scaled": self.scaled,
            "inertia": self.inertia,
            "iterations": self.n_iter,
            "cluster_sizes": self.sizes,
            "centers": self.centers,
            "time_s": round(self.seconds, 4),
            "outputs": self.outputs,
        }
        if self.n_steps is not None:
            out["batches"] = self.n_steps
        return out

    def to_json(self):
        return _to_json(self.to_dict())

    def format(self):
        """The report as lines of text."""
        steps = f" ({self.n_steps:,} batches)" if self.n_steps is not None else ""
        space = " (standardised columns)" if self.scaled else ""
        lines = [
            f"{self.data}: {self.n_rows:,} rows x {len(self.columns)} columns "
            f"({', '.join(self.columns[:8])}{', ...' if len(self.columns) > 8 else ''})",
            f"{self.method}, k={self.k}: inertia {self.inertia:,.6g}{space} after "
            f"{self.n_iter} iteration{'s' if self.n_iter != 1 else ''}{steps}, "
            f"{self.seconds:.2f} s",
            "cluster sizes: " + ", ".join(f"{j}: {s:,}" for j, s in enumerate(self.sizes)),
        ]
        lines += [f"wrote {path}" for path in self.outputs]
        return "\n".join(lines)


@dataclass
class ElbowReport:
    """Inertia and silhouette score for a range of K."""

    data: str
    n_rows: int
    method: str
    k_values: list
    inertias: list
    silhouettes: list
    seconds: list
    silhouette_rows: int
    outputs: list = field(default_factory=list)

    def to_dict(self):
        return {
            "data": self.data,
            "rows": self.n_rows,
            "method": self.method,
            "silhouette_sample": self.silhouette_rows,
            "results": [
                {"k": k, "inertia": i, "silhouette": None if np.isnan(s) else s,
                 "time_s": round(t, 4)}
                for k, i, s, t in zip(self.k_values, self.inertias, self.silhouettes,
                                      self.seconds)
            ],
            "outputs": self.outputs,
        }

    def to_json(self):
        return _to_json(self.to_dict())

    def format(self):
        lines = [
            f"{self.data}: {self.n_rows:,} rows, {self.method}; silhouette on "
            f"{self.silhouette_rows:,} rows",
            f"{'K':>4}  {'inertia':>14}  {'silhouette':>10}  {'time':>7}",
        ]
        for k, inertia, sil, t in zip(self.k_values, self.inertias, self.silhouettes,
                                      self.seconds):
            sil_text = "-" if np.isnan(sil) else f"{sil:.3f}"
            lines.append(f"{k:>4}  {inertia:>14,.6g}  {sil_text:>10}  {t:>6.2f}s")
        lines += [f"wrote {path}" for path in self.outputs]
        return "\n".join(lines)


def _to_json(report):
    """Indented JSON with each list of numbers on one line."""
    text = json.dumps(report, indent=2)
    return re.sub(r"\[\s*([-+0-9.eE,\s]*?)\s*\]",
                  lambda m: "[" + " ".join(m.group(1).split()) + "]", text)


def _method(minibatch, algorithm, init, n_init):
    if minibatch:
        return f"mini-batch k-means ({init}, n_init={n_init})"
    return f"k-means ({algorithm}, {init}, n_init={n_init})"


def cluster_file(data, n_clusters=8, *, columns=None, scale=False, init="k-means++",
                 n_init="auto", algorithm="auto", random_state=None, minibatch=False,
                 batch_size=1024, labels_path=None, centers_path=None, plot_path=None,
                 force=False, progress=False, stdin=None):
    """Cluster the rows of a table on disk and write the outputs asked for.

    Parameters
    ----------
    data : str or path-like
        A CSV file (plain or compressed with gzip, bzip2, xz or zstd), a Parquet file, a
        Feather (Arrow IPC) file, a .npy file, or ``'-'`` (any of these but .npy on standard
        input). The format is told by the file's first bytes.
    n_clusters : int, default=8
    columns : sequence of str, default=None
        The columns to cluster (names or 1-based positions); None means all.
    scale : bool, default=False
        Standardise every column (mean 0, variance 1) before clustering; centres are written
        in the columns' own units.
    init, n_init, algorithm, random_state
        As for :class:`lloyd.KMeans` (``algorithm`` is ignored with ``minibatch``).
    minibatch : bool, default=False
        Fit :class:`lloyd.MiniBatchKMeans`; a .npy file is then streamed, never loaded whole,
        and a Parquet or Feather file is read one row group (record batch) at a time into a
        temporary spool (in ``TMPDIR``) that is streamed the same way.
    batch_size : int, default=1024
    labels_path : path-like, default=None
        ``.npy``: the labels (int32). ``.parquet``/``.pq`` or ``.feather``/``.arrow``: one int32
        column ``cluster``. Otherwise CSV: for a CSV input its rows with a ``cluster`` column
        added, for other inputs one ``cluster`` column. Streamed fits write them slice by slice.
    centers_path : path-like, default=None
        ``.npy``: an array (k, n_columns); Parquet, Feather or CSV: a table whose columns are
        named as the input's.
    plot_path : path-like, default=None
        A figure of (a sample of) the rows by cluster; beyond two columns, the first two
        principal components. The format follows the extension (PNG, SVG, PDF...).
    force : bool, default=False
        Replace existing outputs; without it an existing output stops the command before any
        work (FileExistsError).
    progress : bool, default=False
        Show progress bars on standard error.
    stdin : file, default=None
        For ``data='-'``, read this (text or bytes) instead of ``sys.stdin``.

    Returns
    -------
    report : ClusterReport

    Raises
    ------
    TableError
        The input is not a table of finite numbers, or has fewer rows than ``n_clusters``.
    FileExistsError
        An output exists and ``force`` is False.
    OSError
        An input cannot be read or an output cannot be written.
    """
    outputs = [p for p in (labels_path, centers_path, plot_path) if p is not None]
    check_outputs(outputs, force=force)
    start = time.perf_counter()
    table = open_table(data, columns=columns, stdin=stdin, stream=minibatch)
    with contextlib.closing(table):
        _check_k(n_clusters, table.n_rows)
        dataset = _Dataset(table, scale=scale, minibatch=minibatch)

        bar = _Progress(progress, desc="mini-batches" if minibatch else "iterations",
                        unit=" batches" if minibatch else " iterations")
        try:
            est = dataset.fit(n_clusters, minibatch=minibatch, init=init, n_init=n_init,
                              algorithm=algorithm, batch_size=batch_size,
                              random_state=random_state, progress=lambda step: bar.update())
        finally:
            bar.close()

        written = []
        with contextlib.ExitStack() as stack:
            sink = None
            if labels_path is not None and dataset.streamed:
                tmp = stack.enter_context(atomic_output(labels_path, force=force))
                sink = LabelSink(tmp, labels_path, dataset.n_rows)
                stack.callback(sink.close)
            bar = _Progress(progress and dataset.streamed, desc="labelling", unit=" rows",
                            total=dataset.n_rows, unit_scale=True)
            try:
                inertia, sizes = dataset.inertia_and_sizes(est, sink, bar)
            finally:
                bar.close()
        seconds = time.perf_counter() - start
        if labels_path is not None:
            if not dataset.streamed:
                write_labels(table, est.labels_, labels_path, force=force)
            written.append(str(labels_path))

        centers = dataset.centers_in_units(est.cluster_centers_)
        if centers_path is not None:
            write_array(centers_path, centers, dataset.names, force=force)
            written.append(str(centers_path))
        if plot_path is not None:
            _plot_clusters(dataset, est, plot_path, force=force)
            written.append(str(plot_path))

        return ClusterReport(
            data=getattr(table, "name", str(data)),
            n_rows=dataset.n_rows,
            columns=list(dataset.names),
            k=n_clusters,
            method=_method(minibatch, getattr(est, "algorithm_", algorithm), init, n_init),
            inertia=float(inertia),
            n_iter=int(est.n_iter_),
            sizes=[int(s) for s in sizes],
            seconds=seconds,
            n_steps=int(est.n_steps_) if minibatch else None,
            scaled=scale,
            centers=centers.tolist(),
            outputs=written,
        )


def _plot_clusters(dataset, est, path, *, force):
    from lloyd.plot import plot_clusters

    if len(dataset.names) < 2:
        raise TableError("--plot needs at least 2 columns to draw the rows in the plane")
    X = dataset.sample(PLOT_SAMPLE)
    centers = est.cluster_centers_.astype(X.dtype)
    labels, _ = labels_inertia(X, np.ones(len(X), X.dtype), centers)
    suffix = " (standardised)" if dataset.scale else ""
    ax = plot_clusters(X, labels, centers,
                       feature_names=[n + suffix for n in dataset.names[:2]],
                       title=f"{dataset.n_rows:,} rows in {len(centers)} clusters"
                       + (f" (sample of {len(X):,})" if len(X) < dataset.n_rows else ""))
    save_figure(ax.figure, path, overwrite=force, dpi=120)


def elbow_file(data, k_values, *, columns=None, scale=False, init="k-means++", n_init="auto",
               algorithm="auto", random_state=None, minibatch=False, batch_size=1024,
               plot_path="elbow.png", force=False, progress=False, stdin=None):
    """Fit every K in ``k_values``: inertia, silhouette score on a sample, and the elbow figure.

    The silhouette (``sklearn.metrics.silhouette_score``) is computed on the same
    ``SILHOUETTE_SAMPLE`` random rows for every K; it is undefined (NaN) for K = 1.
    Parameters are those of :func:`cluster_file`; ``plot_path`` (None: no figure) receives the
    figure.

    Returns
    -------
    report : ElbowReport
    """
    check_outputs([plot_path], force=force)
    table = open_table(data, columns=columns, stdin=stdin, stream=minibatch)
    with contextlib.closing(table):
        _check_k(max(k_values), table.n_rows)
        dataset = _Dataset(table, scale=scale, minibatch=minibatch)
        sample = dataset.sample(SILHOUETTE_SAMPLE)
        last_fit = []  # the report names the algorithm the last fit ran

        def fit(k):
            est = dataset.fit(k, minibatch=minibatch, init=init, n_init=n_init,
                              algorithm=algorithm, batch_size=batch_size,
                              random_state=random_state)
            last_fit[:] = [est]
            return dataset.inertia_and_sizes(est)[0], est.cluster_centers_

        bar = _Progress(progress, desc="K", total=len(k_values))
        try:
            by_k = inertia_by_k(fit, k_values, silhouette_rows=sample, progress=bar.update)
        finally:
            bar.close()
        outputs = []
        if plot_path is not None:
            from lloyd.plot import plot_inertia_by_k

            fig = plot_inertia_by_k(by_k.k_values, by_k.inertias, by_k.silhouettes)
            fig.suptitle(f"{getattr(table, 'name', data)}: {dataset.n_rows:,} rows")
            save_figure(fig, plot_path, overwrite=force, dpi=120)
            outputs.append(str(plot_path))
        return ElbowReport(
            data=getattr(table, "name", str(data)),
            n_rows=dataset.n_rows,
            method=_method(minibatch, getattr(last_fit[0], "algorithm_", algorithm), init, n_init),
            k_values=by_k.k_values,
            inertias=by_k.inertias,
            silhouettes=by_k.silhouettes,
            seconds=by_k.seconds,
            silhouette_rows=len(sample),
            outputs=outputs,
        )
