"""Sample data for lessons and demos: a seeded 2-D set and real photographs.

Nothing is downloaded: the photographs are read from files that installed packages already ship.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["SAMPLE_IMAGES", "load_sample_2d", "load_sample_image", "sample_image_path"]

#: The three blob centres and spreads of the 2-D teaching set.
_CENTERS_2D = np.array([[2.0, 5.0], [3.0, 1.0], [6.0, 3.0]])
_SPREADS_2D = np.array([0.55, 0.65, 0.75])

#: name -> (package that ships it, path inside that package)
SAMPLE_IMAGES: dict[str, tuple[str, str]] = {
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
    "astronaut": ("skimage", "data/astronaut.png"),
    "chelsea": ("skimage", "data/chelsea.png"),
    "coffee": ("skimage", "data/coffee.png"),
    "rocket": ("skimage", "data/rocket.jpg"),
    "hubble_deep_field": ("skimage", "data/hubble_deep_field.jpg"),
}


def load_sample_2d(n_samples: int = 300, *, random_state: int | None = 0):
    """The classic 2-D teaching set: three round blobs, near (2, 5), (3, 1) and (6, 3).

    Parameters
    ----------
    n_samples : int, default=300
        Split as evenly as possible between the three blobs, in blob order.
    random_state : int or None, default=0
        The seed; the default gives the same 300 points every time.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,)
        The blob each point was drawn from (0, 1 or 2).

    Examples
    --------
    >>> X, y = load_sample_2d()
    >>> X.shape, sorted(set(y.tolist()))
    ((300, 2), [0, 1, 2])
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 3:
        raise ValueError(f"n_samples must be an integer >= 3, got {n_samples!r}.")
    rng = np.random.default_rng(random_state)
    sizes = np.full(3, n_samples // 3)
    sizes[: n_samples % 3] += 1
    y = np.repeat(np.arange(3), sizes)
    X = _CENTERS_2D[y] + rng.standard_normal((n_samples, 2)) * _SPREADS_2D[y, None]
    return X, y


def sample_image_path(name: str = "grace_hopper") -> Path:
    """The path of a sample photograph shipped by an installed package.

    ``grace_hopper`` comes with matplotlib (always installed with lloyd); the others come with
    scikit-image, when it is installed.
    """
    if name not in SAMPLE_IMAGES:
        raise ValueError(
            f"name={name!r} is not a sample image; choose one of {sorted(SAMPLE_IMAGES)}."
        )
    package, relative = SAMPLE_IMAGES[name]
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        raise ImportError(
            f"the sample image {name!r} ships with {package}, which is not installed; "
            f"install it (pip install scikit-image) or use 'grace_hopper'."
        ) from None
    path = Path(str(root.joinpath(relative)))
    if not path.is_file():
        raise FileNotFoundError(f"the installed {package} does not ship {relative}.")
    return path


def load_sample_image(name: str = "grace_hopper") -> np.ndarray:
    """A sample colour photograph as an RGB array of shape (height, width, 3), dtype uint8.

    Examples
    --------
    >>> image = load_sample_image()
    >>> image.shape, image.dtype
    ((600, 512, 3), dtype('uint8'))
    """
    from PIL import Image

    with Image.open(sample_image_path(name)) as im:
        return np.asarray(im.convert("RGB"))
