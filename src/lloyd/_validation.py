"""Input validation shared by every public function of lloyd.

Validation happens once, at the boundary; private workers and kernels assume its guarantees.
"""

from __future__ import annotations

import numbers

import numpy as np

from lloyd._kernels.reductions import finite_max_abs


def check_random_state(seed):
    """A ``numpy.random.RandomState`` from ``seed``: None (numpy's global one), an int (a new one
    seeded with it) or a RandomState (itself), exactly as scikit-learn's ``check_random_state``
    turns them, so the same seed draws the same numbers."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, numbers.Integral):
        return np.random.RandomState(seed)
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(f"{seed!r} cannot be used to seed a numpy.random.RandomState instance")


def check_int(value, name, minimum, extra=""):
    """Raise a ValueError unless ``value`` is an int (not a bool) >= ``minimum`` (an estimator
    parameter; ``extra`` names what else it may be, e.g. "or 'auto'")."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"The '{name}' parameter must be an int >= {minimum}{' ' + extra if extra else ''}, "
            f"got {value!r}."
        )


def check_enough_rows(n_samples: int, n_clusters: int) -> None:
    """The estimators' rule, in scikit-learn's words: no more clusters than rows."""
    if n_samples < n_clusters:
        raise ValueError(
            f"n_samples={n_samples} should be >= n_clusters={n_clusters}: there cannot be more "
            "clusters than rows. Lower n_clusters."
        )


def check_weights(sample_weight, X):
    """Validated weights of X's dtype: finite, non-negative, not all zero, one per row.

    scikit-learn's checker rejects NaN, infinity, negative and all-zero weights."""
    from sklearn.utils.validation import _check_sample_weight

    n = X.shape[0]
    if sample_weight is None:
        return np.ones(n, dtype=X.dtype)
    weights = np.asarray(sample_weight)
    if weights.ndim == 1 and weights.shape[0] != n:
        raise ValueError(
            f"sample_weight has {weights.shape[0]} values but X has {n} rows; pass one weight "
            "per row."
        )
    weights = _check_sample_weight(
        sample_weight, X, dtype=X.dtype, ensure_non_negative=True, copy=False
    )
    return np.ascontiguousarray(weights)


def check_init_array(init, X, n_clusters, name="init"):
    """Initial centres as a new C-contiguous array of X's dtype, finite, of shape
    (n_clusters, X's n_features), or a clear ValueError."""
    from sklearn.utils import check_array

    init = check_array(init, dtype=X.dtype, copy=True, order="C", input_name=name,
                       ensure_all_finite=False)
    check_finite_scale(init, name=name)
    if init.shape[0] != n_clusters:
        raise ValueError(
            f"The shape of the initial centers {init.shape} does not match the number of "
            f"clusters n_clusters={n_clusters}."
        )
    if init.shape[1] != X.shape[1]:
        raise ValueError(
            f"The shape of the initial centers {init.shape} does not match the number of "
            f"features of the data {X.shape[1]}."
        )
    return init


def check_data(X, *, name: str = "X", dtype=(np.float64, np.float32), copy: bool = False,
               finite: bool = True):
    """Return X as a finite, C-contiguous 2-D float array, or raise a clear ValueError.

    ``dtype`` is the tuple of accepted float dtypes: an input already in one of them keeps it,
    anything else (integers, float16, booleans) is converted to the first. ``finite=False``
    leaves :func:`check_finite_scale` to a caller that reads X anyway. Plain numpy, as
    scikit-learn's ``check_array`` would do it for these arguments, so that the teaching steps
    and the demo never import scikit-learn (1.6 s).
    """
    if hasattr(X, "format") and hasattr(X, "tocsr"):
        raise TypeError(
            f"{name} is a sparse matrix; this function takes dense arrays only (lloyd.KMeans, "
            "MiniBatchKMeans, SphericalKMeans and kmeans_plusplus take sparse input). "
            f"Convert it with {name}.toarray() if it fits in memory."
        )
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got an array of "
            f"shape {arr.shape}. Reshape it, e.g. {name}.reshape(-1, 1) for a single feature."
        )
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} has complex values (dtype {arr.dtype}); k-means needs real data.")
    for axis, what in ((0, "sample(s)"), (1, "feature(s)")):
        if arr.shape[axis] < 1:
            raise ValueError(
                f"{name} has 0 {what} (shape {arr.shape}) while a minimum of 1 is required."
            )
    kept = arr.dtype if arr.dtype in dtype else np.dtype(dtype[0])
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(kept)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must hold numbers (dtype {arr.dtype}): {exc}.") from exc
    X = np.array(arr, dtype=kept, order="C", copy=True) if copy else \
        np.ascontiguousarray(arr, dtype=kept)
    return check_finite_scale(X, name=name) if finite else X




