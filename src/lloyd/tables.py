"""Tables on disk for ``lloyd cluster``: read a CSV or .npy file, cluster it, write, report.

A .npy file is read a slice or a batch at a time (memory-map slices for passes, positioned
reads for the scattered rows of a batch), so a mini-batch fit holds a batch, a slice and the
labels being written, never the whole array.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lloyd._files import atomic_output as _atomic_output

__all__ = [
    "ClusterReport",
    "CsvTable",
    "ElbowReport",
    "NpyRows",
    "TableError",
    "cluster_file",
    "elbow_file",
    "open_table",
    "read_csv",
]

#: A streamed pass reads slices of about this many bytes.
CHUNK_BYTES = 16 * 2**20
#: At most this many rows are drawn in figures and scored by the silhouette.
PLOT_SAMPLE = 5000
SILHOUETTE_SAMPLE = 2000
_NPY_MAGIC = b"\x93NUMPY"
#: Scattered rows read through one memory map at a time, where positioned reads are not
#: available (Windows, Fortran-ordered files).
_MAPPED_ROWS = 64


class TableError(ValueError):
    """The input cannot be clustered as asked; the message says where and why."""


# ---------------------------------------------------------------------- CSV


@dataclass
class CsvTable:
    """A CSV file read whole: the rows as text, and the columns to cluster as numbers."""

    name: str
    header: list | None
    rows: list = field(repr=False)
    columns: list
    names: list
    X: np.ndarray = field(repr=False)
    delimiter: str = ","

    @property
    def n_rows(self):
        return len(self.rows)


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_csv(path, *, columns=None, stdin=None):
    """Read a CSV file (``'-'``: standard input) and the numeric columns to cluster.

    The delimiter (``, ; tab |``) and a header line are detected: the first line is a header
    when a column is text there and a number in the next line, or when it is all text.

    Parameters
    ----------
    path : str or path-like
        The file, or ``'-'`` for standard input.
    columns : sequence of str, default=None
        The columns to cluster, by header name or 1-based position; None means every column,
        which must then all be numeric.
    stdin : text file, default=None
        Read instead of ``sys.stdin`` for ``'-'``.

    Returns
    -------
    table : CsvTable
        ``X`` has shape (n_rows, n_columns_chosen), float64.

    Raises
    ------
    TableError
        An empty file, a ragged row, a non-numeric or non-finite value in a chosen column,
        text columns when none were chosen, an unknown column.
    """
    name = "<stdin>" if str(path) == "-" else str(path)
    try:
        if str(path) == "-":
            text = (stdin if stdin is not None else sys.stdin).read()
        else:
            with open(path, encoding="utf-8-sig", newline="") as f:
                text = f.read()
    except UnicodeDecodeError:
        raise TableError(f"{name} is not a UTF-8 text (CSV) file nor a .npy file") from None
    if not text.strip():
        raise TableError(f"{name} is empty: there are no rows to cluster")
    try:
        delimiter = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []  # (line number, fields), blank lines skipped
    for fields in reader:
        if fields and not (len(fields) == 1 and not fields[0].strip()):
            records.append((reader.line_num, fields))
    width = len(records[0][1])
    for line, fields in records:
        if len(fields) != width:
            raise TableError(
                f"{name}, line {line}: {len(fields)} fields where line {records[0][0]} has "
                f"{width}; every row needs the same number of fields"
            )
    first = records[0][1]
    header = None
    if not all(_is_number(v) for v in first):
        second = records[1][1] if len(records) > 1 else None
        if (second is None or not any(_is_number(v) for v in first)
                or any(not _is_number(a) and _is_number(b) for a, b in zip(first, second))):
            header = [v.strip() for v in first]
            records = records[1:]
    if not records:
        raise TableError(f"{name} has a header but no data rows: there are no rows to cluster")
    names = ([h or str(j + 1) for j, h in enumerate(header)] if header is not None
             else [str(j + 1) for j in range(width)])
    lines = [line for line, _ in records]
    rows = [fields for _, fields in records]

    if columns is None:
        text_columns = [j for j in range(width) if not _is_number(rows[0][j])]
        if text_columns:
            numeric = [names[j] for j in range(width) if j not in text_columns]
            hint = f", e.g. --columns {','.join(numeric)}" if numeric else ""
            listed = ", ".join(repr(names[j]) for j in text_columns)
            raise TableError(
                f"{name}: column{'s' if len(text_columns) > 1 else ''} {listed} "
                f"{'are' if len(text_columns) > 1 else 'is'} not numeric; choose the columns "
                f"to cluster with --columns{hint}"
            )
        chosen = list(range(width))
    else:
        chosen = [_column_index(c, names, name) for c in columns]
    X = np.empty((len(rows), len(chosen)))
    for out, j in enumerate(chosen):
        for i, fields in enumerate(rows):
            value = fields[j]
            try:
                X[i, out] = float(value)
            except ValueError:
                raise TableError(
                    f"{name}, line {lines[i]}, column {names[j]!r}: {value!r} is not a number"
                ) from None
        bad = np.flatnonzero(~np.isfinite(X[:, out]))
        if bad.size:
            i = bad[0]
            raise TableError(
                f"{name}, line {lines[i]}, column {names[j]!r}: {rows[i][j]!r} is not a finite "
                "number; k-means needs one in every cell"
            )
    _check_magnitude(X, name)
    return CsvTable(name, header, rows, chosen, [names[j] for j in chosen], X, delimiter)


def _check_magnitude(X, name, largest=None):
    """Raise a TableError when X's values are so large that squared distances overflow
    (``largest``: X's largest absolute value, when the caller measured it)."""
    from lloyd._kernels.common import finite_max_abs
    from lloyd._validation import overflow_limit

    if X.size == 0:
        return
    if largest is None:
        largest = finite_max_abs(X)[1]
    limit = overflow_limit(X)
    if largest > limit:
        raise TableError(
            f"{name}: values as large as {largest:.3g} would overflow k-means' squared distances "
            f"(safe up to {limit:.3g} with {X.shape[1]} columns); divide the columns by a common "
            "factor first"
        )


def _column_index(column, names, source):
    column = str(column).strip()
    if column in names:
        return names.index(column)
    if column.isdigit() and 1 <= int(column) <= len(names):
        return int(column) - 1
    raise TableError(
        f"{source} has no column {column!r}; its columns are {', '.join(names)} "
        f"(names or positions 1 to {len(names)})"
    )


# ---------------------------------------------------------------------- .npy


class NpyRows:
    """A .npy file as a source of rows, read a piece at a time, never whole.

    A slice is copied out of a memory map that is then closed, so the pages it touched leave
    the process; scattered rows are read one positioned read each (see :meth:`take`). Memory
    stays bounded by what one read copies, whatever the file's size. Integer and boolean data
    are read as float64; float32 and float64 as they are.

    Parameters
    ----------
    path : str or path-like
        A 1-D (one feature) or 2-D .npy file of numbers.
    columns : sequence of str, default=None
        The columns to cluster, by 1-based position; None means all.

    Attributes
    ----------
    shape : tuple (n_rows, n_columns)
        Of the rows as read (the columns chosen).
    dtype : numpy dtype
        float32 or float64.
    names : list of str
        "1", "2", ...: the chosen columns' positions.
    """

    def __init__(self, path, *, columns=None):
        self.path = Path(path)
        self.name = str(path)
        try:
            mm = np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError as exc:
            raise TableError(f"{self.name} is not a readable .npy file of numbers: {exc}") from None
        if mm.dtype.kind not in "biuf" or mm.dtype.fields is not None:
            raise TableError(
                f"{self.name} holds {mm.dtype} values; k-means needs numbers (integers or floats)"
            )
        if mm.ndim not in (1, 2):
            raise TableError(
                f"{self.name} has shape {mm.shape}; a table must be 2-D (rows, columns) or 1-D "
                "(one column)"
            )
        self._file_dtype = mm.dtype
        self._file_shape = mm.shape
        self._order = "F" if mm.ndim == 2 and mm.flags.f_contiguous and not mm.flags.c_contiguous \
            else "C"
        self._offset = mm.offset
        del mm
        n_rows = self._file_shape[0]
        width = self._file_shape[1] if len(self._file_shape) == 2 else 1
        self._row_width = width
        if n_rows == 0 or width == 0:
            raise TableError(f"{self.name} is empty (shape {self._file_shape}): no rows to cluster")
        all_names = [str(j + 1) for j in range(width)]
        self._columns = (None if columns is None
                         else [_column_index(c, all_names, self.name) for c in columns])
        chosen = range(width) if self._columns is None else self._columns
        self.names = [all_names[j] for j in chosen]
        self.shape = (n_rows, len(self.names))
        self.dtype = (self._file_dtype if self._file_dtype in (np.float32, np.float64)
                      else np.dtype(np.float64))
        self.scaler = None

    @property
    def n_rows(self):
        return self.shape[0]

    def _map(self):
        return np.memmap(self.path, dtype=self._file_dtype, mode="r", offset=self._offset,
                         shape=self._file_shape, order=self._order)

    def _finish(self, rows):
        """Rows read from the map: 2-D, chosen columns, C order, working dtype, scaled."""
        rows = rows.reshape(len(rows), -1)
        if self._columns is not None:
            rows = rows[:, self._columns]
        rows = np.array(rows, dtype=self.dtype, order="C")  # a copy: the map can go
        if self.scaler is not None:
            rows = self.scaler.transform(rows)
        return rows

    def take(self, indices):
        """Rows ``indices`` (an integer array, or a slice) as a new C-contiguous array.

        A slice is copied from a memory map. Scattered rows are read with one positioned read
        each: touching them through a map would map far more than the rows (on Linux 6.x a
        fault on a file in large folios maps the whole folio, up to 2 MB: 1.3 GB resident for
        one batch of 1024 rows of a 2 GB file).
        """
        if isinstance(indices, slice) or self._order == "F" or not hasattr(os, "preadv"):
            rows = []
            parts = [indices] if isinstance(indices, slice) else \
                [indices[i:i + _MAPPED_ROWS] for i in range(0, len(indices), _MAPPED_ROWS)]
            for part in parts:
                mm = self._map()
                rows.append(np.array(mm[part]))
                del mm
            return self._finish(rows[0] if len(rows) == 1 else np.concatenate(rows))
        row_bytes = self._row_width * self._file_dtype.itemsize
        rows = np.empty((len(indices), self._row_width), dtype=self._file_dtype)
        view = memoryview(rows).cast("B")
        with open(self.path, "rb", buffering=0) as f:
            fd = f.fileno()
            for i, row in enumerate(np.asarray(indices).tolist()):
                os.preadv(fd, [view[i * row_bytes:(i + 1) * row_bytes]],
                          self._offset + row * row_bytes)
        return self._finish(rows)

    def chunks(self):
        """(first row, rows) slices of about CHUNK_BYTES covering the file in order."""
        step = max(1, CHUNK_BYTES // (self.shape[1] * self.dtype.itemsize))
        for start in range(0, self.n_rows, step):
            yield start, self.take(slice(start, start + step))

    def prepare(self, scale=False):
        """One pass: check that every value is finite and, when ``scale``, learn each column's
        mean and standard deviation; later reads are then standardised.

        Raises
        ------
        TableError
            At the first row holding NaN or infinity.
        """
        from sklearn.preprocessing import StandardScaler

        self.scaler = None
        scaler = StandardScaler() if scale else None
        for start, rows in self.chunks():
            self.check_finite(rows, start)
            if scaler is not None:
                scaler.partial_fit(rows)
        self.scaler = scaler

    def check_finite(self, rows, start=0):
        """Raise a TableError naming the first row (``start`` is the first's number) that
        holds NaN or infinity, or whose values are too large (``_check_magnitude``)."""
        from lloyd._kernels.common import finite_max_abs

        if rows.size == 0:
            return
        finite, largest = finite_max_abs(rows)  # one pass for both checks
        if not finite:
            bad = int(np.argmin(np.isfinite(rows).all(axis=1)))
            raise TableError(
                f"{self.name}, row {start + bad + 1}: a value is NaN or "
                "infinite; k-means needs finite numbers"
            )
        _check_magnitude(rows, self.name, largest)

    def tolerance(self, tol):
        """``tol`` times the mean variance of the features (one pass)."""
        from sklearn.preprocessing import StandardScaler

        variance = StandardScaler()
        for _, rows in self.chunks():
            variance.partial_fit(rows)
        return float(np.mean(variance.var_) * tol)

    def load(self):
        """All the rows in one array (read slice by slice: no second copy)."""
        X = np.empty(self.shape, dtype=self.dtype)
        for start, rows in self.chunks():
            X[start:start + len(rows)] = rows
        return X


def open_table(data, *, columns=None, stdin=None):
    """A CsvTable (read whole) or, for a .npy file, an NpyRows (read on demand).

    A file is a .npy file when it starts with numpy's magic bytes, whatever its name.

    Raises
    ------
    TableError
        A file that is not a table of numbers (see :func:`read_csv` and :class:`NpyRows`).
    OSError
        A file that cannot be read.
    """
    if str(data) != "-":
        with open(data, "rb") as f:
            magic = f.read(len(_NPY_MAGIC))
        if magic == _NPY_MAGIC:
            return NpyRows(data, columns=columns)
    return read_csv(data, columns=columns, stdin=stdin)


# ---------------------------------------------------------------------- outputs


def check_outputs(paths, *, force=False):
    """Fail before any work when an output exists (without ``force``) or its folder does not.

    Raises
    ------
    ValueError
        Two outputs name the same file.
    FileExistsError
        An output exists and ``force`` is False.
    FileNotFoundError
        An output's folder does not exist.
    """
    paths = [Path(p) for p in paths if p is not None]
    if len({p.resolve() for p in paths}) < len(paths):
        raise ValueError(f"two outputs name the same file ({', '.join(map(str, paths))})")
    for path in paths:
        if path.exists() and not force:
            raise FileExistsError(f"{path} already exists; use --force to replace it")
        if not path.parent.is_dir():
            raise FileNotFoundError(f"cannot write {path}: folder {path.parent} does not exist")


def atomic_output(path, *, force=False):
    """lloyd's atomic write (``lloyd._files.atomic_output``) with this module's wording."""
    return _atomic_output(path, overwrite=force)


def _write_table(path, header, rows, *, delimiter=",", force=False):
    with atomic_output(path, force=force) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
            if header is not None:
                writer.writerow(header)
            writer.writerows(rows)


def _write_npy(path, array, *, force=False):
    with atomic_output(path, force=force) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array)


def _is_npy(path):
    return Path(path).suffix.lower() == ".npy"


class _LabelSink:
    """Labels written as they are computed: a .npy file through np.lib.format.open_memmap,
    re-opened for each slice so that written pages leave the process, or a one-column CSV."""

    def __init__(self, tmp, final, n_rows):
        self.tmp = Path(tmp)
        self.npy = _is_npy(final)
        self.file = None
        if self.npy:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.int32, shape=(n_rows,))
            del out
        else:
            self.file = open(tmp, "w", encoding="utf-8", newline="")
            self.file.write("cluster\n")

    def write(self, start, labels):
        if self.npy:
            out = np.lib.format.open_memmap(self.tmp, mode="r+")
            out[start:start + len(labels)] = labels
            out.flush()
            del out
        else:
            self.file.write("\n".join(map(str, labels.tolist())) + "\n")

    def close(self):
        if self.file is not None:
            self.file.close()


