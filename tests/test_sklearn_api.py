"""Signature parity with scikit-learn's k-means API: k_means, x_squared_norms, verbose as a bool."""

import numpy as np
import pytest
from sklearn import cluster as skc

import lloyd


@pytest.mark.parametrize("return_n_iter", [False, True])
def test_k_means_function_equals_scikit_learns(return_n_iter):
    """From the same start, the same centres, labels, inertia and iterations as
    ``sklearn.cluster.k_means`` (Lloyd's algorithm, as its default)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3)) + rng.integers(0, 4, size=(500, 1))
    w = rng.uniform(0.5, 2, size=500)
    init = X[:4].copy()
    ours = lloyd.k_means(X, 4, sample_weight=w, init=init, n_init=1,
                         return_n_iter=return_n_iter)
    theirs = skc.k_means(X, 4, sample_weight=w, init=init, n_init=1,
                         return_n_iter=return_n_iter)
    assert len(ours) == len(theirs) == (4 if return_n_iter else 3)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert ours[2] == pytest.approx(theirs[2], rel=1e-12)
    if return_n_iter:
        assert ours[3] == theirs[3]


def test_k_means_passes_its_parameters_on():
    X = np.array([[1.0, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    centers, labels, inertia = lloyd.k_means(X, 2, random_state=0, algorithm="elkan")
    assert sorted(centers.tolist()) == [[1.0, 2.0], [10.0, 2.0]]
    assert len(set(labels[:3].tolist())) == 1 and labels[0] != labels[3]
    assert inertia == 16.0
    with pytest.raises(ValueError, match="n_clusters"):
        lloyd.k_means(X, 7)


def test_kmeans_plusplus_accepts_and_checks_x_squared_norms():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 4))
    norms = (X**2).sum(axis=1)
    with_norms = lloyd.kmeans_plusplus(X, 5, x_squared_norms=norms, random_state=3)
    without = lloyd.kmeans_plusplus(X, 5, random_state=3)
    np.testing.assert_array_equal(with_norms[1], without[1])
    with pytest.raises(ValueError, match=r"x_squared_norms \(5,\) should be equal to the length "
                                         r"of n_samples \(200,\)"):
        lloyd.kmeans_plusplus(X, 5, x_squared_norms=norms[:5])


@pytest.mark.parametrize("verbose", [True, False, 0, 2])
def test_verbose_may_be_a_bool(verbose, capsys):
    X = np.random.default_rng(2).normal(size=(60, 2))
    lloyd.KMeans(3, n_init=1, max_iter=2, verbose=verbose, random_state=0).fit(X)
    printed = capsys.readouterr().out
    assert ("Iteration 0, inertia" in printed) == bool(verbose)


@pytest.mark.parametrize("verbose", [-1, 1.5, "yes"])
def test_verbose_refuses_what_is_not_an_int_or_bool(verbose):
    X = np.random.default_rng(2).normal(size=(60, 2))
    with pytest.raises(ValueError, match="'verbose' parameter must be an int >= 0 or a bool"):
        lloyd.KMeans(3, verbose=verbose).fit(X)
