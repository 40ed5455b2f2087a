"""The row source: what mini-batch k-means reads its rows from, in memory or streamed from disk.

A :class:`RowSource` is named here once (as faiss's ``DatasetAssign``); arrays in memory are
:class:`ArrayRows`, ``.npy`` files streamed slice by slice are ``lloyd.tables.NpyRows``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np

from lloyd._engine import tolerance


@runtime_checkable
class RowSource(Protocol):
    """Validated rows (finite, float32 or float64) that can be read by index or in order."""

    #: (n_samples, n_features)
    shape: tuple[int, int]
    #: float32 or float64
    dtype: np.dtype

    def take(self, indices) -> np.ndarray:
        """Rows ``indices`` (sorted reads are the fastest) as a new C-contiguous array."""

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """(first row number, rows) pieces covering every row, in order."""

    def tolerance(self, tol: float) -> float:
        """``tol`` times the mean variance of the features (``_engine.tolerance``)."""


class ArrayRows:
    """The row source of an array in memory."""

    def __init__(self, X):
        self.X = X
        self.shape = X.shape
        self.dtype = X.dtype

    def take(self, indices):
        """Rows ``indices`` as a new C-contiguous array."""
        return self.X[indices]

    def chunks(self):
        """(first row, rows) pieces covering X in order: here, all of it at once."""
        yield 0, self.X

    def tolerance(self, tol):
        """``tol`` times the mean variance of the features."""
        return tolerance(self.X, tol)
