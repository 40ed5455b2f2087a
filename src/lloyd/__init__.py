"""lloyd: k-means clustering as it is taught, as fast as it can run, and as an image compressor.

Names are loaded on first use, so ``import lloyd`` is quick and compiles nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0.dev0"

# public name -> module that defines it
_EXPORTS = {
    "find_closest_centroids": "lloyd.steps",
    "compute_centroids": "lloyd.steps",
    "compute_distortion": "lloyd.steps",
    "kmeans_init_centroids": "lloyd.steps",
    "run_kmeans": "lloyd.steps",
    "KMeansHistory": "lloyd.steps",
    "KMeans": "lloyd.cluster",
    "MiniBatchKMeans": "lloyd.minibatch",
    "kmeans_plusplus": "lloyd.seeding",
    "load_sample_2d": "lloyd.datasets",
    "load_sample_image": "lloyd.datasets",
    "sample_image_path": "lloyd.datasets",
}

__all__ = [  # noqa: RUF022 - grouped by face, as the docs present them
    # the algorithm as taught
    "find_closest_centroids",
    "compute_centroids",
    "compute_distortion",
    "kmeans_init_centroids",
    "run_kmeans",
    "KMeansHistory",
    # the engine
    "KMeans",
    "MiniBatchKMeans",
    "kmeans_plusplus",
    # data
    "load_sample_2d",
    "load_sample_image",
    "sample_image_path",
    "__version__",
]

if TYPE_CHECKING:  # pragma: no cover
    from lloyd.cluster import KMeans
    from lloyd.datasets import load_sample_2d, load_sample_image, sample_image_path
    from lloyd.minibatch import MiniBatchKMeans
    from lloyd.seeding import kmeans_plusplus
    from lloyd.steps import (
        KMeansHistory,
        compute_centroids,
        compute_distortion,
        find_closest_centroids,
        kmeans_init_centroids,
        run_kmeans,
    )


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lloyd' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
