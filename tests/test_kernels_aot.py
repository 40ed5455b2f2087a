"""The ahead-of-time (Cython + OpenMP) kernels: exact against float64 numpy, the same whatever the
number of threads, and loaded without numba."""

import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from lloyd._kernels import common
from lloyd._kernels.lloyd_low_d import lloyd_pass_low_d
from lloyd._threads import MIN_WORK_PER_THREAD, kernel_threads


def _reference(X, w, centers, offset):
    """Labels (float64 argmin, first on ties) and per-cluster sums and weights, in float64
    numpy, with each row's share rounded as the kernel's contract says: w·(x − offset) in X's
    dtype, summed in float64."""
    Xo = X - offset.astype(X.dtype) if offset.size else X
    dist = ((Xo[:, None, :].astype(np.float64) - centers[None].astype(np.float64)) ** 2).sum(2)
    labels = np.argmin(dist, axis=1)
    k, d = centers.shape
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    np.add.at(sums, labels, (w[:, None] * Xo).astype(np.float64))
    np.add.at(weights, labels, w.astype(np.float64))
    return labels, sums, weights


def _run(X, w, centers, offset, measure_f32, n_threads, n_blocks=None):
    n, d = X.shape
    k = len(centers)
    nb = n_blocks or common.n_blocks(n, k, d)
    labels = np.full(n, -1, np.int32)
    sums, weights = np.empty((nb, k, d)), np.empty((nb, k))
    changed = lloyd_pass_low_d(X, w, centers, labels, sums, weights, True, offset, measure_f32,
                               n_threads)
    return changed, labels, sums, weights


@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize(("dtype", "measure_f32"),
                         [(np.float64, False), (np.float32, False), (np.float32, True)])
