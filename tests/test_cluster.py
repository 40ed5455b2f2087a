"""lloyd.KMeans against scikit-learn, the teaching steps and float64 numpy; properties; errors."""

import numpy as np
import pytest
from sklearn.cluster import KMeans as SKKMeans
from sklearn.exceptions import ConvergenceWarning

import lloyd
from lloyd import KMeans, kmeans_plusplus, run_kmeans

ALGORITHMS = ["lloyd", "elkan", "hamerly", "yinyang"]


def sk_algorithm(algorithm):
    """scikit-learn's algorithm to compare with (it has no Hamerly or Yinyang: the same answer as Lloyd)."""
    return "lloyd" if algorithm in ("hamerly", "yinyang") else algorithm


def make_blobs(n, d, k, dtype, seed):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(k, d))
    X = centers[rng.integers(0, k, size=n)] + rng.normal(scale=2.0, size=(n, d))
    return X.astype(dtype)


# ---------------------------------------------------------------- agreement with scikit-learn


GRID = [
    (n, d, k)
    for n in (3000,)
    for d in (2, 3, 16, 100)
    for k in (2, 8, 64)
]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("n", "d", "k"), GRID)
def test_float64_agrees_with_scikit_learn(n, d, k, weighted, algorithm):
    X = make_blobs(n, d, k, np.float64, seed=n + d + k)
    rng = np.random.default_rng(d * k)
    weights = rng.uniform(0.2, 3.0, size=n) if weighted else None
    init = X[rng.choice(n, k, replace=False)]
    ours = KMeans(k, init=init, n_init=1, max_iter=50, algorithm=algorithm).fit(
        X, sample_weight=weights
    )
    ref = SKKMeans(k, init=init, n_init=1, max_iter=50, algorithm=sk_algorithm(algorithm)).fit(
        X, sample_weight=weights
    )
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-9, atol=1e-9)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)
    assert ours.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("n", "d", "k"), GRID)
def test_float32_agrees_with_scikit_learn(n, d, k, weighted, algorithm):
    X = make_blobs(n, d, k, np.float32, seed=n + d + k)
    rng = np.random.default_rng(d * k)
    weights = rng.uniform(0.2, 3.0, size=n).astype(np.float32) if weighted else None
    init = X[rng.choice(n, k, replace=False)]
    ours = KMeans(k, init=init, n_init=1, max_iter=20, tol=0, algorithm=algorithm).fit(
        X, sample_weight=weights
    )
    assert ours.cluster_centers_.dtype == np.float32
    ref = SKKMeans(k, init=init, n_init=1, max_iter=20, tol=0,
                   algorithm=sk_algorithm(algorithm)).fit(
        X, sample_weight=weights
    )
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-4)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(("d", "k"), [(2, 8), (3, 64), (16, 64), (100, 8)])
def test_large_n_agrees_with_the_exact_answer(d, k, algorithm, dtype):
    """n = 10⁵. float64: the same labels as scikit-learn. float32: the same labels as the exact
    (float64) fit of the same float32 data; scikit-learn's float32 path accumulates its sums
    in float32 and drifts from that answer, lloyd accumulates in float64 and does not."""
    n = 100_000
    X = make_blobs(n, d, k, dtype, seed=d + k)
    rng = np.random.default_rng(k)
    weights = rng.uniform(0.2, 3.0, size=n).astype(dtype)
    init = X[rng.choice(n, k, replace=False)]
    ours = KMeans(k, init=init, n_init=1, max_iter=20, tol=0, algorithm=algorithm).fit(
        X, sample_weight=weights
    )
    exact = SKKMeans(k, init=init.astype(np.float64), n_init=1, max_iter=20, tol=0,
                     algorithm=sk_algorithm(algorithm)).fit(X.astype(np.float64), sample_weight=weights)
    np.testing.assert_array_equal(ours.labels_, exact.labels_)
    rel = 1e-6 if dtype == np.float64 else 1e-4
    assert ours.inertia_ == pytest.approx(exact.inertia_, rel=rel)
    if dtype == np.float32:
        ref32 = SKKMeans(k, init=init, n_init=1, max_iter=20, tol=0,
                         algorithm=sk_algorithm(algorithm)).fit(
            X, sample_weight=weights
        )
        assert ours.inertia_ == pytest.approx(ref32.inertia_, rel=1e-4)
        # lloyd is at least as close to the exact answer as scikit-learn's float32 path
        assert abs(ours.inertia_ - exact.inertia_) <= abs(ref32.inertia_ - exact.inertia_)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_answer_as_the_teaching_steps(algorithm):
    X = make_blobs(2000, 3, 5, np.float64, seed=7)
    init = X[:5].copy()
    centroids, idx = run_kmeans(X, init, max_iters=15)
    km = KMeans(5, init=init, n_init=1, max_iter=15, tol=0, algorithm=algorithm).fit(X)
    np.testing.assert_allclose(km.cluster_centers_, centroids, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(km.labels_, idx)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("d", "k"), [(1, 5), (2, 1), (3, 16), (5, 64), (40, 10), (3, 200),
                                    (24, 120)])
