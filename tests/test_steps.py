"""The algorithm as taught: hand-worked answers, a float64 reference, properties and bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lloyd import (
    compute_centroids,
    compute_distortion,
    find_closest_centroids,
    kmeans_init_centroids,
    run_kmeans,
)

# ---------------------------------------------------------------- hand-worked answers


def test_find_closest_hand_worked_k2():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [4.0, 4.0], [5.0, 6.0]])
    centroids = np.array([[0.0, 1.0], [5.0, 5.0]])
    # distances²: row 0 -> (1, 50); row 1 -> (1, 32); row 2 -> (25, 2); row 3 -> (50, 1)
    assert find_closest_centroids(X, centroids).tolist() == [0, 0, 1, 1]


def test_find_closest_hand_worked_k3_classic_start():
    X = np.array([[1.8, 4.6], [5.7, 1.9], [6.4, 3.1], [3.0, 3.2]])
    centroids = np.array([[3.0, 3.0], [6.0, 2.0], [8.0, 5.0]])
    # row 0: (1.44+2.56=4.00, 17.64+6.76=24.4, 38.44+0.16=38.6) -> 0
    # row 1: (7.29+1.21, 0.09+0.01, 5.29+9.61) -> 1
    # row 2: (11.56+0.01=11.57, 0.16+1.21=1.37, 2.56+3.61=6.17) -> 1
    # row 3: (0+0.04, 9+1.44, 25+3.24) -> 0
    assert find_closest_centroids(X, centroids).tolist() == [0, 1, 1, 0]


def test_find_closest_ties_go_to_lowest_index():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 0.0]])
    centroids = np.array([[1.0, 1.0], [1.0, -1.0], [3.0, 1.0]])
    # every point is equidistant from centroids 0 and 1; point 1 is equidistant from all three
    assert find_closest_centroids(X, centroids).tolist() == [0, 0, 0]
    # duplicate centroids: the first copy wins
    assert find_closest_centroids(X, np.array([[5.0, 0.0], [0.0, 0.0], [0.0, 0.0]])).tolist() == [
        1, 1, 1,
    ]


def test_find_closest_returns_integer_array():
    idx = find_closest_centroids(np.zeros((4, 3)), np.ones((2, 3)))
    assert idx.shape == (4,) and idx.dtype.kind == "i"


def test_compute_centroids_hand_worked():
    X = np.array([[1.0, 1.0], [3.0, 1.0], [0.0, 6.0], [10.0, 10.0], [12.0, 8.0], [11.0, 12.0]])
    idx = np.array([0, 0, 1, 2, 2, 2])
    expected = np.array([[2.0, 1.0], [0.0, 6.0], [11.0, 10.0]])
    np.testing.assert_array_equal(compute_centroids(X, idx, 3), expected)


def test_compute_centroids_one_point_clusters_are_the_points():
    X = np.array([[1.5, -2.0], [7.0, 3.25], [0.0, 0.0]])
    np.testing.assert_array_equal(compute_centroids(X, [2, 0, 1], 3), X[[1, 2, 0]])


def test_compute_centroids_empty_cluster_without_previous_is_an_error():
    X = np.array([[0.0], [1.0], [2.0]])
    with pytest.raises(ValueError, match=r"cluster\(s\) \[1\] have no examples"):
        compute_centroids(X, [0, 0, 2], 3)


def test_compute_centroids_empty_cluster_keeps_previous_centroid():
    X = np.array([[0.0], [1.0], [2.0]])
    previous = np.array([[5.0], [-7.0], [9.0]])
    result = compute_centroids(X, [0, 0, 2], 3, previous_centroids=previous)
    np.testing.assert_array_equal(result, [[0.5], [-7.0], [2.0]])
    assert not np.isnan(result).any()


def test_run_kmeans_hand_worked_1d():
    X = np.array([[0.0], [2.0], [4.0], [10.0], [12.0]])
    # start 0 and 4: assign [0,0,1,1,1] -> means 1 and 26/3; then [0,0,0,1,1] -> 2 and 11.
    centroids, idx, history = run_kmeans(X, [[0.0], [4.0]], max_iters=3, return_history=True)
    np.testing.assert_allclose(history.centroids[1].ravel(), [1.0, 26 / 3])
    np.testing.assert_allclose(centroids.ravel(), [2.0, 11.0])
    assert idx.tolist() == [0, 0, 0, 1, 1]
    assert history.labels[0].tolist() == [0, 0, 1, 1, 1]
    # final distortion: (4 + 0 + 4 + 1 + 1) / 5
    assert history.distortion[-1] == pytest.approx(2.0)


def test_run_kmeans_empty_cluster_keeps_its_centroid():
    X = np.array([[0.0], [1.0], [2.0]])
    centroids, idx = run_kmeans(X, [[1.0], [100.0]], max_iters=2)
    np.testing.assert_array_equal(centroids, [[1.0], [100.0]])
    assert idx.tolist() == [0, 0, 0]


def test_run_kmeans_history_shapes_and_zero_iterations():
    X = np.random.default_rng(0).normal(size=(20, 3))
    start = X[:4]
    centroids, idx, history = run_kmeans(X, start, max_iters=5, return_history=True)
    assert history.centroids.shape == (6, 4, 3)
    assert history.labels.shape == (6, 20)
    assert history.distortion.shape == (6,)
    assert history.n_iter == 5
    np.testing.assert_array_equal(history.centroids[0], start)
    np.testing.assert_array_equal(history.centroids[-1], centroids)
    np.testing.assert_array_equal(history.labels[-1], idx)
    c0, idx0 = run_kmeans(X, start, max_iters=0)
    np.testing.assert_array_equal(c0, start)
    np.testing.assert_array_equal(idx0, find_closest_centroids(X, start))


def test_run_kmeans_does_not_mutate_inputs():
    X = np.random.default_rng(1).normal(size=(30, 2))
    start = X[:3].copy()
    X_before, start_before = X.copy(), start.copy()
    run_kmeans(X, start, max_iters=4)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(start, start_before)


def test_compute_distortion_hand_worked():
    X = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert compute_distortion(X, [0, 0], [[0.0, 0.0]]) == pytest.approx(12.5)


def test_run_kmeans_matches_scikit_learn_from_the_same_start():
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(3)
    X = np.concatenate([rng.normal(c, 0.6, size=(60, 4)) for c in (0, 3, 6)])
    start = kmeans_init_centroids(X, 3, random_state=5)
    centroids, idx = run_kmeans(X, start, max_iters=50)
    ref = KMeans(3, init=start, n_init=1, max_iter=50, tol=0, algorithm="lloyd").fit(X)
    np.testing.assert_allclose(centroids, ref.cluster_centers_, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(idx, ref.labels_)


# ---------------------------------------------------------------- initialisation


def test_init_picks_distinct_rows_of_x():
    X = np.arange(40.0).reshape(20, 2)
    centroids = kmeans_init_centroids(X, 7, random_state=0)
    rows = {tuple(r) for r in X}
    assert len({tuple(c) for c in centroids}) == 7
    assert all(tuple(c) in rows for c in centroids)


def test_init_is_first_k_of_a_permutation_and_repeatable():
    X = np.arange(30.0).reshape(10, 3)
    expected = X[np.random.default_rng(42).permutation(10)[:4]]
    np.testing.assert_array_equal(kmeans_init_centroids(X, 4, random_state=42), expected)
    np.testing.assert_array_equal(
        kmeans_init_centroids(X, 4, random_state=42), kmeans_init_centroids(X, 4, random_state=42)
    )
    assert not np.array_equal(
        kmeans_init_centroids(X, 4, random_state=1), kmeans_init_centroids(X, 4, random_state=2)
    )


def test_init_k_equals_m_is_a_permutation():
    X = np.arange(10.0).reshape(5, 2)
    centroids = kmeans_init_centroids(X, 5, random_state=3)
    assert sorted(map(tuple, centroids)) == sorted(map(tuple, X))


# ---------------------------------------------------------------- properties

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@st.composite
def data_and_centroids(draw):
    m = draw(st.integers(1, 40))
    n = draw(st.integers(1, 4))
    K = draw(st.integers(1, min(m, 6)))
    X = draw(arrays(np.float64, (m, n), elements=finite))
    centroids = draw(arrays(np.float64, (K, n), elements=finite))
    return X, centroids


@given(data_and_centroids())
def test_property_idx_is_the_argmin_of_distances(case):
    X, centroids = case
    idx = find_closest_centroids(X, centroids)
    d = ((X[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(d[np.arange(len(X)), idx], d.min(axis=1))
    # and ties go to the lowest index
    np.testing.assert_array_equal(idx, np.argmin(d, axis=1))


@given(data_and_centroids(), st.data())
def test_property_compute_centroids_returns_the_means(case, data):
    X, _ = case
    K = data.draw(st.integers(1, 5))
    idx = np.array(data.draw(st.lists(st.integers(0, K - 1), min_size=len(X), max_size=len(X))))
    previous = np.full((K, X.shape[1]), 123.0)
    centroids = compute_centroids(X, idx, K, previous_centroids=previous)
    for k in range(K):
        members = X[idx == k]
        expected = members.mean(axis=0) if len(members) else previous[k]
        np.testing.assert_allclose(centroids[k], expected, rtol=1e-12, atol=1e-9)


@given(data_and_centroids(), st.integers(1, 8))
def test_property_distortion_never_increases(case, max_iters):
    X, centroids = case
    _, _, history = run_kmeans(X, centroids, max_iters, return_history=True)
    d = history.distortion
    tol = 1e-12 * (1 + np.abs(d[:-1]))
    assert np.all(d[1:] <= d[:-1] + tol), d


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (
            lambda: find_closest_centroids(np.zeros(5), np.zeros((1, 1))),
            r"X must be a 2-D array.*shape \(5,\)",
        ),
        (
            lambda: find_closest_centroids(np.zeros((2, 2, 2)), np.zeros((1, 2))),
            r"X must be a 2-D.*\(2, 2, 2\)",
        ),
        (lambda: find_closest_centroids([[0.0, np.nan]], [[0.0, 0.0]]), r"X contains NaN"),
        (lambda: find_closest_centroids([[0.0, np.inf]], [[0.0, 0.0]]), r"X contains infinity"),
        (lambda: find_closest_centroids([[0.0, -np.inf]], [[0.0, 0.0]]), r"X contains infinity"),
        (
            lambda: find_closest_centroids(np.zeros((3, 2)), np.zeros((2, 3))),
            r"centroids has 3 columns but X has 2 features",
        ),
        (
            lambda: find_closest_centroids(np.zeros((3, 2)), [[np.nan, 0.0]]),
            r"centroids contains NaN",
        ),
        (lambda: kmeans_init_centroids(np.zeros((3, 2)), 0), r"K=0 must be >= 1"),
        (lambda: kmeans_init_centroids(np.zeros((3, 2)), -2), r"K=-2 must be >= 1"),
        (lambda: kmeans_init_centroids(np.zeros((3, 2)), 4), r"K=4 must be <= n_samples=3"),
        (
            lambda: kmeans_init_centroids(np.zeros((3, 2)), 2.0),
            r"K must be an integer >= 1, got 2.0",
        ),
        (lambda: kmeans_init_centroids(np.zeros((3, 2)), True), r"K must be an integer"),
        (
            lambda: compute_centroids(np.zeros((3, 2)), [0, 1, 2], 2),
            r"idx values must lie in \[0, K\) = \[0, 2\), found 2",
        ),
        (
            lambda: compute_centroids(np.zeros((3, 2)), [0, -1, 0], 2),
            r"idx values must lie in \[0, K\) = \[0, 2\), found -1",
        ),
        (lambda: compute_centroids(np.zeros((3, 2)), [0, 1], 2), r"idx must have shape \(3,\)"),
        (lambda: compute_centroids(np.zeros((3, 2)), [0, 1, 0], 0), r"K=0 must be >= 1"),
        (
            lambda: run_kmeans(np.zeros((3, 2)), np.zeros((4, 2))),
            r"number of initial_centroids=4 must be <= n_samples=3",
        ),
        (
            lambda: run_kmeans(np.zeros((3, 2)), np.zeros((2, 1))),
            r"initial_centroids has 1 columns but X has 2",
        ),
        (
            lambda: run_kmeans(np.zeros((3, 2)), np.zeros((2, 2)), max_iters=-1),
            r"max_iters=-1 must be >= 0",
        ),
        (lambda: run_kmeans(np.zeros((0, 2)), np.zeros((1, 2))), r"minimum of 1 is required"),
        (
            lambda: run_kmeans(np.array([["a", "b"]]), np.zeros((1, 2))),
            r"(could not convert|dtype)",
        ),
        (lambda: run_kmeans(np.array([[1 + 1j, 0]]), np.zeros((1, 2))), r"X has complex values"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_integer_and_float32_input_are_accepted():
    X = np.array([[0, 0], [1, 1], [10, 10]], dtype=np.int64)
    assert find_closest_centroids(X, [[0, 0], [10, 10]]).tolist() == [0, 0, 1]
    X32 = X.astype(np.float32)
    assert find_closest_centroids(X32, [[0, 0], [10, 10]]).tolist() == [0, 0, 1]
