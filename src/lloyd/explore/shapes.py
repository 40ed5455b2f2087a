"""The explorer's data: the lab's sample, the shapes where k-means struggles, uploaded CSVs.

Every shape is a seeded numpy draw, so "Copy as Python" reproduces the very points on screen.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["SHAPES", "CsvTable", "TableError", "load_shape", "read_csv_columns"]


@dataclass(frozen=True)
class Shape:
    """A built-in data set: its title and what it teaches."""

    title: str
    lesson: str
    n_clusters: int


#: name -> what the page says about it; "sample" is lloyd.load_sample_2d, the lab's data.
SHAPES: dict[str, Shape] = {
    "sample": Shape("The lab's sample",
                    "Three round blobs of similar size: k-means' home ground. Start from "
                    "[[3, 3], [6, 2], [8, 5]] to follow the lab.", 3),
    "blobs": Shape("Separated blobs",
                   "Five round, equal blobs: k-means finds them from most starts, but a bad "
                   "start can still merge two and split another.", 5),
    "aniso": Shape("Stretched blobs",
                   "Three blobs sheared into long ellipses. k-means only draws straight "
                   "borders halfway between centroids and prefers round clusters of equal "
                   "spread, so it cuts the ellipses across.", 3),
    "unequal": Shape("Unequal spreads",
                     "One tight blob beside two wide ones. The border sits halfway between "
                     "centroids whatever the spreads, so the wide blobs lose points to the "
                     "tight one's neighbours and vice versa.", 3),
    "rings": Shape("Rings",
                   "A ring around a disc. No placement of two centroids separates them: "
                   "every Voronoi cell is convex, and a ring is not.", 2),
    "moons": Shape("Moons",
                   "Two interlocking half-moons. The best convex split cuts both moons; "
                   "k-means measures distance to a centre, not connectedness.", 2),
}

#: Rows a built-in shape may have (the page draws every point).
MAX_SHAPE_ROWS = 20_000


def load_shape(name: str = "sample", n_samples: int = 300, *,
               random_state: int = 0) -> np.ndarray:
    """The points of one of the explorer's data sets, shape (n_samples, 2), float64.

    Parameters
    ----------
    name : {'sample', 'blobs', 'aniso', 'unequal', 'rings', 'moons'}, default='sample'
        'sample' is :func:`lloyd.load_sample_2d`, the lab's data; the others are seeded draws.
    n_samples : int, default=300
        Between 3 and 20 000.
    random_state : int, default=0
        The seed: the same seed gives the same points.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)

    Examples
    --------
    >>> load_shape("rings", 200).shape
    (200, 2)
    """
    if name not in SHAPES:
        raise ValueError(f"name={name!r} is not a data set; choose one of {list(SHAPES)}.")
    if (isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer))
            or not 3 <= n_samples <= MAX_SHAPE_ROWS):
        raise ValueError(f"n_samples must be an integer in [3, {MAX_SHAPE_ROWS}], "
                         f"got {n_samples!r}.")
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) \
            or not 0 <= random_state < 2**32:
        raise ValueError(f"random_state must be an integer in [0, 2**32), got {random_state!r}.")
    if name == "sample":
        from lloyd.datasets import load_sample_2d

        return load_sample_2d(int(n_samples), random_state=int(random_state))[0]
    rng = np.random.default_rng(random_state)
    return _DRAW[name](rng, int(n_samples))


def _split(n: int, k: int) -> np.ndarray:
    """Cluster of every row: ``n`` rows as evenly as possible over ``k`` clusters, in order."""
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    return np.repeat(np.arange(k), sizes)


def _blobs(rng, n):
    centers = np.array([[-6.0, -4.0], [0.0, 6.0], [6.0, -2.0], [-5.0, 5.0], [2.0, -7.0]])
    y = _split(n, len(centers))
    return centers[y] + rng.standard_normal((n, 2)) * 1.1


def _aniso(rng, n):
    centers = np.array([[-4.0, 2.0], [0.0, 0.0], [4.0, -2.0]])
    y = _split(n, 3)
    points = centers[y] + rng.standard_normal((n, 2)) * np.array([3.0, 0.35])
    shear = np.array([[0.6, -0.64], [-0.41, 0.85]])  # scikit-learn's anisotropic example
    return points @ shear


def _unequal(rng, n):
    centers = np.array([[-5.0, 0.0], [0.0, 0.0], [3.5, 0.0]])
    spreads = np.array([2.0, 0.35, 1.6])
    y = _split(n, 3)
    return centers[y] + rng.standard_normal((n, 2)) * spreads[y, None]


def _rings(rng, n):
    y = _split(n, 2)
    radius = np.where(y == 0, 1.0, 4.0) + rng.standard_normal(n) * np.where(y == 0, 0.45, 0.3)
    angle = rng.uniform(0.0, 2 * math.pi, n)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def _moons(rng, n):
    y = _split(n, 2)
    t = rng.uniform(0.0, math.pi, n)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    points = np.where(y[:, None] == 0, upper, lower)
    return points + rng.standard_normal((n, 2)) * 0.08


_DRAW = {"blobs": _blobs, "aniso": _aniso, "unequal": _unequal, "rings": _rings,
         "moons": _moons}


class TableError(ValueError):
    """An uploaded table cannot be clustered: not CSV, too many rows, no numeric columns."""


@dataclass(frozen=True)
class CsvTable:
    """The numeric columns of a CSV file.

    Attributes
    ----------
    columns : dict of str to ndarray of shape (n_rows,)
        Every column whose cells all read as finite numbers, in file order.
    n_rows : int
    skipped : list of str
        The columns left out, because some cell is not a finite number.
    """

    columns: dict
    n_rows: int
    skipped: list


def read_csv_columns(data: bytes, *, max_rows: int = MAX_SHAPE_ROWS) -> CsvTable:
    """Parse CSV bytes (UTF-8, header line, delimiter sniffed) into its numeric columns.

    Each cell is read with ``float()``, exactly as the "Copy as Python" snippet reads it.
    Raises :class:`TableError` naming the problem.

    Examples
    --------
    >>> table = read_csv_columns(b"x,y,name\\n1,2,a\\n3,4.5,b\\n")
    >>> list(table.columns), table.columns["y"].tolist(), table.skipped
    (['x', 'y'], [2.0, 4.5], ['name'])
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(f"the file is not UTF-8 text (byte {exc.start}); save it as UTF-8 "
                         "CSV") from None
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(rows)
    except StopIteration:
        raise TableError("the file is empty; it needs a header line and rows") from None
    except csv.Error as exc:
        raise TableError(f"not a CSV file: {exc}") from None
    header = [name.strip() or f"column {i + 1}" for i, name in enumerate(header)]
    if len(set(header)) < len(header):
        raise TableError(f"the header names a column twice: {header}")
    cells: list[list[str]] = []
    try:
        for line, row in enumerate(rows, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise TableError(f"line {line} has {len(row)} cells, the header {len(header)}")
            if len(cells) == max_rows:
                raise TableError(f"more than {max_rows:,} rows: the explorer draws every "
                                 "point; sample the table first")
            cells.append(row)
    except csv.Error as exc:
        raise TableError(f"not a CSV file: {exc}") from None
    if len(cells) < 2:
        raise TableError(f"the table has {len(cells)} data rows; k-means needs at least 2")
    columns, skipped = {}, []
    for j, name in enumerate(header):
        try:
            values = np.array([float(row[j]) for row in cells])
        except ValueError:
            skipped.append(name)
            continue
        if np.isfinite(values).all():
            columns[name] = values
        else:
            skipped.append(name)
    if len(columns) < 1:
        raise TableError(f"no column holds only finite numbers (columns: {header})")
    return CsvTable(columns=columns, n_rows=len(cells), skipped=skipped)