def test_bound_algorithms_give_lloyds_answer_bit_for_bit(d, k, dtype):
    """From the same start, the pruning algorithms return exactly Lloyd's labels and centres
    (Hamerly keeps running sums, moved only by the rows that changed cluster: its centres are
    Lloyd's to rounding)."""
    X = make_blobs(4000, d, max(k, 2), dtype, seed=d * 100 + k)
    rng = np.random.default_rng(k)
    w = rng.uniform(0.5, 2.0, size=len(X)).astype(dtype)
    init = X[rng.choice(len(X), k, replace=False)]
    ref = KMeans(k, init=init, n_init=1, max_iter=40, tol=0, algorithm="lloyd").fit(
        X, sample_weight=w
    )
    for algorithm in ("hamerly", "yinyang"):
        ours = KMeans(k, init=init, n_init=1, max_iter=40, tol=0, algorithm=algorithm).fit(
            X, sample_weight=w
        )
        np.testing.assert_array_equal(ours.labels_, ref.labels_)
        assert ours.n_iter_ == ref.n_iter_
        if algorithm == "hamerly":
            rtol = 1e-10 if dtype == np.float64 else 1e-6
            np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=rtol,
                                       atol=rtol)
        else:
            np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)


@pytest.mark.parametrize(("algorithm", "d"), [("elkan", 40), ("hamerly", 40), ("hamerly", 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weights", ["none", "positive", "some zero"])
def test_moving_only_changed_rows_still_gives_lloyds_answer(dtype, weights, algorithm, d):
    """Elkan and Hamerly (both its passes: BLAS above 4 features, direct below) keep the
    clusters' sums and move only the rows that changed cluster; after many iterations, with
    empty clusters relocated on the way, the labels are still Lloyd's and the centres Lloyd's
    to rounding. Zero weights fall back to full sums every pass."""
    X = make_blobs(3000, d, 6, dtype, seed=7)
    rng = np.random.default_rng(3)
    w = {"none": None,
         "positive": rng.uniform(0.5, 2.0, size=len(X)),
         "some zero": np.where(rng.random(len(X)) < 0.1, 0.0, 1.0)}[weights]
    # 3 far-away starts (duplicated outliers) empty out at once: relocation, then changes
    init = np.vstack([X[rng.choice(len(X), 9, replace=False)], np.full((3, d), 1e3)])
    init = init.astype(dtype)
    runs = {
        algorithm: KMeans(12, init=init, n_init=1, max_iter=100, tol=0,
                          algorithm=algorithm).fit(X, sample_weight=w)
        for algorithm in ("lloyd", algorithm)
    }
    ref, ours = runs["lloyd"], runs[algorithm]
    assert ref.n_iter_ < 100  # converged, so the centres below are their rows' means
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.n_iter_ == ref.n_iter_
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=rtol,
                               atol=rtol)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=rtol)
    # and the centres are the means of their rows: nothing drifted
    for j in range(12):
        members = ours.labels_ == j
        weight = np.ones(len(X)) if w is None else w
        if weight[members].sum() > 0:
            mean = np.average(X[members].astype(np.float64), axis=0, weights=weight[members])
            np.testing.assert_allclose(ours.cluster_centers_[j], mean, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("algorithm", ["hamerly", "yinyang"])
def test_bound_algorithm_ties_go_to_the_first_centre_as_in_lloyd(algorithm):
    """Duplicate initial centres tie exactly; the labels (and so the result) still match."""
    X = np.repeat(np.arange(12.0).reshape(6, 2), 3, axis=0)
    init = np.array([[0.0, 1.0], [0.0, 1.0], [10.0, 11.0], [4.0, 5.0]])
    for max_iter in (1, 2, 10):
        ref = KMeans(4, init=init, n_init=1, max_iter=max_iter, algorithm="lloyd").fit(X)
        ours = KMeans(4, init=init, n_init=1, max_iter=max_iter, algorithm=algorithm).fit(X)
        np.testing.assert_array_equal(ours.labels_, ref.labels_)
        np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)


@pytest.mark.filterwarnings("ignore:Number of distinct clusters")  # a lattice: few points
def test_yinyang_ties_across_groups_go_to_the_first_centre():
    """Many duplicated centres spread over several groups: every row has exact ties between
    groups, and Yinyang still takes the first centre, as Lloyd does."""
    rng = np.random.default_rng(11)
    X = rng.integers(0, 6, size=(3000, 3)).astype(np.float64)  # a lattice: exact distances
    base = rng.integers(0, 6, size=(30, 3)).astype(np.float64)
    init = np.vstack([base, base[::-1], base + 0.5])  # every centre twice, far apart in order
    ref = KMeans(90, init=init, n_init=1, max_iter=8, tol=0, algorithm="lloyd").fit(X)
    ours = KMeans(90, init=init, n_init=1, max_iter=8, tol=0, algorithm="yinyang").fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)


def test_same_random_state_draws_the_same_start_as_scikit_learn():
    X = make_blobs(5000, 4, 10, np.float64, seed=1)
    for init in ("k-means++", "random"):
        ours = KMeans(10, init=init, n_init=3, random_state=42).fit(X)
        ref = SKKMeans(10, init=init, n_init=3, random_state=42).fit(X)
        np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-9)
        np.testing.assert_array_equal(ours.labels_, ref.labels_)


# low-d kernel, generic kernel, BLAS, BLAS with rows skipped by the triangle inequality
@pytest.mark.parametrize("d", [2, 3, 4, 8, 40, 96])
def test_kmeans_plusplus_matches_scikit_learn_indices(d):
    from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus

    X = make_blobs(4000, d, 16, np.float64, seed=2)
    w = np.random.default_rng(0).uniform(0.5, 2, size=len(X))
    for seed in range(3):
        centers, indices = kmeans_plusplus(X, 16, sample_weight=w, random_state=seed)
        _, ref = sk_kmeans_plusplus(X, 16, sample_weight=w, random_state=seed)
        np.testing.assert_array_equal(indices, ref)
        np.testing.assert_array_equal(centers, X[indices])


