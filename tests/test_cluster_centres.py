"""The centres a fit returns depend on the labels alone, never on the algorithm that found them.

Elkan and Hamerly keep their clusters' sums as running totals, moved by the rows that change
cluster; those drift by rounding (~1e-15 on coordinates near 0). The engine recomputes the last
step's sums in full, in the Lloyd pass's blocks and order, so every algorithm returns the same
centres bit for bit (scikit-learn's ``test_kmeans_elkan_results`` compares them at rtol=1e-7,
atol=0 over 100 seeds).
"""

import numpy as np
import pytest

from lloyd import KMeans
from lloyd._options import ALGORITHMS


def _data(seed, n, d, dtype):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[X < 0] = 0  # many coordinates at 0 and near it: where running sums drift most
    return X.astype(dtype)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [3, 10, 40])
def test_same_labels_same_centres_bit_for_bit(d, dtype):
    """Every algorithm, from the same start, over many seeds: the same labels, iterations and
    centres (bit-equal), with and without weights, stopped by tol, strictly or by max_iter."""
    for seed in range(12):
        rng = np.random.default_rng(1000 + seed)
        X = _data(seed, 1500, d, dtype)
        k = int(rng.integers(2, 12))
        init = X[rng.choice(X.shape[0], k, replace=False)]
        weights = rng.uniform(0.5, 2.0, X.shape[0]) if seed % 2 else None
        tol = (1e-8, 0.0, 1e-4)[seed % 3]
        max_iter = (300, 2, 3, 5)[seed % 4]
        fits = {
            algorithm: KMeans(k, init=init, n_init=1, tol=tol, max_iter=max_iter,
                              algorithm=algorithm).fit(X, sample_weight=weights)
            for algorithm in ALGORITHMS
        }
        lloyd = fits["lloyd"]
        for algorithm, fit in fits.items():
            where = f"seed={seed}, algorithm={algorithm}"
            np.testing.assert_array_equal(fit.labels_, lloyd.labels_, err_msg=where)
            assert fit.n_iter_ == lloyd.n_iter_, where
            assert np.array_equal(fit.cluster_centers_, lloyd.cluster_centers_), (
                f"{where}: centres differ by "
                f"{np.max(np.abs(fit.cluster_centers_ - lloyd.cluster_centers_))}")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_centres_are_the_weighted_means_of_the_labels(algorithm):
    """Against a float64 numpy statement: a fit run to strict convergence returns each
    cluster's weighted mean of its rows."""
    X = _data(7, 3000, 20, np.float64)
    rng = np.random.default_rng(7)
    weights = rng.uniform(0.1, 3.0, X.shape[0])
    fit = KMeans(8, n_init=1, tol=0, random_state=0, algorithm=algorithm).fit(
        X, sample_weight=weights)
    assert fit.n_iter_ < 300  # strict convergence: the labels are those the centres came from
    for j in range(8):
        rows = fit.labels_ == j
        expected = np.average(X[rows], axis=0, weights=weights[rows])
        np.testing.assert_allclose(fit.cluster_centers_[j], expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_fit_that_stops_on_its_second_pass_needs_no_extra_sums(dtype):
    """Separated blobs from a row of each: the first pass sums every row, the second changes
    no label, and the fit stops there. The running totals then hold the first pass's full sums
    plus zeros, so they are returned as they are: still bit-equal across algorithms and equal
    to each cluster's mean (float64 numpy)."""
    rng = np.random.default_rng(3)
    means = rng.uniform(-50, 50, size=(6, 30))
    blob = rng.integers(0, 6, size=4000)
    X = (means[blob] + rng.normal(size=(4000, 30))).astype(dtype)
    init = X[[np.flatnonzero(blob == j)[0] for j in range(6)]]
    fits = {algorithm: KMeans(6, init=init, n_init=1, algorithm=algorithm).fit(X)
            for algorithm in ALGORITHMS}
    for algorithm, fit in fits.items():
        assert fit.n_iter_ == 2, algorithm
        np.testing.assert_array_equal(fit.labels_, blob)
        assert np.array_equal(fit.cluster_centers_, fits["lloyd"].cluster_centers_), algorithm
    for j in range(6):
        expected = X[blob == j].astype(np.float64).mean(axis=0)
        np.testing.assert_allclose(fits["elkan"].cluster_centers_[j], expected,
                                   rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
