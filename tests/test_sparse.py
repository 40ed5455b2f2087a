"""Sparse input (SciPy CSR and CSC): agreement with scikit-learn's sparse path and with a float64
numpy reference, thread-count determinism, predict/transform/score, MiniBatchKMeans, bad input."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import cluster as skc
from threadpoolctl import threadpool_limits

import lloyd
from lloyd import _sparse
from lloyd._kernels import layout
from lloyd._kernels import sparse as kernels
from lloyd._threads import limit_threads

ALGORITHMS = ["lloyd", "elkan", "hamerly", "yinyang", "auto"]


def tfidf_like(n=1500, d=400, density=0.02, seed=0, dtype=np.float64, fmt="csr"):
    """Rows with power-law column frequencies, L2-normalised, as text features are."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, d + 1)
    p /= p.sum()
    lengths = np.maximum(1, rng.poisson(density * d, n))
    cols = rng.choice(d, size=lengths.sum(), p=p)
    rows = np.repeat(np.arange(n), lengths)
    X = sp.csr_matrix((rng.uniform(0.5, 2.0, cols.size), (rows, cols)), shape=(n, d))
    X.sum_duplicates()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    X = sp.diags(1.0 / norms) @ X
    return X.astype(dtype).asformat(fmt)


def float64_labels(X, centers):
    """The float64 answer: the argmin (first on ties) of scikit-learn's float64 score
    ``‖c‖² − 2 x·c`` for the float64 values of X and the centres."""
    c = centers.astype(np.float64)
    scores = np.einsum("ij,ij->i", c, c)[None, :] - 2 * (X.astype(np.float64).tocsr() @ c.T)
    return np.argmin(scores, axis=1)


# ---------------------------------------------------------------------- KMeans


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
def test_float64_equals_scikit_learn_from_the_same_start(algorithm, fmt, weighted):
    X = tfidf_like(fmt=fmt)
    w = np.random.default_rng(1).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    init = X[:12].toarray() if fmt == "csr" else X.tocsr()[:12].toarray()
    ours = lloyd.KMeans(12, init=init, n_init=1, algorithm=algorithm).fit(X, sample_weight=w)
    theirs = skc.KMeans(12, init=init, n_init=1, algorithm="lloyd").fit(X.tocsr(),
                                                                        sample_weight=w)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-12,
                               atol=1e-15)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-12)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.cluster_centers_.dtype == np.float64


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
@pytest.mark.parametrize("weighted", [False, True])
def test_float32_labels_are_the_float64_answer(algorithm, weighted):
    """float32 data: the labels are the float64 argmin for the returned centres, and those are
    the float64 (weighted) means of their rows, rounded once."""
    X = tfidf_like(dtype=np.float32, seed=3)
    w = np.random.default_rng(2).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    km = lloyd.KMeans(10, init=X[:10].toarray(), n_init=1, tol=0, algorithm=algorithm)
    km.fit(X, sample_weight=w)
    assert km.cluster_centers_.dtype == np.float32
    # The run converged strictly (tol=0), so the labels are those of the final centres.
    assert km.n_iter_ < km.max_iter
    np.testing.assert_array_equal(km.labels_, float64_labels(X, km.cluster_centers_))
    weights = np.ones(X.shape[0]) if w is None else w.astype(np.float32).astype(np.float64)
    dense = X.toarray().astype(np.float64)
    for j in range(10):
        rows = km.labels_ == j
        mean = weights[rows] @ dense[rows] / weights[rows].sum()
        np.testing.assert_allclose(km.cluster_centers_[j], mean.astype(np.float32), rtol=1e-6,
                                   atol=1e-7)


def test_float32_labels_equal_scikit_learns_float64_labels():
    """From the same centres, float32 rows get the labels scikit-learn gives their float64
    values (its own float32 pass measures in float32: 12% of these labels differ)."""
    X = tfidf_like(dtype=np.float32, seed=4, n=3000)
    for seed in range(3):
        init = X[np.random.default_rng(seed).choice(3000, 30, replace=False)].toarray()
        init = init * np.float32(0.7) + X[:30].toarray() * np.float32(0.3)
        ours = lloyd.KMeans(30, init=init, n_init=1, max_iter=1).fit(X)
        theirs = skc.KMeans(30, init=init.astype(np.float64), n_init=1, max_iter=1).fit(
            X.astype(np.float64))
        # One iteration: the labels of the new centres, which are equal to float32 rounding.
        np.testing.assert_array_equal(ours.labels_, float64_labels(X, ours.cluster_centers_))
        np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-6,
                                   atol=1e-7)
        np.testing.assert_array_equal(_sparse.labels(X, init), float64_labels(X, init))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_default_fit_equals_scikit_learns(dtype):
    """k-means++ with the same random_state draws the same rows, so the whole default fit is
    scikit-learn's."""
    X = tfidf_like(dtype=dtype, seed=5)
    ours = lloyd.KMeans(15, random_state=7).fit(X)
    theirs = skc.KMeans(15, random_state=7).fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=rtol,
                               atol=rtol * 1e-3)