def check_finite_scale(X, *, name: str = "X", n_features=None):
    """Return X (a validated 2-D float array) if every value is finite and small enough that
    squared distances between its rows cannot overflow its dtype; else raise a ValueError.
    ``n_features``, when given, is the width of the rows X's values belong to (a sparse
    matrix's stored values, passed as one row).

    Squared distances are at most ``4·d·max|x|²`` (centres are averages of rows), so values
    up to ``√(max / 4d)`` are safe: about 10¹⁵³ in float64 and 10¹⁸ in float32 at d = 10.
    Beyond, distances would be +inf and every label the same, silently.
    """
    if X.size == 0:
        return X
    if X.flags.c_contiguous and X.dtype in (np.float32, np.float64) and X.ndim == 2:
        finite, largest = finite_max_abs(X)  # one compiled pass for both checks
    else:
        finite = bool(np.isfinite(X).all())
        largest = float(np.max(np.abs(X))) if finite else np.inf
    if not finite:
        kind = "NaN" if np.isnan(X).any() else "infinity"
        fix = ("drop or impute the missing values first (e.g. sklearn.impute.SimpleImputer)"
               if kind == "NaN" else "drop those rows or clip the values first")
        raise ValueError(f"Input {name} contains {kind}: k-means needs a finite number in every "
                         f"cell; {fix}.")
    n_features = X.shape[1] if n_features is None else n_features
    limit = overflow_limit(X, n_features)
    if largest > limit:
        also = " or pass it as float64" if X.dtype == np.float32 else ""
        raise ValueError(
            f"Input {name} has values as large as {largest:.3g}: squared distances between "
            f"rows of {n_features} features could overflow {X.dtype} (safe up to {limit:.3g}). "
            f"Rescale {name}, e.g. divide it by {largest:.3g}{also}."
        )
    return X


def check_magnitude_bits(X, bits, *, name: str = "X"):
    """Raise :func:`check_finite_scale`'s error for validated X (C-contiguous float32 or
    float64), given ``bits``, the largest of its values' bit patterns with the sign cleared
    (``reductions.column_moments``'s ``magnitude``, from a pass over X made anyway): a NaN or
    an infinity shows as a pattern at or above +∞'s, and otherwise the pattern is max |x|'s.
    X is read again only to word the error."""
    bits = int(bits)
    uint = np.uint32 if X.dtype == np.float32 else np.uint64
    if bits < int(np.array(np.inf, dtype=X.dtype).view(uint)):
        largest = float(np.array(bits, dtype=uint).view(X.dtype))
        if largest <= overflow_limit(X):
            return
    check_finite_scale(X, name=name)


def overflow_limit(X, n_features=None) -> float:
    """The largest magnitude X's values may have for k-means in X's dtype (see
    :func:`check_finite_scale`), for rows of ``n_features`` values (None: X's width)."""
    n_features = X.shape[1] if n_features is None else n_features
    return float(np.sqrt(np.finfo(X.dtype).max / (4.0 * n_features)))


def check_n_clusters(K, n_samples: int, *, name: str = "K") -> int:
    """Return K as an int in [1, n_samples], or raise a ValueError naming the rule broken."""
    if isinstance(K, bool) or not isinstance(K, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 1, got {K!r} of type {type(K).__name__}.")
    K = int(K)
    if K < 1:
        raise ValueError(f"{name}={K} must be >= 1.")
    if K > n_samples:
        raise ValueError(too_many_clusters(name, K, "n_samples", n_samples))
    return K


def too_many_clusters(k_name: str, k: int, rows_name: str, n_rows: int) -> str:
    """The message for more clusters than rows, in lloyd's words (the estimators keep
    scikit-learn's, :func:`check_enough_rows`, which its own tests match)."""
    return (f"{k_name}={k} must be <= {rows_name}={n_rows}: there cannot be more clusters than "
            "rows. Use fewer clusters or more data.")


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


#: Runs n_init='auto' makes from random starts, as scikit-learn's KMeans (MiniBatchKMeans: 3).
KMEANS_N_INIT_RANDOM = 10


def resolve_n_init(init, n_init, n_init_random: int) -> int:
    """The number of runs ``n_init`` asks for: 'auto' is 1 for a k-means++ or AFK-MC² start or
    an array, ``n_init_random`` for random starts (scikit-learn's rule); a number is itself."""
    if n_init != "auto":
        return int(n_init)
    init_is_array = not isinstance(init, str) and not callable(init)
    return 1 if init_is_array or init in ("k-means++", "afk-mc2") else n_init_random
