"""SphericalKMeans against a plain-numpy statement of spherical k-means, its properties, its
errors and scikit-learn's estimator contract."""

import numpy as np
import pytest
from sklearn.metrics.pairwise import cosine_distances
from sklearn.utils.estimator_checks import parametrize_with_checks

from lloyd import KMeans, SphericalKMeans
from lloyd._options import ALGORITHMS
from lloyd._threads import limit_threads
from lloyd.spherical import unit_centers, unit_rows

# ---------------------------------------------------------------- the reference


def spherical_kmeans_reference(X, sample_weight, centers_init, max_iter=300):
    """Spherical k-means as written in Dhillon & Modha (2001), float64, plain numpy: normalise
    the rows, give each the centre of largest cosine, move each centre to the mean direction
    of its rows, until no label changes. An empty cluster takes the row farthest from its
    centre (lowest cosine), which leaves its own cluster, as lloyd's engine does for k-means.
    Returns labels, centres and Σ w · (1 − cos)."""
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    C = centers_init / np.linalg.norm(centers_init, axis=1, keepdims=True)
    k = C.shape[0]
    labels_old = None
    for _ in range(max_iter):
        labels = np.argmax(U @ C.T, axis=1)
        members = labels.copy()
        empty = np.flatnonzero(np.bincount(labels, minlength=k) == 0)
        if empty.size:
            chords = ((U - C[labels]) ** 2).sum(axis=1)
            members[np.argsort(-chords, kind="stable")[:empty.size]] = empty
        for j in range(k):
            total = (sample_weight[members == j, None] * U[members == j]).sum(axis=0)
            if np.linalg.norm(total) > 0:
                C[j] = total / np.linalg.norm(total)
        if labels_old is not None and np.array_equal(labels, labels_old):
            break
        labels_old = labels
    cosines = np.einsum("ij,ij->i", U, C[labels])
    return labels, C, float(np.sum(sample_weight * (1.0 - cosines)))


def directions(n, d, k, seed, spread=0.35):
    """n rows around k random directions in d dimensions, at lengths from 0.01 to 100, the
    cluster of each row, and k distinct rows drawn at random (a start with no empty cluster:
    each of them is nearest to itself)."""
    rng = np.random.default_rng(seed)
    axes = rng.normal(size=(k, d))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    truth = rng.integers(0, k, size=n)
    X = axes[truth] + spread * rng.normal(size=(n, d)) / np.sqrt(d)
    X *= 10.0 ** rng.uniform(-2, 2, size=(n, 1))
    return X, truth, X[rng.choice(n, k, replace=False)]


# ---------------------------------------------------------------- agreement


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(("n_features", "n_clusters"), [(3, 6), (20, 12), (64, 8)])
def test_agrees_with_the_numpy_reference(algorithm, n_features, n_clusters):
    """From the same start: the reference's labels exactly, its centres and objective to
    rounding, whichever algorithm runs (3 features: the low-dimension kernel; 64: Elkan's
    range)."""
    X, _, init = directions(3000, n_features, n_clusters, seed=n_features)
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=len(X))
    labels, centers, inertia = spherical_kmeans_reference(X, w, init)
    skm = SphericalKMeans(n_clusters, init=init, n_init=1, tol=0, algorithm=algorithm)
    skm.fit(X, sample_weight=w)
    assert skm.n_iter_ > 2  # the centres really moved
    np.testing.assert_array_equal(skm.labels_, labels)
    np.testing.assert_allclose(skm.cluster_centers_, centers, rtol=0, atol=1e-13)
    assert skm.inertia_ == pytest.approx(inertia, rel=1e-12)


def test_float32_gives_the_exact_answer():
    """float32 rows, well separated: the float64 reference's labels, centres to float32's
    precision, centres kept in float32."""
    X, _, init = directions(4000, 16, 6, seed=3, spread=0.2)
    X32 = X.astype(np.float32)
    labels, centers, inertia = spherical_kmeans_reference(
        X32.astype(np.float64), np.ones(len(X)), init.astype(np.float32).astype(np.float64))
    skm = SphericalKMeans(6, init=init.astype(np.float32), n_init=1, tol=0).fit(X32)
    assert skm.cluster_centers_.dtype == np.float32
    np.testing.assert_array_equal(skm.labels_, labels)
    np.testing.assert_allclose(skm.cluster_centers_, centers, atol=2e-6)
    assert skm.inertia_ == pytest.approx(inertia, rel=1e-4)


def test_finds_the_directions_whatever_the_lengths():
    """Rows whose lengths span four decades are clustered by direction alone: the planted
    clusters come back, where Euclidean k-means splits them by length."""
    X, truth, _ = directions(2000, 10, 4, seed=7, spread=0.2)
    found = SphericalKMeans(4, random_state=0).fit_predict(X)
    pairs = {(int(a), int(b)) for a, b in zip(found, truth)}
    assert len(pairs) == 4 and len({a for a, _ in pairs}) == 4
    euclid = KMeans(4, random_state=0).fit_predict(X)
    assert len({(int(a), int(b)) for a, b in zip(euclid, truth)}) > 4


