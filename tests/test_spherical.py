"""SphericalKMeans against a plain-numpy statement of spherical k-means, its properties, its
errors and scikit-learn's estimator contract."""

import functools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics.pairwise import cosine_distances
from sklearn.preprocessing import normalize
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from lloyd import KMeans, SphericalKMeans, _sparse, kmeans_plusplus
from lloyd._options import ALGORITHMS
from lloyd._threads import limit_threads
from lloyd.spherical import unit_centers, unit_csr, unit_rows

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


def test_dask_input_is_refused_clearly():
    da = pytest.importorskip("dask.array")
    X = da.ones((20, 3), chunks=10)
    with pytest.raises(TypeError, match=r"does not take Dask collections; pass X\.compute\(\)"):
        SphericalKMeans(2).fit(X)


@pytest.mark.parametrize("sparse", [False, True])
def test_verbose_prints_the_chord_inertia(capsys, sparse):
    """verbose prints the engine's Σ w·‖u − c‖², twice the cosine inertia, as documented."""
    X, _, init = directions(300, 4, 3, seed=16)
    skm = SphericalKMeans(3, init=init, n_init=1, tol=0, verbose=1)
    skm.fit(sp.csr_matrix(X) if sparse else X)
    printed = capsys.readouterr().out
    last = [line for line in printed.splitlines() if line.startswith("Iteration")][-1]
    assert float(last.split("inertia ")[1].rstrip(".")) == pytest.approx(2 * skm.inertia_,
                                                                          rel=1e-12)


# ---------------------------------------------------------------- sparse input


