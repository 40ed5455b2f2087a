"""The sample data: the 2-D teaching set and the photographs read from installed packages."""

import numpy as np
import pytest

from lloyd.datasets import load_sample_2d, load_sample_image, sample_image_path


def test_sample_2d_shape_and_seed():
    X, y = load_sample_2d()
    assert X.shape == (300, 2) and y.shape == (300,)
    np.testing.assert_array_equal(X, load_sample_2d()[0])
    assert not np.array_equal(X, load_sample_2d(random_state=1)[0])
    assert np.bincount(y).tolist() == [100, 100, 100]


def test_sample_2d_blobs_are_where_the_lesson_says():
    X, y = load_sample_2d()
    centers = np.array([X[y == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(centers, [[2, 5], [3, 1], [6, 3]], atol=0.2)
    spreads = np.array([X[y == k].std(axis=0).mean() for k in range(3)])
    assert np.all((spreads > 0.45) & (spreads < 0.85)), spreads


def test_sample_2d_rejects_bad_size():
    with pytest.raises(ValueError, match="n_samples must be an integer >= 3"):
        load_sample_2d(2)


def test_sample_image_is_a_real_colour_photo():
    image = load_sample_image()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert min(image.shape[:2]) >= 256
    # a photograph: many distinct colours, not a flat test card
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 10_000


def test_sample_image_unknown_name():
    with pytest.raises(ValueError, match="not a sample image; choose one of"):
        sample_image_path("mona_lisa")