# ---------------------------------------------------------------------- clustering


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
        raise TableError(
            f"k={k} must be <= the number of rows n_rows={n_rows}: there cannot be more "
            "clusters than rows"
        )


class _Dataset:
    """The rows to cluster, in memory (a CSV, or a .npy for exact k-means) or streamed (a .npy
    with ``minibatch``), standardised when asked."""

    def __init__(self, table, *, scale, minibatch):
        from lloyd.minibatch import _ArrayRows

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
            self.rows = _ArrayRows(X)

    def fit(self, k, *, minibatch, init, n_init, algorithm, batch_size, random_state,
            progress=None):
        from lloyd.cluster import KMeans
        from lloyd.minibatch import MiniBatchKMeans

        if minibatch:
            est = MiniBatchKMeans(k, init=init, n_init=n_init, batch_size=batch_size,
                                  random_state=random_state, compute_labels=not self.streamed)
            return est._fit_rows(self.rows, None, progress)
        est = KMeans(k, init=init, n_init=n_init, algorithm=algorithm,
                     random_state=random_state, copy_x=False)
        if progress is not None:
            est._iteration_callback = lambda: progress(None)
        return est.fit(self.X)

    def inertia_and_sizes(self, est, sink=None, progress=None):
        """The inertia and cluster sizes of all rows; labels to ``sink`` when streamed."""
        k = len(est.cluster_centers_)
        if not self.streamed:
            return est.inertia_, np.bincount(est.labels_, minlength=k)
        from lloyd.minibatch import _labels_inertia

        centers = est.cluster_centers_
        inertia, sizes = 0.0, np.zeros(k, dtype=np.int64)
        for start, rows in self.rows.chunks():
            labels, chunk_inertia = _labels_inertia(rows, np.ones(len(rows), rows.dtype), centers)
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
    """Cluster the rows of a CSV or .npy file and write the outputs asked for.

    Parameters
    ----------
    data : str or path-like
        A CSV file, a .npy file, or ``'-'`` (CSV on standard input).
    n_clusters : int, default=8
    columns : sequence of str, default=None
        The columns to cluster (names or 1-based positions); None means all.
    scale : bool, default=False
        Standardise every column (mean 0, variance 1) before clustering; centres are written
        in the columns' own units.
    init, n_init, algorithm, random_state
        As for :class:`lloyd.KMeans` (``algorithm`` is ignored with ``minibatch``).
    minibatch : bool, default=False
        Fit :class:`lloyd.MiniBatchKMeans`; a .npy file is then streamed, never loaded whole.
    batch_size : int, default=1024
    labels_path : path-like, default=None
        ``.npy``: the labels (int32), written slice by slice. Otherwise CSV: for a CSV input
        its rows with a ``cluster`` column added, for a .npy input one ``cluster`` column.
    centers_path : path-like, default=None
        ``.npy``: an array (k, n_columns); otherwise a CSV with a header of column names.
    plot_path : path-like, default=None
        A figure of (a sample of) the rows by cluster; beyond two columns, the first two
        principal components. The format follows the extension (PNG, SVG, PDF...).
    force : bool, default=False
        Replace existing outputs; without it an existing output stops the command before any
        work (FileExistsError).
    progress : bool, default=False
        Show progress bars on standard error.
    stdin : text file, default=None
        For ``data='-'``, read this instead of ``sys.stdin``.

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
    table = open_table(data, columns=columns, stdin=stdin)
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
            sink = _LabelSink(tmp, labels_path, dataset.n_rows)
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
            _write_labels(table, est.labels_, labels_path, force=force)
        written.append(str(labels_path))

    centers = dataset.centers_in_units(est.cluster_centers_)
    if centers_path is not None:
        if _is_npy(centers_path):
            _write_npy(centers_path, centers, force=force)
        else:
            _write_table(centers_path, dataset.names, centers.tolist(), force=force)
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


def _write_labels(table, labels, path, *, force):
    """Labels of rows held in memory: .npy, or CSV (a CSV input's rows plus ``cluster``)."""
    if _is_npy(path):
        _write_npy(path, np.asarray(labels, dtype=np.int32), force=force)
    elif isinstance(table, CsvTable):
        header = None
        if table.header is not None:
            column = "cluster"
            while column in table.header:
                column = "_" + column
            header = [*table.header, column]
        rows = ([*fields, int(label)] for fields, label in zip(table.rows, labels))
        _write_table(path, header, rows, delimiter=table.delimiter, force=force)
    else:
        _write_table(path, ["cluster"], ([int(v)] for v in labels), force=force)


def _save_figure(fig, path, *, force):
    import matplotlib.pyplot as plt

    try:
        with atomic_output(path, force=force) as tmp:
            fig.savefig(tmp, format=Path(path).suffix[1:].lower() or "png", dpi=120)
    finally:
        plt.close(fig)


def _plot_clusters(dataset, est, path, *, force):
    from lloyd.minibatch import _labels_inertia
    from lloyd.plot import plot_clusters

    if len(dataset.names) < 2:
        raise TableError("--plot needs at least 2 columns to draw the rows in the plane")
    X = dataset.sample(PLOT_SAMPLE)
    centers = est.cluster_centers_.astype(X.dtype)
    labels, _ = _labels_inertia(X, np.ones(len(X), X.dtype), centers)
    suffix = " (standardised)" if dataset.scale else ""
    ax = plot_clusters(X, labels, centers,
                       feature_names=[n + suffix for n in dataset.names[:2]],
                       title=f"{dataset.n_rows:,} rows in {len(centers)} clusters"
                       + (f" (sample of {len(X):,})" if len(X) < dataset.n_rows else ""))
    _save_figure(ax.figure, path, force=force)


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
    from sklearn.metrics import silhouette_score

    from lloyd.minibatch import _labels_inertia

    check_outputs([plot_path], force=force)
    table = open_table(data, columns=columns, stdin=stdin)
    _check_k(max(k_values), table.n_rows)
    dataset = _Dataset(table, scale=scale, minibatch=minibatch)
    sample = dataset.sample(SILHOUETTE_SAMPLE)
    inertias, silhouettes, seconds = [], [], []
    bar = _Progress(progress, desc="K", total=len(k_values))
    try:
        for k in k_values:
            start = time.perf_counter()
            est = dataset.fit(k, minibatch=minibatch, init=init, n_init=n_init,
                              algorithm=algorithm, batch_size=batch_size,
                              random_state=random_state)
            inertia, _ = dataset.inertia_and_sizes(est)
            labels, _ = _labels_inertia(sample, np.ones(len(sample), sample.dtype),
                                        est.cluster_centers_.astype(sample.dtype))
            n_labels = len(np.unique(labels))
            silhouette = (float(silhouette_score(sample, labels))
                          if 2 <= n_labels < len(sample) else float("nan"))
            inertias.append(float(inertia))
            silhouettes.append(silhouette)
            seconds.append(time.perf_counter() - start)
            bar.update()
    finally:
        bar.close()
    outputs = []
    if plot_path is not None:
        from lloyd.plot import plot_inertia_by_k

        fig = plot_inertia_by_k(list(k_values), inertias, silhouettes)
        fig.suptitle(f"{getattr(table, 'name', data)}: {dataset.n_rows:,} rows")
        _save_figure(fig, plot_path, force=force)
        outputs.append(str(plot_path))
    return ElbowReport(
        data=getattr(table, "name", str(data)),
        n_rows=dataset.n_rows,
        method=_method(minibatch, getattr(est, "algorithm_", algorithm), init, n_init),
        k_values=list(k_values),
        inertias=inertias,
        silhouettes=silhouettes,
        seconds=seconds,
        silhouette_rows=len(sample),
        outputs=outputs,
    )