def topics(n, d, k, seed, density=0.03, own=0.75, common=False, dtype=np.float64):
    """n sparse non-negative rows like TF-IDF rows in k topics, CSR (about ``density · d``
    stored values a row, at lengths from 0.1 to 10), their topic, and k positive directions.

    Every word belongs to one topic. A row draws a share ``own`` of its words from its topic's,
    the rest from the whole vocabulary, and at least one of its topic's: no row is empty and
    every row has a positive cosine to the mean of its topic. The directions are positive in
    every feature, so no row starts orthogonal to every centre. Starts drawn from the rows
    (k-means++, 'random') leave many rows orthogonal to every centre, exact ties of cosine 0
    (see test_sparse_kmeans_plusplus_draws_the_dense_rows), unless ``common``: then every row
    holds word 0 too (a word in every document keeps an idf of 1 in scikit-learn's TF-IDF).
    """
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, size=n)
    words_by_topic = rng.permutation(d)  # topic t: words_by_topic[t::k]
    n_own = 1 + rng.binomial(d // k, own * density * k, size=n)
    n_any = rng.binomial(d, (1 - own) * density, size=n)
    topic_of_value = np.repeat(truth, n_own)
    own_cols = words_by_topic[topic_of_value + k * rng.integers(0, d // k, size=n_own.sum())]
    rows = np.concatenate([np.repeat(np.arange(n), n_own), np.repeat(np.arange(n), n_any),
                           np.arange(n) if common else []]).astype(int)
    cols = np.concatenate([own_cols, rng.integers(0, d, size=n_any.sum()),
                           np.zeros(n if common else 0)]).astype(int)
    idf = rng.uniform(1.0, 4.0, size=d)
    values = rng.uniform(0.2, 1.0, size=rows.size) * idf[cols]
    X = sp.csr_matrix((values, (rows, cols)), shape=(n, d))  # repeated words are summed
    X = (sp.diags(10.0 ** rng.uniform(-1, 1, size=n)) @ X).tocsr().astype(dtype)
    X.sort_indices()  # canonical, as a vectoriser's rows: read with no copy
    return X, truth, rng.uniform(0.5, 1.5, size=(k, d))


@functools.cache
def weighted_topics(n, d, k):
    """:func:`topics` with weights, and the reference's labels, centres and objective from the
    directions; read-only (cached for the tests of every algorithm)."""
    X, _, init = topics(n, d, k, seed=d)
    w = np.random.default_rng(k).uniform(0.5, 2.0, size=n)
    reference = spherical_kmeans_reference(X.toarray(), w, init)
    for array in (X.data, X.indices, X.indptr, w, init, *reference[:2]):
        array.flags.writeable = False
    return X, w, init, reference


@pytest.mark.parametrize("algorithm", [*ALGORITHMS, "auto"])
@pytest.mark.parametrize(("n", "n_features", "n_clusters"),
                         [(600, 300, 3), (2000, 1000, 8), (1200, 3000, 20)])
def test_sparse_agrees_with_the_numpy_reference(algorithm, n, n_features, n_clusters):
    """CSR and CSC from the same start: the reference's labels exactly, its centres and
    objective to rounding, and the dense estimator's answer; every algorithm name runs the
    sparse Lloyd pass (``algorithm_`` 'lloyd', as for KMeans)."""
    X, w, init, (labels, centers, inertia) = weighted_topics(n, n_features, n_clusters)
    assert 0.02 < X.nnz / (n * n_features) < 0.05
    dense = SphericalKMeans(n_clusters, init=init, n_init=1, tol=0, algorithm=algorithm)
    dense.fit(X.toarray(), sample_weight=w)
    for fmt in ("csr", "csc"):
        skm = SphericalKMeans(n_clusters, init=init, n_init=1, tol=0, algorithm=algorithm)
        skm.fit(X.asformat(fmt), sample_weight=w)
        assert skm.n_iter_ > 2 and skm.algorithm_ == "lloyd"
        np.testing.assert_array_equal(skm.labels_, labels)
        np.testing.assert_allclose(skm.cluster_centers_, centers, rtol=1e-10, atol=0)
        assert skm.inertia_ == pytest.approx(inertia, rel=1e-12)
        np.testing.assert_array_equal(skm.labels_, dense.labels_)
        np.testing.assert_allclose(skm.cluster_centers_, dense.cluster_centers_, rtol=1e-10,
                                   atol=0)
        assert skm.inertia_ == pytest.approx(dense.inertia_, rel=1e-12)


def test_sparse_float32_gives_the_exact_answer():
    """float32 sparse rows, well separated: the float64 reference's labels, centres to
    float32's precision, centres kept in float32."""
    X, _, init = topics(3000, 1000, 6, seed=17, own=0.9, dtype=np.float32)
    labels, centers, inertia = spherical_kmeans_reference(
        X.toarray().astype(np.float64), np.ones(X.shape[0]),
        init.astype(np.float32).astype(np.float64))
    skm = SphericalKMeans(6, init=init.astype(np.float32), n_init=1, tol=0).fit(X)
    assert skm.cluster_centers_.dtype == np.float32 and skm.n_iter_ > 1
    np.testing.assert_array_equal(skm.labels_, labels)
    np.testing.assert_allclose(skm.cluster_centers_, centers, atol=2e-6)
    assert skm.inertia_ == pytest.approx(inertia, rel=1e-4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_kmeans_plusplus_draws_the_dense_rows(dtype):
    """Greedy k-means++ on the sparse unit rows and on their dense copy draws the same rows
    for the same random_state; from them, the sparse fit, the dense fit and the reference
    agree.

    The fits agree where no largest cosine is an exact tie. A row orthogonal to several
    centres, its largest cosine 0, is one (common when the centres are k rows of few words
    each: hence ``common`` below). The sparse pass scores ``‖c‖² − 2 u·c`` and the dense one
    ``‖u − c‖²``, so rounding decides such a tie, not the centres' order as in the reference,
    and the two roundings differ. Only centres that are single rows give such ties: the mean
    of a cluster of non-negative rows has a positive cosine to each of them."""
    for n, d, k in [(600, 300, 3), (2000, 1000, 8), (1200, 3000, 20)]:
        X = topics(n, d, k, seed=d, dtype=dtype)[0]
        unit = unit_csr(X, np.sqrt(_sparse.row_norms_sq(X)))
        for seed in range(5):
            _, sparse_rows = kmeans_plusplus(unit, k, random_state=seed)
            _, dense_rows = kmeans_plusplus(unit.toarray(), k, random_state=seed)
            np.testing.assert_array_equal(sparse_rows, dense_rows)
    X = topics(2000, 1000, 8, seed=1000, common=True, dtype=dtype)[0]
    unit = unit_csr(X, np.sqrt(_sparse.row_norms_sq(X)))
    for seed in range(3):
        ours = SphericalKMeans(8, random_state=seed, tol=0).fit(X)
        dense = SphericalKMeans(8, random_state=seed, tol=0).fit(X.toarray())
        np.testing.assert_array_equal(ours.labels_, dense.labels_)
        np.testing.assert_allclose(ours.cluster_centers_, dense.cluster_centers_, rtol=0,
                                   atol=1e-13 if dtype == np.float64 else 1e-6)
        seeds = kmeans_plusplus(unit, 8, random_state=seed)[0].astype(np.float64)
        labels, _, _ = spherical_kmeans_reference(X.toarray().astype(np.float64),
                                                  np.ones(X.shape[0]), seeds)
        np.testing.assert_array_equal(ours.labels_, labels)


def test_sparse_input_is_left_as_it_was_and_unit_rows_are_not_copied(monkeypatch):
    """X's values, indices and row pointers are never written (read-only here), whatever
    copy_x; the unit rows share X's indices and row pointers; rows already of unit length
    (scikit-learn's TF-IDF normalisation, float64 and float32) are fitted as they are."""
    X = topics(800, 400, 5, seed=18)[0]
    original = X.copy()
    for array in (X.data, X.indices, X.indptr):
        array.flags.writeable = False
    for copy_x in (True, False):
        skm = SphericalKMeans(5, random_state=0, copy_x=copy_x).fit(X)
        skm.predict(X), skm.transform(X), skm.score(X)
    for name in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(X, name), getattr(original, name))
    unit = unit_csr(X, np.sqrt(_sparse.row_norms_sq(X)))
    assert np.shares_memory(unit.indices, X.indices) and np.shares_memory(unit.indptr, X.indptr)
    assert not np.shares_memory(unit.data, X.data)
    np.testing.assert_allclose(unit.toarray(), normalize(X).toarray(), rtol=0, atol=1e-16)

    fitted = []

    def spy(X, *args, **kwargs):
        fitted.append(X)
        return fit(X, *args, **kwargs)

    fit = _sparse.fit
    monkeypatch.setattr(_sparse, "fit", spy)
    for dtype in (np.float64, np.float32):
        tfidf = normalize(X.astype(dtype))
        assert unit_csr(tfidf, np.sqrt(_sparse.row_norms_sq(tfidf))) is tfidf
        SphericalKMeans(5, random_state=0).fit(tfidf)
        assert fitted[-1] is tfidf
    SphericalKMeans(5, random_state=0).fit(X)
    assert np.shares_memory(fitted[-1].indices, X.indices)
    assert not np.shares_memory(fitted[-1].data, X.data)


def test_sparse_input_is_never_densified(monkeypatch):
    """Every sparse matrix made dense during fit, predict, transform and score is a handful of
    rows (a start, k-means++'s candidates), never X."""
    X = topics(3000, 2000, 6, seed=26)[0]
    densified = []

    def recorded(toarray):
        def wrapper(self, *args, **kwargs):
            densified.append(self.shape)
            return toarray(self, *args, **kwargs)
        return wrapper

    for container in (sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.csc_array):
        monkeypatch.setattr(container, "toarray", recorded(container.toarray))
    for init in ("k-means++", "random"):
        skm = SphericalKMeans(6, init=init, random_state=0, n_init=2).fit(X)
        skm.predict(X), skm.transform(X), skm.score(X)
        skm.fit_transform(X.tocsc())
    assert densified and max(rows * columns for rows, columns in densified) <= 6 * 2000


def test_sparse_unit_rows_scale_in_slices():
    """Rows spanning the slices unit_csr scales at a time, with rows of one value and long
    rows: the values of dense unit rows, bit for bit."""
    rng = np.random.default_rng(19)
    lengths = rng.choice([1, 3, 50, 70_000], size=40)
    X = sp.random(40, 100_000, density=0.0, format="lil")
    for row, length in enumerate(lengths):
        X.rows[row] = sorted(rng.choice(100_000, size=length, replace=False).tolist())
        X.data[row] = rng.uniform(0.1, 5.0, size=length).tolist()
    X = X.tocsr()
    assert X.nnz > 3 * (1 << 16)
    norms = np.sqrt(_sparse.row_norms_sq(X))
    unit = unit_csr(X, norms)
    np.testing.assert_array_equal(unit.data, X.data / np.repeat(norms, lengths))


def sparse_formats(X):
    """X (CSR) in every SciPy format, as matrix and array, with 32- and 64-bit indices."""
    for container in (sp.csr_matrix, sp.csr_array):
        csr = container(X)
        for fmt in ("csr", "csc", "coo", "lil", "dok", "dia", "bsr"):
            with warnings.catch_warnings():  # DIA, of many diagonals: inefficient, still valid
                warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
                yield f"{container.__name__}-{fmt}", csr.asformat(fmt)
        for fmt in ("csr", "csc"):
            wide = csr.asformat(fmt, copy=True)
            wide.indices, wide.indptr = wide.indices.astype(np.int64), wide.indptr.astype(np.int64)
            yield f"{container.__name__}-{fmt}-int64", wide
        coo = csr.tocoo()
        coo.row, coo.col = coo.row.astype(np.int64), coo.col.astype(np.int64)
        yield f"{container.__name__}-coo-int64", coo


def test_sparse_formats_give_the_same_fit():
    """Every SciPy format and index width (what scikit-learn's sparse checks feed, which fail
    here only for their rows of zeros: see EXPECTED_FAILED) gives CSR's fit; integer counts
    give their float64 copy's."""
    X = topics(300, 60, 3, seed=20, density=0.1)[0]
    expected = SphericalKMeans(3, random_state=0).fit(X)
    for name, Xf in sparse_formats(X):
        skm = SphericalKMeans(3, random_state=0).fit(Xf)
        np.testing.assert_array_equal(skm.labels_, expected.labels_, err_msg=name)
        np.testing.assert_array_equal(skm.cluster_centers_, expected.cluster_centers_,
                                      err_msg=name)
        np.testing.assert_array_equal(skm.predict(Xf), expected.labels_, err_msg=name)
    counts = X.copy()
    counts.data = np.ceil(counts.data)
    skm = SphericalKMeans(3, random_state=0).fit(counts.astype(np.int64))
    assert skm.cluster_centers_.dtype == np.float64
    np.testing.assert_array_equal(skm.labels_,
                                  SphericalKMeans(3, random_state=0).fit(counts).labels_)


def test_sparse_initial_centres_count_by_direction_only():
    """An array start is scaled to unit length; a callable gets the unit rows (CSR) and may
    return sparse rows."""
    X, _, init = topics(800, 400, 5, seed=21, common=True)
    a = SphericalKMeans(5, init=init, n_init=1).fit(X)
    b = SphericalKMeans(5, init=init * np.arange(1, 6)[:, None] * 7.5, n_init=1).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    seen = []

    def first_rows(X, n_clusters, random_state):
        seen.append(X)
        return 3.0 * X[:n_clusters]

    c = SphericalKMeans(5, init=first_rows, n_init=1).fit(X)
    assert sp.issparse(seen[0])
    np.testing.assert_allclose(_sparse.row_norms_sq(seen[0]), 1.0, rtol=0, atol=1e-15)
    d = SphericalKMeans(5, init=X[:5].toarray(), n_init=1).fit(X)
    np.testing.assert_array_equal(c.labels_, d.labels_)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_predict_transform_and_score_on_new_rows(dtype):
    """Sparse rows give the dense rows' labels and score, and cosine distances to 1e-12
    (float64; float32's rounding for float32)."""
    rows = topics(2000, 500, 6, seed=22, dtype=dtype)[0]
    X, new = rows[:1500], rows[1500:]
    atol = 1e-12 if dtype == np.float64 else 1e-6
    skm = SphericalKMeans(6, random_state=0).fit(X.toarray())
    C = skm.cluster_centers_
    np.testing.assert_array_equal(skm.predict(new), skm.predict(new.toarray()))
    np.testing.assert_array_equal(skm.predict(new * 1e3), skm.predict(new))
    distances = skm.transform(new)
    assert distances.dtype == dtype
    np.testing.assert_allclose(distances, cosine_distances(new.astype(np.float64), C),
                               rtol=0, atol=atol)
    np.testing.assert_allclose(distances, skm.transform(new.toarray()), rtol=0, atol=atol)
    w = np.random.default_rng(0).uniform(0, 3, size=new.shape[0])
    assert skm.score(new.tocsc(), sample_weight=w) == pytest.approx(
        skm.score(new.toarray(), sample_weight=w), rel=1e-12 if dtype == np.float64 else 1e-5)
    fitted = SphericalKMeans(6, random_state=0).fit(X)
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)
    assert fitted.score(X) == pytest.approx(-fitted.inertia_, rel=1e-12 if dtype == np.float64
                                            else 1e-5)
    np.testing.assert_array_equal(SphericalKMeans(6, random_state=0).fit_predict(X),
                                  fitted.labels_)
    np.testing.assert_array_equal(SphericalKMeans(6, random_state=0).fit_transform(X),
                                  fitted.transform(X))


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csr_array])
def test_sparse_zero_rows_are_refused_with_the_fix(container):
    """A row with no stored value, or only stored zeros, has no direction: the error shows a
    fix for sparse X, and the fix works."""
    X = topics(50, 40, 2, seed=23, density=0.2)[0].tolil()
    X[7] = 0  # no stored value
    X = container(X.tocsr())
    X.data[X.indptr[20]:X.indptr[21]] = 0.0  # stored zeros
    with pytest.raises(ValueError, match=r"X has 2 row\(s\) of zeros \(the first is row 7\).*"
                                         r"e\.g\. X = X\[np\.flatnonzero\(abs\(X\)\.sum\("
                                         r"axis=1\)\)\]\."):
        SphericalKMeans(2).fit(X)
    fixed = X[np.flatnonzero(abs(X).sum(axis=1))]
    assert fixed.shape == (48, 40)
    skm = SphericalKMeans(2, random_state=0).fit(fixed)
    for method in (skm.predict, skm.transform, skm.score):
        with pytest.raises(ValueError, match=r"row\(s\) of zeros"):
            method(X)