def test_sparse_fit_equals_the_dense_fit():
    """The dense path centres X and settles ties by direct distances, the sparse one scores as
    scikit-learn does: the same answer wherever no two centres are within rounding of a tie
    (normalised rows as centres are: a row that shares no column with them ties on ‖c‖²)."""
    X = tfidf_like(seed=6)
    init = (X[:9].toarray() + X[9:18].toarray()) / 2
    sparse_fit = lloyd.KMeans(9, init=init, n_init=1, algorithm="lloyd").fit(X)
    dense_fit = lloyd.KMeans(9, init=init, n_init=1, algorithm="lloyd").fit(X.toarray())
    np.testing.assert_array_equal(sparse_fit.labels_, dense_fit.labels_)
    np.testing.assert_allclose(sparse_fit.cluster_centers_, dense_fit.cluster_centers_,
                               rtol=1e-12, atol=1e-15)


def test_empty_cluster_is_relocated_as_scikit_learn_does():
    X = tfidf_like(seed=7)
    init = X[:6].toarray()
    init[5] = init[4]  # a duplicate centre: its cluster is empty after the first pass
    ours = lloyd.KMeans(6, init=init, n_init=1).fit(X)
    theirs = skc.KMeans(6, init=init, n_init=1).fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-12,
                               atol=1e-15)
    assert len(np.unique(ours.labels_)) == 6


