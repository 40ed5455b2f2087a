"""The rows of a table for ``lloyd cluster``: its error, its column and value checks, and the
.npy file read a piece at a time (:class:`NpyRows`), which also serves Arrow tables spooled to disk.

A .npy file is read a slice or a batch at a time (memory-map slices for passes, positioned
reads for the scattered rows of a batch), so a mini-batch fit holds a batch, a slice and the
labels being written, never the whole array.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lloyd._engine import tolerance_from_variances
from lloyd._kernels.layout import n_blocks
from lloyd._kernels.reductions import column_moments, finite_max_abs

#: A streamed pass reads slices of about this many bytes.
CHUNK_BYTES = 16 * 2**20
#: Scattered rows read through one memory map at a time, where positioned reads are not
#: available (Windows, Fortran-ordered files).
_MAPPED_ROWS = 64


class TableError(ValueError):
    """The input cannot be clustered as asked; the message says where and why."""


def check_magnitude(X, name, largest=None):
    """Raise a TableError when X's values are so large that squared distances overflow
    (``largest``: X's largest absolute value, when the caller measured it)."""
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


def column_index(column, names, source):
    column = str(column).strip()
    if column in names:
        return names.index(column)
    if column.isdigit() and 1 <= int(column) <= len(names):
        return int(column) - 1
    raise TableError(
        f"{source} has no column {column!r}; its columns are {', '.join(names)} "
        f"(names or positions 1 to {len(names)})"
    )


def check_finite(rows, name, start=0):
    """Raise a TableError naming the first row of ``rows`` (``start`` is the first's number,
    from 0) that holds NaN or infinity, or when the values are too large
    (:func:`check_magnitude`)."""

    if rows.size == 0:
        return
    finite, largest = finite_max_abs(rows)  # one pass for both checks
    if not finite:
        bad = int(np.argmin(np.isfinite(rows).all(axis=1)))
        raise TableError(
            f"{name}, row {start + bad + 1}: a value is NaN or infinite; k-means needs finite "
            "numbers"
        )
    check_magnitude(rows, name, largest)


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
                         else [column_index(c, all_names, self.name) for c in columns])
        chosen = range(width) if self._columns is None else self._columns
        self.names = [all_names[j] for j in chosen]
        self.shape = (n_rows, len(self.names))
        self.dtype = (self._file_dtype if self._file_dtype in (np.float32, np.float64)
                      else np.dtype(np.float64))
        self.scaler = None

    @classmethod
    def _from_raw(cls, path, *, name, dtype, shape, names):
        """Rows ``shape`` of ``dtype`` in C order, headerless, in the file ``path`` (a spool
        written by :mod:`lloyd._readers`); ``name`` is what messages call them."""
        rows = cls.__new__(cls)
        rows.path, rows.name = Path(path), name
        rows._file_dtype, rows._file_shape = np.dtype(dtype), tuple(shape)
        rows._order, rows._offset, rows._row_width = "C", 0, shape[1]
        rows._columns, rows.names = None, list(names)
        rows.shape, rows.dtype, rows.scaler = tuple(shape), np.dtype(dtype), None
        return rows

    @property
    def n_rows(self):
        return self.shape[0]

    def close(self):
        """Nothing to release: every read opens and closes the file."""

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
        holds NaN or infinity, or whose values are too large (:func:`check_finite`)."""
        check_finite(rows, self.name, start)

    def tolerance(self, tol):
        """``tol`` times the mean variance of the features (one pass), by the engine's rule.

        Each slice's means and squared deviations come from the compiled moments and are
        merged by Chan et al.'s pairwise rule (exact in exact arithmetic, and as stable as
        the two-pass sums within a slice)."""
        if tol == 0:
            return 0.0
        count, mean, squares = 0, np.zeros(self.shape[1]), np.zeros(self.shape[1])
        for _, rows in self.chunks():
            m = len(rows)
            rows_mean, rows_squares = column_moments(rows, n_blocks(m, 1, rows.shape[1]), True)
            delta = rows_mean - mean
            total = count + m
            mean += delta * (m / total)
            squares += rows_squares + delta**2 * (count * m / total)
            count = total
        return tolerance_from_variances(squares / count, tol)

    def load(self):
        """All the rows in one array (read slice by slice: no second copy)."""
        X = np.empty(self.shape, dtype=self.dtype)
        for start, rows in self.chunks():
            X[start:start + len(rows)] = rows
        return X
