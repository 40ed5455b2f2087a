"""What the explorer's buttons do: lloyd's own functions, called on validated input.

The page draws what these return; no number on screen is computed in the browser.
"""

from __future__ import annotations

import io
import warnings
from functools import lru_cache

import numpy as np

from lloyd.explore.shapes import load_shape

__all__ = ["assign", "elbow", "kmeanspp_steps", "move", "point_distances", "quantize_image",
           "shape_points"]

#: Colours of the image drawn in the 3-D colour cloud.
CLOUD_POINTS = 4000
#: Rows whose silhouette is averaged (its cost grows as rows²).
SILHOUETTE_SAMPLE = 2000


@lru_cache(maxsize=64)
def shape_points(name: str, n_samples: int, random_state: int) -> np.ndarray:
    """A built-in data set, computed once and shared read-only."""
    X = load_shape(name, n_samples, random_state=random_state)
    X.setflags(write=False)
    return X


def assign(X, centroids) -> dict:
    """The assignment half-step: labels and the distortion J they give."""
    from lloyd.steps import compute_distortion, find_closest_centroids

    labels = find_closest_centroids(X, centroids)
    return {"labels": labels.tolist(),
            "distortion": compute_distortion(X, labels, centroids),
            "sizes": np.bincount(labels, minlength=len(centroids)).tolist()}


def move(X, labels, centroids) -> dict:
    """The update half-step: each centroid to its points' mean (an empty one stays put)."""
    from lloyd.steps import compute_centroids, compute_distortion

    labels = np.asarray(labels, dtype=np.intp)
    k = len(centroids)
    moved = compute_centroids(X, labels, k, previous_centroids=centroids)
    empty = np.flatnonzero(np.bincount(labels, minlength=k) == 0)
    return {"centroids": moved.tolist(), "distortion": compute_distortion(X, labels, moved),
            "empty": empty.tolist()}


def distortion(X, labels, centroids) -> dict:
    from lloyd.steps import compute_distortion

    return {"distortion": compute_distortion(X, np.asarray(labels, dtype=np.intp), centroids)}


def point_distances(X, row: int, centroids) -> dict:
    """Distances from one row to every centroid, and the winner as the assignment step sees it."""
    from lloyd.steps import find_closest_centroids

    centroids = np.asarray(centroids, dtype=np.float64)
    diff = centroids - X[row]
    squared = np.einsum("ij,ij->i", diff, diff)
    closest = int(find_closest_centroids(X[row:row + 1], centroids)[0])
    return {"row": row, "point": X[row].tolist(), "squared": squared.tolist(),
            "distances": np.sqrt(squared).tolist(), "closest": closest}


def random_rows(X, n_clusters: int, random_state: int) -> dict:
    from lloyd.steps import kmeans_init_centroids

    return {"centroids": kmeans_init_centroids(X, n_clusters, random_state=random_state).tolist()}


def kmeanspp_steps(X, n_clusters: int, random_state: int) -> dict:
    """k-means++ seeds (one candidate a step: the textbook draw) and, before every draw, each
    row's probability of being drawn: 1/m for the first seed, D²/ΣD² after."""
    from lloyd.seeding import kmeans_plusplus
    from lloyd.steps import find_closest_centroids

    centers, indices = kmeans_plusplus(X, n_clusters, random_state=random_state,
                                       n_local_trials=1)
    steps = []
    for j in range(n_clusters):
        if j == 0:
            probabilities = np.full(len(X), 1.0 / len(X))
        else:
            nearest = find_closest_centroids(X, centers[:j])
            diff = X - centers[nearest]
            d2 = np.einsum("ij,ij->i", diff, diff)
            probabilities = d2 / d2.sum()
        steps.append({"probabilities": probabilities.tolist(), "chosen": int(indices[j])})
    return {"centroids": centers.tolist(), "indices": indices.tolist(), "steps": steps}


def elbow(X, k_max: int, random_state: int, job) -> dict:
    """lloyd.KMeans for K = 1..k_max: inertia, J = inertia / m and the mean silhouette."""
    from sklearn.metrics import silhouette_score

    from lloyd.cluster import KMeans

    rows = []
    sample = min(len(X), SILHOUETTE_SAMPLE)
    for k in range(1, k_max + 1):
        job.checkpoint(f"fitting K = {k} of {k_max} (lloyd.KMeans)", (k - 1) / k_max)
        model = KMeans(n_clusters=k, n_init=4, random_state=random_state).fit(X)
        n_found = np.unique(model.labels_).size
        silhouette = None
        if 2 <= n_found < len(X):
            silhouette = float(silhouette_score(X, model.labels_, sample_size=sample,
                                                random_state=random_state))
        rows.append({"k": k, "inertia": float(model.inertia_),
                     "distortion": float(model.inertia_) / len(X), "silhouette": silhouette,
                     "n_iter": int(model.n_iter_)})
    return {"rows": rows, "silhouette_sample": sample, "n_rows": len(X)}


def quantize_image(path, n_colors: int, color_space: str, dither: float, random_state: int,
                   job) -> dict:
    """lloyd.quantize on the file, as ``lloyd compress`` runs it, plus what the page shows."""
    from PIL import Image

    from lloyd.image import quantize

    job.checkpoint(f"fitting {n_colors} colours (lloyd.quantize)", 0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = quantize(path, n_colors, color_space=color_space, dither=dither,
                          random_state=random_state)
    notes = [str(w.message) for w in caught]
    job.checkpoint("measuring PSNR and ΔE2000", 0.7)
    report = result.report
    job.checkpoint("drawing the previews", 0.85)
    png = result.to_png()
    original = io.BytesIO()
    # A preview only, at the fastest compression: the download is the compressed PNG.
    Image.fromarray(result.original).save(original, format="PNG", compress_level=1)
    counts = np.bincount(result.indices.ravel(), minlength=len(result.palette))
    rng = np.random.default_rng(0)
    flat = result.original.reshape(-1, result.original.shape[-1])
    picks = rng.choice(len(flat), size=min(CLOUD_POINTS, len(flat)), replace=False)
    return {
        "png": png,
        "original_png": original.getvalue(),
        "summary": {
            "report": report.as_dict(),
            "palette": result.palette[:, :3].tolist(),
            "alpha": result.palette[:, 3].tolist() if result.palette.shape[1] == 4 else None,
            "counts": counts.tolist(),
            "cloud": {"colors": flat[picks, :3].tolist(),
                      "entries": result.indices.ravel()[picks].tolist()},
            "notes": notes,
            "options": {"n_colors": n_colors, "color_space": color_space, "dither": dither,
                        "random_state": random_state},
        },
    }


class _NoJob:
    """A job stand-in for the warm-up: never cancelled."""

    def checkpoint(self, stage, progress):
        pass


def warm_up() -> None:
    """Compile (or load from numba's cache) every kernel the buttons use, once, in the
    background at start-up, so the first click does not wait for the compiler."""
    from lloyd.image import quantize

    X = shape_points("sample", 300, 0)
    labels = assign(X, X[:3].tolist())["labels"]
    move(X, labels, X[:3].tolist())
    kmeanspp_steps(X, 3, 0)
    elbow(X[:60], 2, 0, _NoJob())
    rng = np.random.default_rng(0)
    quantize(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), 4, random_state=0)