def test_near_ties_go_to_the_first_centre():
    """Rows that share no column with two centres of equal norm are exactly as far from both:
    the label is the first, as for dense data."""
    for dtype in (np.float64, np.float32):
        X = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 3, 0]], dtype=dtype))
        centers = np.array([[0, 0, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=dtype)
        assert _sparse.labels(X, centers).tolist() == [0, 0, 1]


def test_k_means_function_and_n_init():
    X = tfidf_like(seed=8)
    _, labels, inertia, n_iter = lloyd.k_means(X, 5, random_state=0, n_init=3,
                                               return_n_iter=True)
    theirs = skc.k_means(X, 5, random_state=0, n_init=3, return_n_iter=True)
    np.testing.assert_array_equal(labels, theirs[1])
    assert inertia == pytest.approx(theirs[2], rel=1e-12)
    assert n_iter == theirs[3]


# ---------------------------------------------------------------------- k-means++


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
def test_kmeans_plusplus_draws_scikit_learns_rows(dtype, fmt, weighted):
    X = tfidf_like(n=800, dtype=dtype, fmt=fmt, seed=9)
    w = np.random.default_rng(3).uniform(0.1, 3, X.shape[0]) if weighted else None
    for seed in range(4):
        ours, ours_idx = lloyd.kmeans_plusplus(X, 25, sample_weight=w, random_state=seed)
        theirs, theirs_idx = skc.kmeans_plusplus(X, 25, sample_weight=w, random_state=seed)
        np.testing.assert_array_equal(ours_idx, theirs_idx)
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == dtype


# ---------------------------------------------------------------------- threads


def test_kernels_do_not_depend_on_the_thread_count():
    X = _sparse.check_csr(tfidf_like(n=6000, d=300, density=0.05, seed=10))
    x_sq = _sparse.row_norms_sq(X)
    centers = X[:40].toarray() * 0.9
    w = np.random.default_rng(4).uniform(0.5, 2, X.shape[0])
    results = []
    for n_threads in (1, 2, 3):
        labels = np.full(X.shape[0], -1, dtype=np.int32)
        kernels.assign(X.data, X.indices, X.indptr, x_sq, centers, _sparse._centers_sq(centers),
                       labels, layout.n_blocks(X.shape[0], 1, 1), n_threads)
        sums, weights = np.empty((40, 300)), np.empty(40)
        kernels.cluster_sums(X.data, X.indices, X.indptr, w, labels, sums, weights, n_threads)
        distances, blocks = np.empty(X.shape[0]), np.empty(layout.n_blocks(X.shape[0], 1, 1))
        kernels.assigned_sq_distances(X.data, X.indices, X.indptr, w, centers,
                                      _sparse._centers_sq(centers), labels, distances, blocks,
                                      n_threads)
        results.append((labels, sums, weights, distances, blocks))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_a_fit_does_not_depend_on_the_thread_count():
    X = tfidf_like(n=40000, d=1000, density=0.03, seed=11)
    fits = []
    for n_threads in (1, 2):
        with threadpool_limits(limits=n_threads, user_api="openmp"), limit_threads(n_threads):
            fits.append(lloyd.KMeans(30, random_state=0, max_iter=30).fit(X))
    np.testing.assert_array_equal(fits[0].labels_, fits[1].labels_)
    np.testing.assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)
    assert fits[0].inertia_ == fits[1].inertia_


# ---------------------------------------------------------------------- predict, transform, score


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_transform_score_on_sparse(dtype):
    X = tfidf_like(dtype=dtype, seed=12)
    km = lloyd.KMeans(7, random_state=0).fit(X)
    sk = skc.KMeans(7, init=km.cluster_centers_, n_init=1, max_iter=1).fit(X)
    sk.cluster_centers_ = km.cluster_centers_
    dense = X.toarray()
    np.testing.assert_array_equal(km.predict(X), km.predict(dense))
    np.testing.assert_array_equal(km.predict(X), sk.predict(X))
    np.testing.assert_array_equal(km.predict(X.tocsc()), km.labels_)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(km.transform(X), sk.transform(X), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(km.transform(X), km.transform(dense), rtol=rtol, atol=rtol)
    assert km.transform(X).dtype == dtype
    assert km.score(X) == pytest.approx(sk.score(X), rel=rtol)
    assert km.score(X) == pytest.approx(-km.inertia_, rel=rtol)
    np.testing.assert_array_equal(km.fit_predict(X), km.labels_)


# ---------------------------------------------------------------------- MiniBatchKMeans


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_minibatch_fit_on_sparse_equals_the_dense_fit(dtype):
    X = tfidf_like(n=3000, dtype=dtype, seed=13)
    for init in (X[:10].toarray(), "k-means++"):
        kwargs = {"init": init, "random_state": 0, "batch_size": 256, "n_init": 1}
        sparse_fit = lloyd.MiniBatchKMeans(10, **kwargs).fit(X)
        dense_fit = lloyd.MiniBatchKMeans(10, **kwargs).fit(X.toarray())
        np.testing.assert_array_equal(sparse_fit.labels_, dense_fit.labels_)
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(sparse_fit.cluster_centers_, dense_fit.cluster_centers_,
                                   rtol=rtol, atol=rtol * 1e-2)
        assert sparse_fit.n_steps_ == dense_fit.n_steps_
        assert sparse_fit.inertia_ == pytest.approx(dense_fit.inertia_, rel=rtol * 100)


def test_minibatch_partial_fit_on_sparse_equals_dense():
    X = tfidf_like(n=2000, seed=14)
    init = (X[:6].toarray() + X[6:12].toarray()) / 2
    sparse_fit = lloyd.MiniBatchKMeans(6, init=init, n_init=1, random_state=0)
    dense_fit = lloyd.MiniBatchKMeans(6, init=init, n_init=1, random_state=0)
    for start in range(0, 2000, 400):
        sparse_fit.partial_fit(X[start:start + 400])
        dense_fit.partial_fit(X[start:start + 400].toarray())
    np.testing.assert_allclose(sparse_fit.cluster_centers_, dense_fit.cluster_centers_,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(sparse_fit.labels_, dense_fit.labels_)
    np.testing.assert_array_equal(sparse_fit.predict(X), dense_fit.predict(X.toarray()))


def test_minibatch_messages_name_minibatch():
    X = tfidf_like(n=300, seed=15)
    with pytest.warns(RuntimeWarning, match="in MiniBatchKMeans instead of n_init=3"):
        lloyd.MiniBatchKMeans(3, init=X[:3].toarray(), n_init=3).fit(X)


# ---------------------------------------------------------------------- input


def test_other_formats_and_dtypes_are_converted():
    X = tfidf_like(n=500, seed=16)
    reference = lloyd.KMeans(4, random_state=0).fit(X)
    for other in (X.tocoo(), X.tolil(), X.tocsc(), sp.csr_array(X)):
        fit = lloyd.KMeans(4, random_state=0).fit(other)
        np.testing.assert_array_equal(fit.labels_, reference.labels_)
    counts = sp.random(200, 30, density=0.2, random_state=0, format="csr")
    counts.data = np.ceil(counts.data * 5)
    as_int = counts.astype(np.int64)
    fit = lloyd.KMeans(3, random_state=0).fit(as_int)
    assert fit.cluster_centers_.dtype == np.float64
    np.testing.assert_array_equal(fit.labels_, lloyd.KMeans(3, random_state=0).fit(
        counts).labels_)


def test_unsorted_and_duplicate_indices_are_summed_and_the_input_is_left_alone():
    X = sp.csr_matrix((np.array([1.0, 2.0, 0.5, 3.0, 1.0]), np.array([2, 0, 2, 1, 1]),
                       np.array([0, 3, 5])), shape=(2, 3))
    assert not X.has_canonical_format
    before = (X.data.copy(), X.indices.copy())
    labels = _sparse.labels(_sparse.check_csr(X), np.array([[2.0, 0, 1.5], [0, 4.0, 0]]))
    assert labels.tolist() == [0, 1]
    np.testing.assert_array_equal(X.data, before[0])
    np.testing.assert_array_equal(X.indices, before[1])


def test_int64_indices_are_accepted():
    X = tfidf_like(n=400, seed=17)
    wide = sp.csr_matrix((X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64)),
                         shape=X.shape)
    np.testing.assert_array_equal(lloyd.KMeans(3, random_state=0).fit(wide).labels_,
                                  lloyd.KMeans(3, random_state=0).fit(X).labels_)


@pytest.mark.parametrize("bad, match", [(np.nan, "contains NaN"),
                                        (np.inf, "contains infinity"),
                                        (1e300, "could overflow")])
@pytest.mark.parametrize("estimator", [lloyd.KMeans, lloyd.MiniBatchKMeans])
def test_bad_values_are_clear_errors(bad, match, estimator):
    X = tfidf_like(n=100, seed=18)
    X.data[3] = bad
    with pytest.raises(ValueError, match=match):
        estimator(2).fit(X)
    with pytest.raises(ValueError, match=match):
        lloyd.kmeans_plusplus(X, 2)
    fitted = estimator(2, random_state=0).fit(tfidf_like(n=100, seed=18))
    with pytest.raises(ValueError, match=match):
        fitted.predict(X)


def test_afkmc2_on_sparse_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="init='afk-mc2' does not support sparse X; use"):
        lloyd.KMeans(2, init="afk-mc2").fit(tfidf_like(n=100))


def test_callable_init_may_return_sparse_rows():
    X = tfidf_like(n=300, seed=19)
    fit = lloyd.KMeans(3, init=lambda X, k, random_state: X[:k], n_init=1).fit(X)
    ref = lloyd.KMeans(3, init=X[:3].toarray(), n_init=1).fit(X)
    np.testing.assert_array_equal(fit.labels_, ref.labels_)


def test_no_warning_for_any_algorithm():
    X = tfidf_like(n=300, seed=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for algorithm in ALGORITHMS:
            assert lloyd.KMeans(3, random_state=0, algorithm=algorithm).fit(X).algorithm_ \
                == "lloyd"


@pytest.mark.parametrize("call", [
    lambda X: lloyd.find_closest_centroids(X, np.zeros((2, 3))),
    lambda X: lloyd.run_kmeans(X, np.zeros((2, 3)), 1),
    lambda X: lloyd.afkmc2(X, 2, random_state=0),
])
def test_dense_only_functions_name_the_estimators_that_take_sparse_input(call):
    """The taught steps and AFK-MC² take dense arrays: sparse X gets an error that says so,
    names what does take it, and gives the fix (no claim that lloyd has no sparse support)."""
    X = sp.random(20, 3, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match=r"takes dense arrays only \(lloyd.KMeans, "
                                        r"MiniBatchKMeans, SphericalKMeans and kmeans_plusplus "
                                        r"take sparse input\)\. Convert it with X.toarray\(\)"):
        call(X)