def test_first_seed_row_is_the_one_random_state_choice_picks():
    """k-means++ draws its first row as scikit-learn does, ``random_state.choice(n, p=w /
    w.sum())``, but in compiled code: the same row for the same draw, zero weights, ties and
    draws at a row's edge included."""
    from lloyd._kernels.seeding import weighted_row

    rng = np.random.default_rng(9)
    for trial in range(600):
        n = int(rng.integers(1, 2000))
        w = [np.ones(n), rng.uniform(0, 2, n) * (rng.random(n) < 0.7),
             rng.integers(0, 3, n).astype(float)][trial % 3]
        if w.sum() == 0:
            continue
        seed = int(rng.integers(2**31))
        expected = np.random.RandomState(seed).choice(n, p=w / w.sum())
        u = np.random.RandomState(seed).random_sample()
        assert weighted_row(w, w.sum(), u) == expected
        assert w[expected] > 0
    # a draw exactly at a running sum's end goes past it, as searchsorted(side='right') does
    w = np.array([1.0, 1.0, 2.0])
    assert weighted_row(w, 4.0, 0.5) == 2
    assert weighted_row(w, 4.0, 0.0) == 0


@pytest.mark.parametrize("d", [1, 3, 4])
def test_low_d_seeding_skips_far_chunks_without_changing_a_bit(d):
    """At d <= 4 a k-means++ step skips a chunk of rows when a candidate (or the last step's
    centre, taken in on the way) is at least the chunk's largest current distance from its
    bounding box: on sorted rows (as a palette's colour bins) many chunks are skipped, and the
    potentials and the updated distances are bit for bit those of measuring every chunk, and
    match float64 numpy; sampling with the centre pending picks the rows it picks after."""
    from lloyd._kernels import seeding as kernels

    rng = np.random.default_rng(4)
    n = 6000
    blob = np.sort(rng.integers(0, 12, size=n))  # sorted: a chunk holds one or two blobs
    X = rng.uniform(-10, 10, size=(12, d))[blob] + rng.normal(scale=0.5, size=(n, d))
    w = rng.uniform(0.5, 2.0, size=n)
    centres = X[[np.flatnonzero(blob == b)[0] for b in range(10)]]  # blobs 10, 11: far
    closest = ((X[:, None, :] - centres[None]) ** 2).sum(-1).min(1)
    n_chunks = -(-n // 256)
    Xt = np.empty((4 if d == 4 else 3, n))  # as plusplus_steps makes it
    lo, hi = np.empty((n_chunks, 4)), np.empty((n_chunks, 4))
    chunk_max = np.empty(n_chunks)
    kernels.chunk_boxes(X, closest, Xt, lo, hi, chunk_max)
    never = np.full(n_chunks, np.inf)  # no box is that far: every chunk measured
    cands = rng.choice(n, 8, replace=False)
    pots, full = np.empty((3, 8)), np.empty((3, 8))
    kernels.candidate_potentials_low_d(Xt, w, closest, cands, pots, lo, hi, chunk_max, -1)
    kernels.candidate_potentials_low_d(Xt, w, closest, cands, full, lo, hi, never, -1)
    np.testing.assert_array_equal(pots, full)
    to_cand = ((X[:, None, :] - X[cands][None]) ** 2).sum(-1)
    np.testing.assert_allclose(pots.sum(0), w @ np.minimum(closest[:, None], to_cand),
                               rtol=1e-12)
    gap = np.maximum(np.maximum(lo[:, None, :d] - X[cands][None], X[cands][None] - hi[:, None,
                                                                                        :d]), 0)
    skipped = (gap ** 2).sum(-1) >= chunk_max[:, None]
    assert skipped.sum() > 0.3 * skipped.size  # the data make it skip

    # The next step takes candidate 0 in on its way (pending): the same distances, potentials
    # and sampled rows as applying it first, whichever chunks are skipped.
    cands2 = rng.choice(n, 8, replace=False)
    after, after_full = closest.copy(), closest.copy()
    kept_max = chunk_max.copy()
    pots2, full2 = np.empty((3, 8)), np.empty((3, 8))
    kernels.candidate_potentials_low_d(Xt, w, after, cands2, pots2, lo, hi, kept_max, cands[0])
    kernels.candidate_potentials_low_d(Xt, w, after_full, cands2, full2, lo, hi, never.copy(),
                                       cands[0])
    np.testing.assert_array_equal(after, after_full)
    np.testing.assert_array_equal(pots2, full2)
    np.testing.assert_allclose(after, np.minimum(closest, to_cand[:, 0]), rtol=1e-12)
    to_cand2 = ((X[:, None, :] - X[cands2][None]) ** 2).sum(-1)
    np.testing.assert_allclose(pots2.sum(0), w @ np.minimum(after[:, None], to_cand2),
                               rtol=1e-12)
    # the chunks' largest distances stay true for the next step
    per_chunk = np.array([after[c * 256:(c + 1) * 256].max() for c in range(n_chunks)])
    assert (kept_max >= per_chunk).all()
    assert np.isclose(kept_max, per_chunk).sum() > 0.5 * n_chunks
    # candidate 0's potentials per block are the new distances' (what sampling walks through)
    np.testing.assert_allclose(pots[:, 0].sum(), w @ after, rtol=1e-12)
    targets = rng.uniform(0, 1, 50) * pots[:, 0].sum()
    picked, picked_applied = np.empty(50, np.intp), np.empty(50, np.intp)
    kernels.sample_rows(w, closest, pots[:, 0].copy(), targets, picked, Xt, cands[0])
    kernels.sample_rows(w, after, pots[:, 0].copy(), targets, picked_applied, Xt, -1)
    np.testing.assert_array_equal(picked, picked_applied)


@pytest.mark.parametrize("centred", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pruned_seeding_step_adds_what_the_full_step_adds(dtype, centred):
    """A high-d k-means++ step that skips rows by the triangle inequality must give the same
    potentials, to rounding, as the step that measures every row, and the same distances after
    the chosen centre is added; the data make it skip whole chunks and parts of chunks (whose
    kept rows are gathered for one product) and keep rows whose bound is close. ``centred``:
    the rows are those of ``X_raw − offset``, centred as the kernel reads them."""
    from lloyd._kernels import layout, reductions
    from lloyd._kernels import seeding as kernels

    rng = np.random.default_rng(7)
    d, n = 80, 6000
    means = rng.uniform(-4, 4, size=(6, d))
    # Sorted by blob: chunks of rows all near a centre (skipped), chunks of mixed blobs.
    blob = np.sort(rng.integers(0, 6, size=n))
    blob[4000:] = rng.integers(0, 6, size=2000)
    X = (means[blob] + rng.normal(size=(n, d))).astype(dtype)
    offset = None
    X_read = X
    if centred:  # the kernel reads X_read less offset: X, rounded as numpy rounds it
        offset = rng.uniform(-3, 3, size=d).astype(dtype)
        X_read = (X + offset).astype(dtype)
        X = X_read - offset
    centers = np.array([np.flatnonzero(blob == j)[0] for j in (0, 1, 2)])
    x_sq = np.empty(n)
    reductions.row_norms_sq(X, x_sq)
    full = ((X[:, None, :].astype(np.float64) - X[centers].astype(np.float64)) ** 2).sum(-1)
    nearest = full.argmin(1).astype(np.int32)
    closest = full.min(1)
    w = rng.uniform(0.5, 2.0, size=n).astype(dtype)
    cand_rows = np.array([np.flatnonzero(blob == 3)[5], np.flatnonzero(blob == 4)[5],
                          np.flatnonzero(blob == 0)[7]])
    cand = X[cand_rows]
    cand_t = np.ascontiguousarray(cand.T)
    cand_sq = x_sq[cand_rows]
    gap = np.empty(3)
    kernels.center_gaps(X, centers, 3, cand_t, gap)
    slack = layout.rounding_tie(X)
    results = []
    for prune in (False, True):
        products = np.zeros((n, 3), dtype=dtype)
        pots = np.empty((4, 3))
        kernels.product_potentials(X_read, cand, cand_t, x_sq, cand_sq, w, closest, nearest, gap,
                                   slack, prune, products, pots, offset)
        after, near_after, pot = closest.copy(), nearest.copy(), np.empty(4)
        kernels.product_add_center(products, 1, 3, x_sq, cand_sq, w, after, near_after, prune,
                                   pot)
        results.append((pots, after, pot, products))
    (full_pots, full_after, full_pot, _), (pots, after, pot, products) = results
    skipped = np.isneginf(products[:, 0])
    assert 1000 < skipped.sum() < n - 1000
    # Chunks (256 rows) skipped whole, kept whole, and in part (the gathering path).
    per_chunk = skipped[:n - n % 256].reshape(-1, 256).sum(1)
    assert (per_chunk == 256).any() and (per_chunk == 0).any()
    assert ((per_chunk > 0) & (per_chunk < 256)).any()
    # Sound: no candidate is nearer (float64 numpy) to a skipped row than its nearest centre.
    to_cand = ((X[:, None, :].astype(np.float64) - cand.astype(np.float64)) ** 2).sum(-1)
    assert (to_cand[skipped].min(1) >= closest[skipped]).all()
    # Some kept rows are nearer to a candidate than to any centre: the bound is not vacuous.
    assert (to_cand[~skipped].min(1) < closest[~skipped]).sum() > 100
    # The same sums as measuring every row (kept rows of a chunk are multiplied in a product
    # of their own, which BLAS may round differently: equal to rounding).
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(pots, full_pots, rtol=rtol)
    np.testing.assert_allclose(pot, full_pot, rtol=rtol)
    np.testing.assert_array_equal(after[skipped], closest[skipped])
    np.testing.assert_allclose(after, full_after, rtol=10 * rtol, atol=1e-9)
    np.testing.assert_allclose(after, np.minimum(closest, to_cand[:, 1]), rtol=1e-4, atol=1e-3)


def test_hamerly_does_not_stop_after_a_first_pass_that_leaves_every_label_at_zero():
    """Hamerly's first pass starts from placeholder labels (zeros): a first pass that puts
    every row in cluster 0 changes no label, yet the centres move (and empty ones are
    relocated), so the run must go on, as Lloyd's does."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 2))
    init = np.vstack([np.zeros((1, 2)), 1000.0 + rng.normal(size=(19, 2))])
    ref = KMeans(20, init=init, n_init=1, algorithm="lloyd").fit(X)
    ours = KMeans(20, init=init, n_init=1, algorithm="hamerly").fit(X)
    assert ref.n_iter_ > 1
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("layout", ["spread", "duplicates", "all equal", "k - 1 listed"])
def test_neighbour_table_lists_each_centres_nearest_in_order(layout):
    """Hamerly's table of every centre's m nearest others, against a stable float64 argsort:
    the same neighbours in the same order (equal distances in index order), their distances
    and coordinates, and half the nearest distance."""
    from lloyd._kernels import hamerly

    rng = np.random.default_rng(5)
    k, m = 200, 32
    centers = rng.uniform(0, 1, size=(k, 3))
    if layout == "duplicates":  # many exact ties, some at the m-th place
        centers = np.repeat(centers[:40], 5, axis=0)
    elif layout == "all equal":  # every distance 0
        centers = np.ones((k, 3))
    elif layout == "k - 1 listed":
        k = m + 1
        centers = centers[:k]
    nbr_index = np.empty((k, m), dtype=np.intp)
    nbr_dist = np.empty((k, m))
    nbr_coords = np.empty((k, 3, m))
    half_min, slack, built = np.empty(k), np.empty(k), np.empty((k, 3))
    hamerly.neighbour_table(centers, half_min, nbr_index, nbr_dist, nbr_coords, built, slack)
    dist_sq = ((centers[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(dist_sq, np.inf)
    order = np.argsort(dist_sq, axis=1, kind="stable")[:, :m]
    np.testing.assert_array_equal(nbr_index, order)
    np.testing.assert_allclose(nbr_dist, np.sqrt(np.take_along_axis(dist_sq, order, 1)),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(nbr_coords, centers[order].transpose(0, 2, 1))
    np.testing.assert_allclose(half_min, 0.5 * nbr_dist[:, 0])
    np.testing.assert_array_equal(built, centers)
    assert not slack.any()


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly"])
def test_over_relaxed_steps_end_on_a_fixed_point(algorithm):
    """The colour quantizer's over-relaxed steps (the engine's ``relaxation``): the run still
    ends with every centre the weighted mean of its rows and every row at its nearest centre
    (float64 numpy), in fewer iterations here than plain steps, which are KMeans' own."""
    from lloyd._runs import fit_weighted

    X = make_blobs(4000, 3, 40, np.float64, seed=11)
    w = np.random.default_rng(1).uniform(0.5, 3.0, size=len(X))
    init = X[:48].copy()
    plain = KMeans(48, init=init, n_init=1, tol=0, algorithm=algorithm).fit(X, sample_weight=w)
    same, _ = fit_weighted(X.copy(), w, 48, init=init, tol=0, algorithm=algorithm)
    np.testing.assert_array_equal(same.centers, plain.cluster_centers_)
    assert same.n_iter == plain.n_iter_
    model, _ = fit_weighted(X.copy(), w, 48, init=init, tol=0, algorithm=algorithm,
                            relaxation=1.8)
    assert model.n_iter < plain.n_iter_ < 300
    d2 = ((X[:, None, :] - model.centers[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(model.labels, d2.argmin(1))
    for j in range(48):
        rows = model.labels == j
        mean = (w[rows, None] * X[rows]).sum(0) / w[rows].sum()
        np.testing.assert_allclose(model.centers[j], mean, rtol=1e-12, atol=1e-12)


def test_kmeans_plusplus_does_not_depend_on_threads():
    import numba

    X = make_blobs(60_000, 3, 32, np.float32, seed=5)
    original = numba.get_num_threads()
    try:
        runs = []
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            runs.append(kmeans_plusplus(X, 32, random_state=0)[1])
    finally:
        numba.set_num_threads(original)
    np.testing.assert_array_equal(runs[0], runs[1])


def test_kmeans_plusplus_float32_and_distinct_rows():
    X = make_blobs(1000, 2, 5, np.float32, seed=3)
    centers, indices = kmeans_plusplus(X, 20, random_state=0)
    assert centers.dtype == np.float32
    assert len(set(indices.tolist())) == 20


# ---------------------------------------------------------------- behaviour


def test_threads_do_not_change_the_result():
    import numba

    X = make_blobs(50_000, 5, 16, np.float32, seed=4)
    w = np.random.default_rng(1).uniform(0.5, 2, size=len(X)).astype(np.float32)
    results = []
    original = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            for algorithm in ALGORITHMS:
                km = KMeans(16, random_state=0, algorithm=algorithm, max_iter=30).fit(
                    X, sample_weight=w
                )
                results.append((threads, algorithm, km.cluster_centers_.copy(), km.inertia_))
    finally:
        numba.set_num_threads(original)
    by_alg = {}
    for _, algorithm, centers, inertia in results:
        by_alg.setdefault(algorithm, []).append((centers, inertia))
    for runs in by_alg.values():
        (c1, i1), (c2, i2) = runs
        assert np.array_equal(c1, c2)  # bit-identical
        assert i1 == i2


@pytest.mark.parametrize(
    ("n_features", "expected"), [(1, "lloyd"), (3, "lloyd"), (4, "lloyd"), (5, "hamerly"),
                                 (32, "hamerly"), (33, "elkan"), (784, "elkan")]
)
def test_auto_picks_what_the_rule_says(n_features, expected):
    from lloyd._engine import LOW_D_MAX, choose_algorithm
    from lloyd._kernels.lloyd import LOW_D_MAX as KERNEL_LOW_D_MAX

    assert LOW_D_MAX == KERNEL_LOW_D_MAX

    assert choose_algorithm(10_000, n_features, 16, np.float32) == expected
    low_d = n_features <= 4
    assert choose_algorithm(10_000, n_features, 255, np.float64) == (
        "lloyd" if low_d else "hamerly")
    assert choose_algorithm(10_000, n_features, 255, np.float32) == (
        "lloyd" if low_d else "hamerly")
    # many clusters: Hamerly (ball scans at low d, BLAS-measured failures above)
    assert choose_algorithm(10_000, n_features, 256, np.float64) == "hamerly"
    assert choose_algorithm(10_000, n_features, 256, np.float32) == "hamerly"
    # Elkan's bounds too big for memory: Hamerly above 32 features
    big = "hamerly" if n_features > 32 else expected
    assert choose_algorithm(10**8, n_features, 16, np.float64) == big
    # at low d, Hamerly's bounds only while they take at most 64 MiB (4·2**20 rows)
    many = "lloyd" if low_d else "hamerly"
    assert choose_algorithm(4 * 2**20, n_features, 256, np.float32) == "hamerly"
    assert choose_algorithm(4 * 2**20 + 1, n_features, 256, np.float32) == many
    X = make_blobs(200, n_features, 3, np.float64, seed=n_features)
    km = KMeans(3, random_state=0, max_iter=5).fit(X)
    assert km.algorithm_ == expected
    assert KMeans(3, random_state=0, max_iter=5, algorithm="elkan").fit(X).algorithm_ == "elkan"
    X = make_blobs(600, n_features, 256, np.float64, seed=n_features)
    assert KMeans(256, random_state=0, n_init=1, max_iter=2).fit(X).algorithm_ == "hamerly"


def test_duplicating_a_row_equals_doubling_its_weight():
    X = make_blobs(500, 2, 3, np.float64, seed=5)
    init = X[:3].copy()
    w = np.ones(len(X))
    w[10] = 2.0
    doubled = KMeans(3, init=init, n_init=1, tol=0).fit(X, sample_weight=w)
    repeated = KMeans(3, init=init, n_init=1, tol=0).fit(np.vstack([X, X[10:11]]))
    np.testing.assert_allclose(doubled.cluster_centers_, repeated.cluster_centers_, rtol=1e-12)
    assert doubled.inertia_ == pytest.approx(repeated.inertia_, rel=1e-12)


def test_empty_cluster_is_relocated_never_nan():
    X = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [10.0, 10.0], [10.1, 10.0]])
    init = np.array([[0.0, 0.0], [10.0, 10.0], [100.0, 100.0]])  # the third is far from all
    for algorithm in ALGORITHMS:
        km = KMeans(3, init=init, n_init=1, algorithm=algorithm).fit(X)
        assert not np.isnan(km.cluster_centers_).any()
        assert len(np.unique(km.labels_)) == 3
        ref = SKKMeans(3, init=init, n_init=1, algorithm=sk_algorithm(algorithm)).fit(X)
        assert km.inertia_ == pytest.approx(ref.inertia_)


def test_labels_are_the_argmin_and_inertia_is_their_cost():
    X = make_blobs(3000, 4, 6, np.float64, seed=6)
    km = KMeans(6, random_state=0).fit(X)
    d = ((X[:, None, :] - km.cluster_centers_[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(km.labels_, d.argmin(axis=1))
    assert km.inertia_ == pytest.approx(d.min(axis=1).sum(), rel=1e-10)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    np.testing.assert_allclose(km.transform(X), np.sqrt(d), rtol=1e-10)
    assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-10)
    np.testing.assert_allclose(km.fit_transform(X), np.sqrt(d), rtol=1e-10)


def test_input_layouts_give_the_same_result_and_are_not_mutated():
    X = make_blobs(2000, 3, 4, np.float64, seed=8)
    init = X[:4].copy()
    expected = KMeans(4, init=init, n_init=1).fit(X).cluster_centers_
    fortran = np.asfortranarray(X)
    strided = np.repeat(X, 2, axis=0)[::2]
    readonly = X.copy()
    readonly.flags.writeable = False
    for variant in (fortran, strided, readonly):
        before = variant.copy()
        got = KMeans(4, init=init, n_init=1).fit(variant).cluster_centers_
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        np.testing.assert_array_equal(variant, before)
    copy_false = X.copy()
    KMeans(4, init=init, n_init=1, copy_x=False).fit(copy_false)
    np.testing.assert_allclose(copy_false, X, rtol=1e-12, atol=1e-12)
    got = KMeans(4, init=init, n_init=1, copy_x=False).fit(readonly).cluster_centers_
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_integer_input_becomes_float64():
    X = np.array([[0, 0], [0, 1], [9, 9], [9, 8]])
    km = KMeans(2, random_state=0).fit(X)
    assert km.cluster_centers_.dtype == np.float64


def test_n_init_keeps_the_best_run():
    X = make_blobs(3000, 2, 8, np.float64, seed=9)
    inertias = [KMeans(8, init="random", n_init=1, random_state=s).fit(X).inertia_
                for s in range(5)]
    best = KMeans(8, init="random", n_init=10, random_state=0).fit(X).inertia_
    assert best <= min(inertias) * (1 + 1e-9) or best <= np.median(inertias)


def test_tol_stops_early_and_strict_convergence_stops_too():
    X = make_blobs(5000, 2, 5, np.float64, seed=10)
    init = X[:5].copy()
    loose = KMeans(5, init=init, n_init=1, tol=1e-1).fit(X)
    strict = KMeans(5, init=init, n_init=1, tol=0, max_iter=1000).fit(X)
    ref_loose = SKKMeans(5, init=init, n_init=1, tol=1e-1).fit(X)
    assert loose.n_iter_ == ref_loose.n_iter_ < strict.n_iter_ < 1000


def test_verbose_prints_iterations(capsys):
    X = make_blobs(300, 2, 3, np.float64, seed=11)
    KMeans(3, random_state=0, verbose=1).fit(X)
    out = capsys.readouterr().out
    assert "Initialization complete" in out and "Iteration 0, inertia" in out


def test_explicit_init_with_n_init_warns():
    X = make_blobs(100, 2, 2, np.float64, seed=12)
    with pytest.warns(RuntimeWarning, match="performing only one init"):
        KMeans(2, init=X[:2], n_init=5).fit(X)


def test_callable_init():
    X = make_blobs(500, 2, 3, np.float64, seed=13)

    def first_rows(data, n_clusters, random_state):
        return data[:n_clusters]

    km = KMeans(3, init=first_rows, n_init=1).fit(X)
    ref = KMeans(3, init=X[:3] , n_init=1).fit(X)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_)


def test_public_api_exports():
    assert lloyd.KMeans is KMeans
    assert "KMeans" in lloyd.__all__ and "kmeans_plusplus" in lloyd.__all__


# ---------------------------------------------------------------- bad input


X_OK = np.arange(20.0).reshape(10, 2)


@pytest.mark.parametrize(
    ("params", "exc", "pattern"),
    [
        ({"n_clusters": 0}, ValueError, r"'n_clusters' parameter must be an int >= 1, got 0"),
        ({"n_clusters": 2.5}, ValueError, r"'n_clusters' parameter must be an int >= 1, got 2.5"),
        ({"n_clusters": 11}, ValueError, r"n_samples=10 should be >= n_clusters=11"),
        ({"n_init": 0}, ValueError, r"'n_init' parameter must be an int >= 1 or 'auto', got 0"),
        ({"max_iter": 0}, ValueError, r"'max_iter' parameter must be an int >= 1, got 0"),
        ({"tol": -1.0}, ValueError, r"'tol' parameter must be a float >= 0, got -1.0"),
        ({"algorithm": "fast"}, ValueError, r"'algorithm' parameter must be one of"),
        ({"init": "kmeans++"}, ValueError, r"'init' parameter must be 'k-means\+\+', 'afk-mc2', 'random'"),
        ({"init": np.zeros((3, 2)), "n_clusters": 2}, ValueError, r"initial centers \(3, 2\) does not match the number of clusters"),
        ({"init": np.zeros((2, 3)), "n_clusters": 2}, ValueError, r"initial centers \(2, 3\) does not match the number of features"),
        ({"init": np.array([[0.0, np.nan], [1, 1]]), "n_clusters": 2}, ValueError, r"init contains NaN"),
    ],
)
def test_bad_parameters(params, exc, pattern):
    with pytest.raises(exc, match=pattern):
        KMeans(**params).fit(X_OK)


def test_bad_sample_weight():
    with pytest.raises(ValueError, match="sample_weight has 3 values but X has 10 rows"):
        KMeans(2).fit(X_OK, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"Negative values in data passed to .sample_weight."):
        KMeans(2).fit(X_OK, sample_weight=-np.ones(10))
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero"):
        KMeans(2).fit(X_OK, sample_weight=np.zeros(10))
    with pytest.raises(ValueError, match="sample_weight contains NaN"):
        KMeans(2).fit(X_OK, sample_weight=np.full(10, np.nan))


def test_sparse_input_with_nan_is_a_clear_error():
    from scipy import sparse

    X = sparse.csr_matrix(X_OK)
    X.data[0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        KMeans(2).fit(X)


def test_predict_with_other_features_and_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        KMeans(2).predict(X_OK)
    km = KMeans(2, random_state=0).fit(X_OK)
    with pytest.raises(ValueError, match="X has 3 features, but KMeans is expecting 2"):
        km.predict(np.zeros((2, 3)))


def test_is_same_clustering_matches_a_relabelling_only():
    from lloyd._engine import is_same_clustering as _is_same_clustering

    a = np.array([0, 0, 1, 2, 2, 1])
    assert _is_same_clustering(a, np.array([2, 2, 0, 1, 1, 0]), 3)
    assert not _is_same_clustering(a, np.array([2, 2, 0, 1, 0, 0]), 3)
    assert not _is_same_clustering(a, np.array([2, 1, 0, 1, 1, 0]), 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elkan_settles_near_ties_as_lloyd_does(dtype):
    """Elkan measures distances in X's dtype in any order that vectorises: rows nearly as
    far from two centres (one is the other moved by 10⁻⁶, so that their distances differ about
    as much as float32 sums round) must get the label of the float64, feature-order measure,
    as Lloyd's kernel gives them, exact ties to the first."""
    from lloyd._kernels import elkan, layout
    from lloyd._kernels.distances import nearest_exact as _nearest_exact
    from lloyd._runs import _bound_margin

    rng = np.random.default_rng(7)
    n, d, pairs = 4000, 48, 6
    X = rng.uniform(-3, 3, size=(n, d)).astype(dtype)
    base = X[rng.choice(n, pairs, replace=False)] + dtype(0.25)
    twin = (base + rng.normal(scale=1e-6, size=base.shape)).astype(dtype)
    centers = np.ascontiguousarray(np.stack([base, twin], axis=1).reshape(2 * pairs, d))
    expected = np.array([_nearest_exact(X, i, centers) for i in range(n)])
    k = len(centers)
    half, nxt = np.empty((k, k), dtype), np.empty(k, dtype)
    elkan.half_distances(centers, half, nxt)
    margin = _bound_margin(X, centers, np.finfo(dtype).eps)
    labels, upper, lower = np.empty(n, np.int32), np.empty(n, dtype), np.empty((n, k), dtype)
    nb = layout.n_blocks(n, k, d)
    sums, weights = np.empty((nb, k, d)), np.empty((nb, k))
    w = rng.uniform(0.5, 2.0, size=n).astype(dtype)
    elkan.init_bounds(X, w, centers, half, margin, labels, upper, lower, sums, weights,
                      np.empty((nb, k), np.int64), layout.FULL)
    np.testing.assert_array_equal(labels, expected)
    # In the same read, the first pass's sums: each cluster's weighted sum (float64 numpy).
    for j in range(k):
        rows = expected == j
        np.testing.assert_allclose(sums.sum(axis=0)[j], (w[rows, None] * X[rows]).astype(
            np.float64).sum(axis=0), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(weights.sum(axis=0)[j], w[rows].astype(np.float64).sum(),
                                   rtol=1e-12)
    # a pass from the wrong twin, bounds wide open, measures and decides again
    labels[:] = expected ^ 1
    upper[:] = np.inf
    lower[:] = 0.0
    elkan.elkan_pass(X, np.ones(n, dtype), centers, half, nxt, margin, labels, upper, lower,
                     sums, weights, np.empty((nb, k), np.int64), layout.LABELS_ONLY)
    np.testing.assert_array_equal(labels, expected)
    assert len(np.unique(expected)) == 2 * pairs  # both twins of each pair win somewhere


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_float32_low_d_pass_labels_and_sums_equal_the_float64_kernels(d):
    """The float32 low-dimension pass measures in float32 and re-measures near-ties in float64:
    on a lattice with exact ties and ties broken by one float32 ulp, its labels and sums equal
    those of the float64-measuring pass, bit for bit."""
    from lloyd._kernels import layout
    from lloyd._kernels.lloyd import _lloyd_pass_low_d, _lloyd_pass_low_d32

    rng = np.random.default_rng(d)
    X = rng.integers(-4, 5, size=(5000, d)).astype(np.float32)
    X[::3] += np.float32(1e-6) * rng.choice([-1, 1], size=(len(X[::3]), d))  # near-ties
    centers = (rng.integers(-8, 9, size=(40, d)) / 2).astype(np.float32)  # midpoints: ties
    centers[5] = centers[2]  # duplicate centres tie exactly everywhere
    w = rng.uniform(0.5, 2, size=len(X)).astype(np.float32)
    nb = layout.n_blocks(len(X), 40, d)
    out = []
    for kernel, extra in ((_lloyd_pass_low_d32, ()), (_lloyd_pass_low_d, (np.zeros(0, np.float32),))):
        labels = np.empty(len(X), np.int32)
        sums, weights = np.empty((nb, 40, d)), np.empty((nb, 40))
        kernel(X, w, centers, labels, sums, weights, True, *extra)
        out.append((labels, sums, weights))
    (l32, s32, w32), (l64, s64, w64) = out
    np.testing.assert_array_equal(l32, l64)
    np.testing.assert_array_equal(s32, s64)
    np.testing.assert_array_equal(w32, w64)
    # and the labels are the float64 argmin, first centre on ties
    dist = ((X[:, None, :].astype(np.float64) - centers[None].astype(np.float64)) ** 2).sum(2)
    np.testing.assert_array_equal(l32, np.argmin(dist, axis=1))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tolerance_is_tol_times_the_mean_feature_variance(dtype):
    """The stopping threshold is tol × the mean of the features' variances, as scikit-learn's
    (computed here in compiled passes), checked against a float64 numpy computation."""
    from lloyd._engine import tolerance as _tolerance
    from lloyd._kernels import reductions

    rng = np.random.default_rng(3)
    X = (rng.normal(size=(20001, 7)) * [1, 2, 3, 4, 5, 6, 1e3] + 1e4).astype(dtype)
    expected = 1e-4 * np.var(X.astype(np.float64), axis=0).mean()
    assert _tolerance(X, 1e-4) == pytest.approx(expected, rel=1e-9)
    assert _tolerance(X, 0) == 0.0
    mean, squares = reductions.column_moments(X, 7, False)
    np.testing.assert_allclose(mean, X.astype(np.float64).mean(axis=0), rtol=1e-12)
    assert not squares.any()


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan", "hamerly", "yinyang"])
def test_progress_is_a_keyword_called_after_every_iteration(algorithm):
    """``KMeans._fit(progress=)`` (lloyd cluster's progress bar) ticks once per iteration of
    every run, and changes nothing in the answer."""
    X = make_blobs(600, 3, 5, np.float64, seed=4)
    ticks = []
    km = KMeans(5, random_state=0, n_init=2, algorithm=algorithm)
    km._fit(X, progress=lambda: ticks.append(1))
    plain = KMeans(5, random_state=0, n_init=2, algorithm=algorithm).fit(X)
    np.testing.assert_array_equal(km.cluster_centers_, plain.cluster_centers_)
    assert km.n_iter_ <= len(ticks) <= 2 * 300 and len(ticks) > 2


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan", "hamerly", "yinyang"])
@pytest.mark.parametrize(("n_distinct", "repeats", "d", "k"), [(3, 20, 4, 6), (5, 40_000, 8, 8)])
def test_fewer_distinct_rows_than_clusters_converges(algorithm, n_distinct, repeats, d, k):
    """An empty cluster is never moved onto a row already at distance 0 from its centre: with
    fewer distinct rows than clusters the fit settles at once, as scikit-learn's does (it ran
    all 300 iterations, 21-24 s at 200 000 x 8), each distinct row its own cluster."""
    distinct = np.random.RandomState(0).rand(n_distinct, d)
    which = np.repeat(np.arange(n_distinct), repeats)  # the np.repeat(rows, r, axis=0)
    X = distinct[which]
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        km = KMeans(n_clusters=k, algorithm=algorithm, n_init=1, random_state=0).fit(X)
    assert km.n_iter_ <= 3
    assert km.inertia_ == pytest.approx(0.0, abs=1e-20)
    # rows equal iff labels equal: one cluster per distinct row, at that row
    label_of = km.labels_[::repeats]
    assert len(set(label_of.tolist())) == n_distinct
    np.testing.assert_array_equal(km.labels_, label_of[which])
    np.testing.assert_allclose(km.cluster_centers_[label_of], distinct, rtol=0, atol=1e-12)