def test_sparse_afk_mc2_is_refused_clearly():
    X = topics(100, 50, 2, seed=24, density=0.2)[0]
    with pytest.raises(ValueError, match=r"init='afk-mc2' does not support sparse X; use "
                                         r"init='k-means\+\+' \(the default\), 'random', an "
                                         r"array or a callable, or pass X\.toarray\(\)"):
        SphericalKMeans(2, init="afk-mc2").fit(X)


@pytest.mark.slow
def test_sparse_threads_do_not_change_the_result():
    """1.2 million stored values: every sparse pass runs on two threads when allowed."""
    X = topics(20_000, 2000, 12, seed=25)[0]
    assert X.nnz > 2 * (1 << 19)
    w = np.random.default_rng(5).uniform(0.5, 2, size=X.shape[0])
    for dtype in (np.float32, np.float64):
        runs = []
        for n_threads in (1, 2):
            with (threadpool_limits(limits=n_threads, user_api="openmp"),
                  limit_threads(n_threads)):
                skm = SphericalKMeans(12, random_state=0, max_iter=30)
                runs.append(skm.fit(X.astype(dtype), sample_weight=w.astype(dtype)))
        np.testing.assert_array_equal(runs[0].labels_, runs[1].labels_)
        assert np.array_equal(runs[0].cluster_centers_, runs[1].cluster_centers_), dtype
        assert runs[0].inertia_ == runs[1].inertia_


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
    "check_sample_weight_equivalence_on_sparse_data": (
        "The same random draws as on dense data (xfailed for KMeans too); "
        "test_sparse_agrees_with_the_numpy_reference fits weighted sparse rows from one start."
    ),
    **dict.fromkeys(
        ["check_estimator_sparse_tag", "check_estimator_sparse_array",
         "check_estimator_sparse_matrix"],
        "its sparse data (40 × 3, values under 0.6 zeroed) has rows of zeros, which have no "
        "direction: refused on purpose (test_sparse_zero_rows_are_refused_with_the_fix). "
        "Every format it feeds, without those rows: test_sparse_formats_give_the_same_fit.",
    ),
}


@parametrize_with_checks(
    [SphericalKMeans(n_clusters=2, n_init=2, max_iter=5, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