# ---------------------------------------------------------------- properties


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_centres_have_unit_length(dtype):
    X, _, _ = directions(1500, 8, 10, seed=4)
    skm = SphericalKMeans(10, random_state=0).fit(X.astype(dtype))
    assert skm.cluster_centers_.dtype == dtype
    norms = np.linalg.norm(skm.cluster_centers_.astype(np.float64), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("init", ["k-means++", "random", "afk-mc2"])
def test_invariant_to_the_rows_lengths(init):
    """Scaling every row by its own positive factor changes nothing: same seeds (drawn on the
    unit rows), same labels, same centres, same inertia."""
    X, _, _ = directions(2000, 12, 7, seed=5)
    scaled = X * np.random.default_rng(2).uniform(0.001, 1000, size=(len(X), 1))
    a = SphericalKMeans(7, init=init, random_state=3).fit(X)
    b = SphericalKMeans(7, init=init, random_state=3).fit(scaled)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, atol=1e-13)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-12)


def test_predict_transform_and_score_on_new_rows():
    X, _, _ = directions(1000, 6, 5, seed=6)
    new, _, _ = directions(300, 6, 5, seed=60)
    skm = SphericalKMeans(5, random_state=0).fit(X)
    C = skm.cluster_centers_
    cosines = (new / np.linalg.norm(new, axis=1, keepdims=True)) @ C.T
    np.testing.assert_array_equal(skm.predict(new), cosines.argmax(axis=1))
    np.testing.assert_array_equal(skm.predict(new * 1e3), skm.predict(new))
    np.testing.assert_array_equal(skm.predict(X), skm.labels_)
    np.testing.assert_allclose(skm.transform(new), cosine_distances(new, C), atol=1e-12)
    w = np.random.default_rng(0).uniform(0, 3, size=len(new))
    expected = -np.sum(w * cosine_distances(new, C).min(axis=1))
    assert skm.score(new, sample_weight=w) == pytest.approx(expected, rel=1e-12)
    assert skm.score(X) == pytest.approx(-skm.inertia_, rel=1e-12)
    np.testing.assert_array_equal(SphericalKMeans(5, random_state=0).fit_predict(X), skm.labels_)
    np.testing.assert_allclose(SphericalKMeans(5, random_state=0).fit_transform(X),
                               skm.transform(X), atol=0)


def test_integer_weights_equal_repeated_rows():
    X, _, init = directions(600, 5, 4, seed=8)
    counts = np.random.default_rng(4).integers(1, 4, size=len(X))
    weighted = SphericalKMeans(4, init=init, n_init=1, tol=0).fit(X, sample_weight=counts)
    repeated = SphericalKMeans(4, init=init, n_init=1, tol=0).fit(np.repeat(X, counts, axis=0))
    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_, atol=1e-13)
    np.testing.assert_array_equal(np.repeat(weighted.labels_, counts), repeated.labels_)
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-12)


def test_initial_centres_count_by_direction_only():
    X, _, init = directions(800, 4, 5, seed=9)
    a = SphericalKMeans(5, init=init, n_init=1).fit(X)
    b = SphericalKMeans(5, init=init * np.arange(1, 6)[:, None] * 7.5, n_init=1).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    c = SphericalKMeans(5, init=lambda X, k, random_state: 3.0 * init, n_init=1).fit(X)
    np.testing.assert_array_equal(a.labels_, c.labels_)


@pytest.mark.parametrize("copy_x", [True, False])
def test_input_is_left_as_it_was(copy_x):
    X, _, _ = directions(500, 6, 4, seed=10)
    original = X.copy()
    SphericalKMeans(4, random_state=0, copy_x=copy_x).fit(X)
    np.testing.assert_allclose(X, original, rtol=5e-16 if not copy_x else 0, atol=0)
    read_only = original.copy()
    read_only.flags.writeable = False
    skm = SphericalKMeans(4, random_state=0, copy_x=copy_x).fit(read_only)
    assert np.isfinite(skm.cluster_centers_).all()


def test_unit_rows_are_used_without_a_copy():
    X, _, _ = directions(400, 8, 3, seed=11)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    norms = np.linalg.norm(U, axis=1)
    same, scaled = unit_rows(U, norms, copy=True)
    assert same is U and not scaled
    copied, scaled = unit_rows(X, np.linalg.norm(X, axis=1), copy=True)
    assert not np.shares_memory(copied, X) and not scaled
    np.testing.assert_allclose(copied, U, rtol=0, atol=1e-15)
    b = SphericalKMeans(3, random_state=0).fit(X)
    U.flags.writeable = False  # used as it is: read by every algorithm, never written
    for algorithm in ALGORITHMS:
        a = SphericalKMeans(3, random_state=0, algorithm=algorithm).fit(U)
        np.testing.assert_array_equal(a.labels_, b.labels_)
        np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, atol=1e-14)


