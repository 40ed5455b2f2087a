"""A fit never copies nor modifies X: the kernels centre each row as they read it, with the
roundings a centred copy would have, so the answers are those of a fit on that copy, bit for bit.
"""

import numpy as np
import pytest

from lloyd import KMeans
from lloyd._options import ALGORITHMS
from lloyd._runs import single_run
from lloyd._threads import blas_single_thread
from lloyd.seeding import _kmeans_plusplus


def _offset_data(seed, n, d, dtype):
    """Blobs far from the origin (centring matters there), with a column's worth of zeros."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + rng.uniform(-50, 50, size=d)
    X[:, 0] = 0.0
    return X.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [3, 10, 40])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_run_centred_on_the_fly_equals_the_run_on_a_centred_copy(algorithm, d, dtype):
    X = _offset_data(d, 2000, d, dtype)
    offset = X.mean(axis=0).astype(dtype)
    centred = X - offset  # what the fit centred in place before
    rng = np.random.default_rng(1)
    w = rng.uniform(0.5, 2.0, len(X)).astype(dtype)
    init = centred[rng.choice(len(X), 7, replace=False)]
    with blas_single_thread():
        on_the_fly = single_run(algorithm, X, w, init, 300, 0.0, 0, offset=offset)
        on_a_copy = single_run(algorithm, centred, w, init, 300, 0.0, 0)
    np.testing.assert_array_equal(on_the_fly.labels, on_a_copy.labels)
    assert np.array_equal(on_the_fly.centers, on_a_copy.centers)
    assert on_the_fly.inertia == on_a_copy.inertia
    assert on_the_fly.n_iter == on_a_copy.n_iter


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [3, 10, 40, 80])  # low-d columns, ≤ 16, BLAS, BLAS pruned
def test_kmeans_plusplus_centred_on_the_fly_draws_the_rows_of_a_centred_copy(d, dtype):
    X = _offset_data(10 + d, 3000, d, dtype)
    offset = X.mean(axis=0).astype(dtype)
    w = np.ones(len(X), dtype=dtype)
    with blas_single_thread():
        centers, rows = _kmeans_plusplus(X, 12, w, np.random.RandomState(0), offset=offset)
        expected_centers, expected_rows = _kmeans_plusplus(X - offset, 12, w,
                                                           np.random.RandomState(0))
    np.testing.assert_array_equal(rows, expected_rows)
    assert np.array_equal(centers, expected_centers)


@pytest.mark.parametrize("copy_x", [True, False])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_fit_leaves_x_as_it_was_even_read_only(algorithm, copy_x):
    X = _offset_data(3, 1500, 12, np.float64)
    X.flags.writeable = False
    before = X.copy()
    km = KMeans(5, random_state=0, algorithm=algorithm, copy_x=copy_x).fit(X)
    assert np.array_equal(X, before)
    # the same answer as scikit-learn's fit from the same start (X centred by a copy there)
    from sklearn.cluster import KMeans as SKKMeans

    init = km.cluster_centers_ + 0.1
    ours = KMeans(5, init=init, n_init=1, algorithm=algorithm, copy_x=copy_x).fit(X)
    theirs = SKKMeans(5, init=init, n_init=1).fit(before)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-12,
                               atol=1e-12)
