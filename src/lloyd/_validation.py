"""Input validation shared by every public function of lloyd.

Validation happens once, at the boundary; private workers and kernels assume its guarantees.
"""

from __future__ import annotations

import numbers

import numpy as np


def check_data(X, *, name: str = "X", dtype=(np.float64, np.float32), copy: bool = False,
               finite: bool = True):
    """Return X as a finite, C-contiguous 2-D float array, or raise a clear ValueError.

    ``dtype`` is the tuple of accepted float dtypes: an input already in one of them keeps it,
    anything else (integers, float16, booleans) is converted to the first. ``finite=False``
    leaves :func:`check_finite_scale` to a caller that reads X anyway.
    """
    from sklearn.utils.validation import check_array

    if hasattr(X, "format") and hasattr(X, "tocsr"):
        raise TypeError(
            f"{name} is a sparse matrix; lloyd does not support sparse input yet. "
            f"Convert it with {name}.toarray() if it fits in memory."
        )
    if isinstance(X, np.ndarray) and X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got an array of "
            f"shape {X.shape}. Reshape it, e.g. {name}.reshape(-1, 1) for a single feature."
        )
    arr = np.asarray(X) if not hasattr(X, "__array__") else X
    kind = getattr(getattr(arr, "dtype", None), "kind", None)
    if kind == "c":
        raise ValueError(f"{name} has complex values (dtype {arr.dtype}); k-means needs real data.")
    X = check_array(
        X,
        dtype=list(dtype),
        order="C",
        copy=copy,
        ensure_all_finite=False,  # check_finite_scale's one pass checks this and the scale
        ensure_2d=True,
        ensure_min_samples=1,
        ensure_min_features=1,
        input_name=name,
    )
    return check_finite_scale(X, name=name) if finite else X


def check_finite_scale(X, *, name: str = "X"):
    """Return X (a validated 2-D float array) if every value is finite and small enough that
    squared distances between its rows cannot overflow its dtype; else raise a ValueError.

    Squared distances are at most ``4·d·max|x|²`` (centres are averages of rows), so values
    up to ``√(max / 4d)`` are safe: about 10¹⁵³ in float64 and 10¹⁸ in float32 at d = 10.
    Beyond, distances would be +inf and every label the same, silently.
    """
    from lloyd._kernels.common import finite_max_abs

    if X.size == 0:
        return X
    finite, largest = finite_max_abs(X)
    if not finite:
        kind = "NaN" if np.isnan(X).any() else "infinity"
        fix = ("drop or impute the missing values first (e.g. sklearn.impute.SimpleImputer)"
               if kind == "NaN" else "drop those rows or clip the values first")
        raise ValueError(f"Input {name} contains {kind}: k-means needs a finite number in every "
                         f"cell; {fix}.")
    limit = overflow_limit(X)
    if largest > limit:
        also = " or pass it as float64" if X.dtype == np.float32 else ""
        raise ValueError(
            f"Input {name} has values as large as {largest:.3g}: squared distances between "
            f"rows of {X.shape[1]} features could overflow {X.dtype} (safe up to {limit:.3g}). "
            f"Rescale {name}, e.g. divide it by {largest:.3g}{also}."
        )
    return X


def overflow_limit(X) -> float:
    """The largest magnitude X's values may have for k-means in X's dtype (see
    :func:`check_finite_scale`)."""
    return float(np.sqrt(np.finfo(X.dtype).max / (4.0 * X.shape[1])))


def check_n_clusters(K, n_samples: int, *, name: str = "K") -> int:
    """Return K as an int in [1, n_samples], or raise a ValueError naming the rule broken."""
    if isinstance(K, bool) or not isinstance(K, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 1, got {K!r} of type {type(K).__name__}.")
    K = int(K)
    if K < 1:
        raise ValueError(f"{name}={K} must be >= 1.")
    if K > n_samples:
        raise ValueError(
            f"{name}={K} must be <= n_samples={n_samples}: there cannot be more clusters than "
            "points. Use fewer clusters or more data."
        )
    return K


def check_centroids(centroids, n_features: int, *, name: str = "centroids", n_clusters=None):
    """Return centroids as a finite float64 (K, n_features) array, or raise a clear ValueError."""
    centroids = check_data(centroids, name=name, dtype=(np.float64,))
    if centroids.shape[1] != n_features:
        raise ValueError(
            f"{name} has {centroids.shape[1]} columns but X has {n_features} features; "
            f"each centroid must be a point in the same space as X."
        )
    if n_clusters is not None and centroids.shape[0] != n_clusters:
        raise ValueError(
            f"{name} has {centroids.shape[0]} rows but n_clusters={n_clusters}; pass one row per "
            "cluster."
        )
    return centroids


def check_labels(idx, n_samples: int, K: int, *, name: str = "idx"):
    """Return idx as an intp array of shape (n_samples,) with values in [0, K)."""
    idx = np.asarray(idx)
    if idx.ndim != 1 or idx.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have shape ({n_samples},), one label per row of X, got shape {idx.shape}."
        )
    if idx.size and idx.dtype.kind not in "iu":
        if idx.dtype.kind == "f" and np.all(np.isfinite(idx)) and np.all(idx == np.round(idx)):
            idx = idx.astype(np.intp)
        else:
            raise ValueError(f"{name} must hold integer cluster indices, got dtype {idx.dtype}.")
    idx = idx.astype(np.intp, copy=False)
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= K:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{name} values must lie in [0, K) = [0, {K}), found {bad}.")
    return idx