def test_a_mean_without_direction_keeps_its_centre():
    """Rows that cancel out (x and −x) leave a mean of length 0: that centre stays put."""
    centers = np.array([[1.0, 0.0], [0.0, 1.0]])
    centers_new = np.array([[0.0, 0.0], [0.0, 2.0]])
    unit_centers(centers, centers_new)
    np.testing.assert_array_equal(centers_new, [[1.0, 0.0], [0.0, 1.0]])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_empty_clusters_are_relocated(algorithm):
    """Two identical initial centres: one cluster starts empty and takes the row of lowest
    cosine to its centre, as the reference says; no centre is NaN, all have unit length."""
    X, _, init = directions(900, 5, 3, seed=12)
    init[1] = init[0]
    labels, centers, _ = spherical_kmeans_reference(X, np.ones(len(X)), init)
    skm = SphericalKMeans(3, init=init, n_init=1, tol=0, algorithm=algorithm).fit(X)
    np.testing.assert_array_equal(skm.labels_, labels)
    np.testing.assert_allclose(skm.cluster_centers_, centers, rtol=0, atol=1e-13)
    np.testing.assert_allclose(np.linalg.norm(skm.cluster_centers_, axis=1), 1.0, atol=1e-15)
    assert len(np.unique(skm.labels_)) == 3


def test_threads_do_not_change_the_result():
    X, _, _ = directions(40_000, 8, 12, seed=13)
    X = X.astype(np.float32)
    w = np.random.default_rng(5).uniform(0.5, 2, size=len(X)).astype(np.float32)
    for algorithm in ALGORITHMS:
        runs = []
        for threads in (1, 2):
            with limit_threads(threads):
                skm = SphericalKMeans(12, random_state=0, algorithm=algorithm, max_iter=30)
                runs.append(skm.fit(X, sample_weight=w))
        assert np.array_equal(runs[0].cluster_centers_, runs[1].cluster_centers_), algorithm
        assert runs[0].inertia_ == runs[1].inertia_


# ---------------------------------------------------------------- errors


def test_zero_rows_are_refused_with_the_fix():
    X, _, _ = directions(50, 3, 2, seed=14)
    X[[7, 20]] = 0.0
    with pytest.raises(ValueError, match=r"X has 2 row\(s\) of zeros \(the first is row 7\).*"
                                         r"Drop those rows first, e\.g\. X = X\[np\.any"):
        SphericalKMeans(2).fit(X)
    skm = SphericalKMeans(2, random_state=0).fit(X[np.any(X != 0, axis=1)])
    for method in (skm.predict, skm.transform, skm.score):
        with pytest.raises(ValueError, match=r"row\(s\) of zeros"):
            method(X)
    init = X[:2].copy()
    init[1] = 0.0
    with pytest.raises(ValueError, match=r"init has 1 row\(s\) of zeros"):
        SphericalKMeans(2, init=init, n_init=1).fit(X[np.any(X != 0, axis=1)])


@pytest.mark.parametrize(("params", "message"), [
    ({"n_clusters": 0}, "The 'n_clusters' parameter must be an int >= 1, got 0"),
    ({"algorithm": "full"}, "The 'algorithm' parameter must be one of"),
    ({"n_clusters": 60}, "n_samples=50 should be >= n_clusters=60"),
    ({"init": np.ones((2, 4))}, "does not match the number of features of the data 3"),
])
def test_bad_parameters(params, message):
    X, _, _ = directions(50, 3, 2, seed=15)
    with pytest.raises(ValueError, match=message):
        SphericalKMeans(**{"n_clusters": 2, **params}).fit(X)


def test_sparse_input_is_refused_clearly():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X = scipy_sparse.random(20, 5, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match=r"SphericalKMeans does not support sparse input yet.*"
                                        r"X\.toarray\(\)"):
        SphericalKMeans(2).fit(X)


def test_dask_input_is_refused_clearly():
    da = pytest.importorskip("dask.array")
    X = da.ones((20, 3), chunks=10)
    with pytest.raises(TypeError, match=r"does not take Dask collections; pass X\.compute\(\)"):
        SphericalKMeans(2).fit(X)


def test_verbose_prints_the_chord_inertia(capsys):
    """verbose prints the engine's Σ w·‖u − c‖², twice the cosine inertia, as documented."""
    X, _, init = directions(300, 4, 3, seed=16)
    skm = SphericalKMeans(3, init=init, n_init=1, tol=0, verbose=1).fit(X)
    printed = capsys.readouterr().out
    last = [line for line in printed.splitlines() if line.startswith("Iteration")][-1]
    assert float(last.split("inertia ")[1].rstrip(".")) == pytest.approx(2 * skm.inertia_,
                                                                          rel=1e-12)


# ---------------------------------------------------------------- scikit-learn's contract

EXPECTED_FAILED = {
    "check_estimators_dtypes": (
        "its integer data (3 · uniform values truncated) has a row of zeros, which has no "
        "direction: refused on purpose (test_zero_rows_are_refused_with_the_fix)."
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "k-means++ draws rows at random: repeating a row changes the draws, as for KMeans. "
        "The same-start equivalence is test_integer_weights_equal_repeated_rows."
    ),
}


@parametrize_with_checks(
    [SphericalKMeans(n_clusters=2, n_init=2, max_iter=5, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
