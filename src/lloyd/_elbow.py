"""Inertia and silhouette against the number of clusters K: the numbers behind every elbow.

:func:`lloyd.plot.plot_elbow` (an array in memory) and ``lloyd cluster --elbow`` (a table on
disk, :func:`lloyd.tables.elbow_file`) both measure here; :mod:`lloyd.plot` draws the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from lloyd._engine import labels_inertia


@dataclass
class ByK:
    """One entry per K, in the order fitted: the inertia, the silhouette score (NaN where it is
    undefined or was not asked for) and the seconds the fit and its scores took."""

    k_values: list
    inertias: list
    silhouettes: list
    seconds: list


def inertia_by_k(fit, k_values, *, silhouette_rows=None, progress=None) -> ByK:
    """Fit every K in ``k_values``, in order, and measure each fit.

    Parameters
    ----------
    fit : callable
        ``fit(k) -> (inertia, centers)``: one clustering into ``k`` clusters, its inertia and
        its centres of shape (k, n_features). Called once per K, in the order of ``k_values``
        (so a fit that draws seeds from one generator stays repeatable).
    k_values : sequence of int
    silhouette_rows : ndarray of shape (n_rows, n_features), default=None
        Rows labelled by their closest centre and scored with scikit-learn's
        ``silhouette_score``, the same rows for every K. The score is NaN where it is undefined
        (fewer than 2, or as many labels as rows) and when no rows are given.
    progress : callable, default=None
        Called with no argument after each K.

    Returns
    -------
    ByK
    """
    by_k = ByK(list(k_values), [], [], [])
    for k in by_k.k_values:
        start = time.perf_counter()
        inertia, centers = fit(k)
        by_k.inertias.append(float(inertia))
        by_k.silhouettes.append(_silhouette(silhouette_rows, centers))
        by_k.seconds.append(time.perf_counter() - start)
        if progress is not None:
            progress()
    return by_k


def _silhouette(rows, centers):
    if rows is None:
        return float("nan")
    from sklearn.metrics import silhouette_score

    labels, _ = labels_inertia(rows, np.ones(len(rows), rows.dtype),
                               np.asarray(centers).astype(rows.dtype))
    if not 2 <= len(np.unique(labels)) < len(rows):
        return float("nan")
    return float(silhouette_score(rows, labels))