def test_low_d_pass_equals_float64_numpy(d, dtype, measure_f32):
    """Labels are numpy's float64 argmin (ties to the first centre, on a lattice full of exact
    ties); per-cluster sums agree with a float64 numpy sum to rounding."""
    rng = np.random.default_rng(d)
    X = rng.integers(-4, 5, size=(3001, d)).astype(dtype)
    centers = (rng.integers(-8, 9, size=(13, d)) / 2).astype(dtype)  # midpoints: exact ties
    centers[7] = centers[3]  # a duplicate centre never wins
    w = rng.uniform(0.5, 2, size=len(X)).astype(dtype)
    offset = np.zeros(0, dtype)
    changed, labels, sums, weights = _run(X, w, centers, offset, measure_f32, 2)
    ref_labels, ref_sums, ref_weights = _reference(X, w, centers, offset)
    np.testing.assert_array_equal(labels, ref_labels)
    assert changed == len(X)  # every label was -1
    assert not (labels == 7).any()
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(sums.sum(0), ref_sums, rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(weights.sum(0), ref_weights, rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_offset_is_subtracted_on_the_fly(dtype):
    """With an offset the pass sees X − offset (rounded in X's dtype) without a copy of X."""
    rng = np.random.default_rng(5)
    X = (rng.normal(size=(2000, 3)) * 3 + 100).astype(dtype)
    offset = X.mean(0).astype(dtype)
    centers = (X[rng.choice(len(X), 6, replace=False)] - offset).astype(dtype)
    w = np.ones(len(X), dtype)
    _, labels, sums, _ = _run(X, w, centers, offset, False, 1)
    ref_labels, ref_sums, _ = _reference(X, w, centers, offset)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(sums.sum(0), ref_sums, rtol=1e-9 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize(("dtype", "measure_f32"),
                         [(np.float64, False), (np.float32, False), (np.float32, True)])
def test_low_d_pass_does_not_depend_on_the_number_of_threads(dtype, measure_f32):
    """64 blocks, shared among 1, 2 or 3 threads (dynamically): labels, per-block sums and the
    change count are identical, bit for bit."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(60_000, 3)).astype(dtype)
    centers = X[rng.choice(len(X), 37, replace=False)].copy()
    w = rng.uniform(0.1, 3, size=len(X)).astype(dtype)
    runs = [_run(X, w, centers, np.zeros(0, dtype), measure_f32, t, 64) for t in (1, 2, 3)]
    for changed, labels, sums, weights in runs[1:]:
        assert changed == runs[0][0]
        np.testing.assert_array_equal(labels, runs[0][1])
        np.testing.assert_array_equal(sums, runs[0][2])
        np.testing.assert_array_equal(weights, runs[0][3])


def test_changed_counts_only_labels_that_moved():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5000, 2))
    centers = X[:5].copy()
    w = np.ones(len(X))
    _, labels, _, _ = _run(X, w, centers, np.zeros(0), False, 2)
    labels[:17] = (labels[:17] + 1) % 5
    sums, weights = np.empty((4, 5, 2)), np.empty((4, 5))
    changed = lloyd_pass_low_d(X, w, centers, labels, sums, weights, False, np.zeros(0), False, 2)
    assert changed == 17


def test_thread_count_follows_the_work():
    """No parallel region for a pass below MIN_WORK_PER_THREAD distances a thread; the rest
    share the work up to OpenMP's limit, which threadpoolctl sets as it does scikit-learn's."""
    with threadpool_limits(limits=2, user_api="openmp"):
        assert kernel_threads(0) == 1
        assert kernel_threads(MIN_WORK_PER_THREAD - 1) == 1
        assert kernel_threads(2 * MIN_WORK_PER_THREAD) == min(2, kernel_threads(None))
        assert kernel_threads(10**12) == kernel_threads(None)
    with threadpool_limits(limits=1, user_api="openmp"):
        assert kernel_threads(10**12) == 1
        assert kernel_threads(None) == 1


def test_chunk_is_one_value_for_both_kernel_kinds():
    from lloyd._kernels.blocks import CHUNK

    assert common.CHUNK == CHUNK == 256


def test_the_low_d_pass_loads_without_numba():
    """The palette and 2-D paths run this kernel: importing it must not import numba (0.5 s)."""
    code = ("import sys, lloyd._kernels.lloyd; "
            "print(sorted(m for m in ('numba', 'sklearn', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# ---- k-means++ seeding kernels (plusplus.pyx, through the seeding dispatcher) -------------------


def _seeding_data(n, d, dtype, seed=0):
    """Sorted blobs (chunks hold one or two, as a palette's colour bins) and weights."""
    rng = np.random.default_rng(seed)
    blob = np.sort(rng.integers(0, 9, size=n))
    X = (rng.uniform(-10, 10, size=(9, d))[blob] + rng.normal(size=(n, d))).astype(dtype)
    w = rng.uniform(0.5, 2.0, size=n).astype(dtype)
    return X, w


def _sq_to(X, rows):
    """Squared distances (n, len(rows)) from every row to the given rows, float64 numpy."""
    X64 = X.astype(np.float64)
    return ((X64[:, None, :] - X64[rows][None]) ** 2).sum(-1)


@pytest.mark.parametrize("d", [1, 3, 4, 7])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_closest_distances_and_potentials_equal_float64_numpy(d, dtype):
    """init_closest then add_center: each row's D² to its closest centre is numpy's float64 one
    (feature order, bit for bit at d <= 4 where numpy's sum is sequential), and each block's
    potential Σ w·D² agrees with numpy's sum over the block's rows."""
    from lloyd._kernels import seeding

    X, w = _seeding_data(5000, d, dtype)
    n_blocks = 7
    closest, pot = np.empty(len(X)), np.empty(n_blocks)
    seeding.init_closest(X, w, 17, closest, pot, n_threads=2)
    seeding.add_center(X, w, 4000, closest, pot, n_threads=2)
    seeding.add_center(X, w, 2500, closest, pot, n_threads=2)
    ref = _sq_to(X, [17, 4000, 2500]).min(1)
    if d <= 4:
        np.testing.assert_array_equal(closest, ref)
    else:
        np.testing.assert_allclose(closest, ref, rtol=1e-14)
    n_chunks = -(-len(X) // 256)
    per = -(-n_chunks // n_blocks) * 256  # whole 256-row chunks a block
    ref_pot = [np.sum(w[b * per:(b + 1) * per].astype(np.float64) * ref[b * per:(b + 1) * per])
               for b in range(n_blocks)]
    np.testing.assert_allclose(pot, ref_pot, rtol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_candidate_potentials_equal_float64_numpy(d, dtype):
    """Σ w·min(D², ‖x − x_c‖²) for each candidate: the general kernel and (d <= 4) the columns
    kernel, which skips chunks far from a candidate, both equal numpy's float64 sum; the
    columns kernel, taking in the last centre on the way, leaves the D² numpy computes."""
    from lloyd._kernels import seeding

    X, w = _seeding_data(6000, d, dtype, seed=d)
    centres = [5, 3100, 5900]
    closest = _sq_to(X, centres).min(1)
    cands = np.array([10, 700, 2999, 4500, 5999], dtype=np.intp)
    expected = w.astype(np.float64) @ np.minimum(closest[:, None], _sq_to(X, cands))
    pots = np.empty((5, len(cands)))
    seeding.candidate_potentials(X, w, closest, cands, pots, n_threads=2)
    np.testing.assert_allclose(pots.sum(0), expected, rtol=1e-12)
    if d > 4:
        return
    n_chunks = -(-len(X) // 256)
    Xt = np.empty((4 if d == 4 else 3, len(X)), dtype)
    lo, hi, top = np.empty((n_chunks, 4)), np.empty((n_chunks, 4)), np.empty(n_chunks)
    before = _sq_to(X, centres[:2]).min(1)  # the third centre still pending
    seeding.chunk_boxes(X, before, Xt, lo, hi, top, n_threads=2)
    np.testing.assert_array_equal(Xt[:d], X.T)
    np.testing.assert_array_equal(top, [before[c * 256:(c + 1) * 256].max()
                                        for c in range(n_chunks)])
    low = np.empty((5, len(cands)))
    seeding.candidate_potentials_low_d(Xt, w, before, cands, low, lo, hi, top, centres[2],
                                       n_threads=2)
    np.testing.assert_array_equal(before, closest)
    np.testing.assert_allclose(low.sum(0), expected, rtol=1e-12)


def test_weighted_draws_are_numpys_searchsorted():
    """sample_rows draws the first row whose running sum of w·D² exceeds the target (numpy's
    ``searchsorted(cumsum, target, 'right')``), the last row when rounding leaves the sum
    short, never a row of weight or distance 0; with a centre pending, the D² it will leave.
    Integer weights and distances: every running sum is exact, the draws compared exactly."""
    from lloyd._kernels import seeding

    rng = np.random.default_rng(1)
    n = 5000
    X = rng.integers(0, 6, size=(n, 3)).astype(np.float64)
    w = rng.integers(0, 3, size=n).astype(np.float64)
    closest = _sq_to(X, [0, 1]).min(1)
    pending = 2
    after = np.minimum(closest, _sq_to(X, [pending])[:, 0])
    cumulative = np.cumsum(w * after)
    targets = np.concatenate([rng.uniform(0, 1, 200) * cumulative[-1],
                              cumulative[[0, 100, 4998]], [cumulative[-1], 2 * cumulative[-1]]])
    block_pot = np.add.reduceat(w * after, np.arange(0, n, 1024))
    Xt = np.ascontiguousarray(X.T)
    out = np.empty(len(targets), np.intp)
    seeding.sample_rows(w, closest, block_pot, targets, out, Xt, pending)
    expected = np.minimum(np.searchsorted(cumulative, targets, side="right"), n - 1)
    np.testing.assert_array_equal(out, expected)
    assert (w[out[:200]] * after[out[:200]] > 0).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_high_d_step_parts_equal_float64_numpy(dtype):
    """center_gaps: each centre's distance to its nearest candidate, shrunk by 10⁻¹²;
    product_add_center: D² from the products ‖x‖² − 2 x·c + ‖c‖² (clipped at 0), the nearest
    centre tracked, Σ w·D² per block."""
    from lloyd._kernels import seeding

    rng = np.random.default_rng(8)
    X = rng.normal(size=(3000, 24)).astype(dtype)
    w = rng.uniform(0.5, 2, size=len(X)).astype(dtype)
    centres, cands = np.array([3, 50, 900]), np.array([7, 1200, 2900])
    gap = np.empty(3)
    seeding.center_gaps(X, centres, 3, np.ascontiguousarray(X[cands].T), gap)
    exact_gap = np.sqrt(_sq_to(X, cands)[centres].min(1))
    np.testing.assert_allclose(gap, exact_gap * (1 - 1e-12), rtol=1e-14)
    assert (gap < exact_gap).all()
    X64 = X.astype(np.float64)
    products = (X64 @ X64[cands].T).astype(dtype)
    x_sq = (X64 ** 2).sum(1)
    closest = _sq_to(X, centres).min(1)
    nearest = _sq_to(X, centres).argmin(1).astype(np.int32)
    pot = np.empty(4)
    seeding.product_add_center(products, 1, 3, x_sq, x_sq[cands], w, closest, nearest, True,
                               pot, n_threads=2)
    to_new = np.maximum(x_sq - 2.0 * products[:, 1].astype(np.float64) + x_sq[cands[1]], 0.0)
    ref = np.minimum(_sq_to(X, centres).min(1), to_new)
    np.testing.assert_array_equal(closest, ref)
    np.testing.assert_array_equal(nearest == 3, to_new < _sq_to(X, centres).min(1))
    np.testing.assert_allclose(pot.sum(), w.astype(np.float64) @ ref, rtol=1e-12)


@pytest.mark.parametrize("d", [3, 4, 9])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_seeding_kernels_do_not_depend_on_the_number_of_threads(d, dtype):
    """64 blocks over 1, 2 or 3 threads: the same D², potentials and chosen rows, bit for
    bit, for the whole of k-means++'s compiled loop and for its kernels one by one."""
    from lloyd._kernels import seeding

    X, w = _seeding_data(60_000, d, dtype, seed=3)
    rng = np.random.default_rng(0)
    uniforms = rng.uniform(size=(23, 5))
    cands = np.sort(rng.choice(len(X), 5, replace=False))

    def run(n_threads):
        closest, pot = np.empty(len(X)), np.empty(64)
        seeding.init_closest(X, w, 123, closest, pot, n_threads=n_threads)
        pots = np.empty((64, 5))
        seeding.candidate_potentials(X, w, closest, cands, pots, n_threads=n_threads)
        after, pot_after = closest.copy(), pot.copy()
        seeding.add_center(X, w, 40_000, after, pot_after, n_threads=n_threads)
        indices = np.full(24, 123, np.intp)
        steps_closest, steps_pot = closest.copy(), pot.copy()
        seeding.plusplus_steps(X, w, steps_closest, steps_pot, uniforms, d <= 4, indices,
                               np.empty(5, np.intp), np.empty((64, 5)), np.empty(5),
                               n_threads=n_threads)
        return closest, pot, pots, after, pot_after, indices, steps_closest

    runs = [run(t) for t in (1, 2, 3)]
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)
    assert len(set(runs[0][5])) == 24  # 24 distinct rows chosen


def test_low_d_seeding_matches_the_kernels_one_step_at_a_time():
    """plusplus_steps (compiled loop, centre applied lazily) picks, at d = 3, the rows that
    sample_rows + candidate_potentials + add_center pick when called step by step."""
    from lloyd._kernels import seeding

    X, w = _seeding_data(20_000, 3, np.float32, seed=5)
    uniforms = np.random.default_rng(2).uniform(size=(15, 4))
    closest, pot = np.empty(len(X)), np.empty(9)
    seeding.init_closest(X, w, 0, closest, pot)
    fast = np.zeros(16, np.intp)
    seeding.plusplus_steps(X, w, closest.copy(), pot.copy(), uniforms, True, fast,
                           np.empty(4, np.intp), np.empty((9, 4)), np.empty(4))
    slow = np.zeros(16, np.intp)
    cands, pots = np.empty(4, np.intp), np.empty((9, 4))
    for c in range(1, 16):
        seeding.sample_rows(w, closest, pot, uniforms[c - 1] * pot.sum(), cands,
                            np.empty((3, 0), np.float32), -1)
        seeding.candidate_potentials(X, w, closest, cands, pots)
        slow[c] = cands[np.argmin(pots.sum(0))]
        seeding.add_center(X, w, slow[c], closest, pot)
    np.testing.assert_array_equal(fast, slow)


def test_the_low_d_seeding_loads_and_runs_without_numba():
    """The palette path seeds 3-D colours with these kernels: importing and running them must
    import neither numba nor scipy."""
    code = ("import sys, numpy as np\n"
            "from lloyd._kernels import seeding\n"
            "X = np.random.default_rng(0).uniform(size=(3000, 3)).astype(np.float32)\n"
            "w = np.ones(3000, np.float32)\n"
            "closest, pot = np.empty(3000), np.empty(2)\n"
            "first = seeding.weighted_row(w.astype(float), 3000.0, 0.3)\n"
            "seeding.init_closest(X, w, first, closest, pot)\n"
            "idx = np.full(8, first, np.intp)\n"
            "seeding.plusplus_steps(X, w, closest, pot, np.full((7, 3), 0.5), True, idx,\n"
            "                       np.empty(3, np.intp), np.empty((2, 3)), np.empty(3))\n"
            "assert len(set(idx.tolist())) == 8\n"
            "print(sorted(m for m in ('numba', 'sklearn', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
