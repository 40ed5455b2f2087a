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
    "SphericalKMeans": "lloyd.spherical",
    "kmeans_plusplus": "lloyd.seeding",
    "k_means": "lloyd.cluster",
    "afkmc2": "lloyd.seeding",
    "load_sample_2d": "lloyd.datasets",
    "load_sample_image": "lloyd.datasets",
    "sample_image_path": "lloyd.datasets",
    "quantize": "lloyd.image",
    "compress": "lloyd.image",
    "QuantizedImage": "lloyd.image",
    "QuantizeReport": "lloyd.image",
    "QualityTooLowError": "lloyd.image",
}

#: submodules reachable as attributes (``lloyd.plot.plot_progress``) and imported on first use;
#: lloyd.plot itself imports matplotlib only inside its functions.
_SUBMODULES = ("plot",)

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
    "SphericalKMeans",
    "k_means",
    "kmeans_plusplus",
    "afkmc2",
    # data
    "load_sample_2d",
    "load_sample_image",
    "sample_image_path",
    # the image compressor
    "quantize",
    "compress",
    "QuantizedImage",
    "QuantizeReport",
    "QualityTooLowError",
    "__version__",
]

if TYPE_CHECKING:  # pragma: no cover
    from lloyd import plot
    from lloyd.cluster import KMeans, k_means
    from lloyd.datasets import load_sample_2d, load_sample_image, sample_image_path
    from lloyd.image import (
        QualityTooLowError,
        QuantizedImage,
        QuantizeReport,
        compress,
        quantize,
    )
    from lloyd.minibatch import MiniBatchKMeans
    from lloyd.seeding import afkmc2, kmeans_plusplus
    from lloyd.spherical import SphericalKMeans
    from lloyd.steps import (
        KMeansHistory,
        compute_centroids,
        compute_distortion,
        find_closest_centroids,
        kmeans_init_centroids,
        run_kmeans,
    )


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"lloyd.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lloyd' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
