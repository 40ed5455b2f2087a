"""The ahead-of-time (Cython + OpenMP) kernels: exact against float64 numpy, the same whatever the
number of threads, and loaded without numba."""

import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from lloyd._kernels import layout, reductions
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
    nb = n_blocks or layout.n_blocks(n, k, d)
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


@pytest.fixture
def quiet_machine(monkeypatch):
    """The thread rule's decisions as on a machine no other process keeps busy."""
    from lloyd import _threads

    monkeypatch.setattr(_threads, "others_running", lambda: 0)


def test_busy_cores_are_left_to_their_processes(monkeypatch):
    """A parallel region waits for its slowest thread: no more threads than the cores other
    processes leave idle, never fewer than one, and a pinned count is kept as it is."""
    from lloyd import _threads
    from lloyd._threads import limit_threads

    monkeypatch.setattr(_threads, "_cores", lambda: 4)
    big = 10**12
    with threadpool_limits(limits=4, user_api="openmp"):
        for others, expected in ((0, 4), (1, 3), (3, 1), (4, 1), (9, 1)):
            monkeypatch.setattr(_threads, "others_running", lambda others=others: others)
            assert kernel_threads(big) == expected
            assert kernel_threads(None) == expected
            assert kernel_threads(MIN_WORK_PER_THREAD) == 1  # too small to ask
        with limit_threads(2):
            assert kernel_threads(big) == 2


def test_others_running_reads_this_machine():
    """On Linux the count comes from /proc and is cached; it is never negative."""
    from lloyd import _threads

    _threads._busy["at"] = -1.0
    first = _threads.others_running()
    assert first >= 0
    assert _threads.others_running() == first  # within BUSY_TTL: the cached count


def test_a_busy_reading_counts_once_the_next_confirms_it(monkeypatch):
    """A task seen runnable in one reading only (a kernel worker, a thread going to sleep) does
    not take a core away; one seen in two readings in a row does, until a reading misses it."""
    from lloyd import _threads

    readings = iter([0, 2, 0, 2, 2, 1, 0])
    clock = iter(range(100))
    monkeypatch.setattr(_threads, "_read_others", lambda: next(readings))
    monkeypatch.setattr(_threads.time, "monotonic", lambda: next(clock) * 2 * _threads.BUSY_TTL)
    monkeypatch.setitem(_threads._busy, "at", -10.0)
    assert [_threads.others_running() for _ in range(7)] == [0, 0, 0, 0, 2, 1, 0]
    # A reading older than BUSY_CONFIRM confirms nothing: the new one stands alone.
    monkeypatch.setattr(_threads, "_read_others", lambda: 3)
    monkeypatch.setattr(_threads.time, "monotonic", lambda: 10**6)
    assert _threads.others_running() == 3


def test_numba_kernels_leave_busy_cores_too(monkeypatch):
    """numba's kernels take the same decision as the compiled ones for the enclosed passes,
    never more than numba's own count, and give the count back; a pinned count is kept."""
    numba = pytest.importorskip("numba")
    from lloyd import _threads
    from lloyd._threads import limit_threads, numba_threads

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")
    monkeypatch.setattr(_threads, "_cores", lambda: 2)
    before = numba.get_num_threads()
    with threadpool_limits(limits=2, user_api="openmp"):
        for others, expected in ((0, min(2, before)), (1, 1), (5, 1)):
            monkeypatch.setattr(_threads, "others_running", lambda others=others: others)
            with numba_threads(10**12):
                assert numba.get_num_threads() == expected
            assert numba.get_num_threads() == before
            with numba_threads(0):  # too small a pass for a second thread
                assert numba.get_num_threads() == 1
        with limit_threads(2), numba_threads(10**12):
            assert numba.get_num_threads() == 2


def test_thread_count_follows_the_work(quiet_machine):
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


def test_limit_threads_pins_both_kinds_of_kernel(quiet_machine):
    """Dask workers and small mini-batch steps pin every kernel to one thread, numba's and the
    ahead-of-time ones alike, and get the previous counts back after."""
    import numba

    from lloyd._threads import limit_threads, threads_for

    before = (kernel_threads(10**12), numba.get_num_threads())
    with limit_threads(1):
        assert kernel_threads(10**12) == 1
        assert numba.get_num_threads() == 1
        with limit_threads(None):  # None leaves the pinned count alone
            assert kernel_threads(10**12) == 1
    assert (kernel_threads(10**12), numba.get_num_threads()) == before
    with threads_for(10, 2, 3):  # 60 multiply-adds: one thread
        assert kernel_threads(10**12) == 1
    with threads_for(10**6, 64, 32):
        assert kernel_threads(10**12) == before[0]


def test_chunk_is_one_value_for_both_kernel_kinds():
    from lloyd._kernels.blocks import CHUNK

    assert layout.CHUNK == CHUNK == 256


def test_the_low_d_pass_loads_without_numba():
    """The palette and 2-D paths run this kernel: importing it must not import numba (0.5 s)."""
    code = ("import sys, lloyd._kernels.lloyd; "
            "print(sorted(m for m in ('numba', 'sklearn', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- reductions.pyx, histogram.pyx

from lloyd._kernels.layout import n_blocks as layout_n_blocks  # noqa: E402

FLOATS = [np.float32, np.float64]
THREADS = (1, 2, 3)


def _ints(rng, shape, low, high, dtype):
    """Small integers: every sum, square and difference of them is exact in float32, so a
    kernel and a float64 numpy reference must agree bit for bit, whatever the order."""
    return rng.integers(low, high + 1, size=shape).astype(dtype)


def _feature_order_sq(X, C):
    """The distances' contract in numpy: differences and squares in the data's dtype, summed
    in float64 feature after feature. X (n, d), C (n, d): row i against C[i]."""
    s = np.zeros(len(X))
    for f in range(X.shape[1]):
        diff = X[:, f] - C[:, f]
        s += (diff * diff).astype(np.float64)
    return s


@pytest.mark.parametrize("dtype", FLOATS)
def test_finite_max_abs_hand_worked(dtype):
    X = np.array([[1.0, -3.0], [2.5, 0.0], [-0.0, 2.0]], dtype)
    assert reductions.finite_max_abs(X) == (True, 3.0)
    X[1, 0] = np.nan
    assert reductions.finite_max_abs(X) == (False, 3.0)  # a NaN is no magnitude
    X[1, 0] = -np.inf
    finite, largest = reductions.finite_max_abs(X)
    assert not finite
    assert largest == np.inf
    assert reductions.finite_max_abs(np.empty((0, 4), dtype)) == (True, 0.0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_finite_max_abs_equals_numpy_on_many_blocks(dtype, bad):
    """64 blocks, tails of 8 values and of rows included: numpy's answer for 1, 2 and 3
    threads, with one bad value anywhere (here, in the last row)."""
    rng = np.random.default_rng(4)
    X = (rng.standard_cauchy(size=(40_001, 7)) * 100).astype(dtype)
    expected = float(np.max(np.abs(X.astype(np.float64))))
    for t in THREADS:
        assert reductions.finite_max_abs(X, t) == (True, expected)
    X[-1, 6] = bad
    big = np.inf if np.isinf(bad) else expected
    for t in THREADS:
        assert reductions.finite_max_abs(X, t) == (False, big)


@pytest.mark.parametrize("dtype", FLOATS)
def test_column_moments_equal_float64_numpy(dtype):
    """Symmetric integer columns around integer means: sums, means and squared deviations are
    exact, so the kernel equals numpy bit for bit; and for 1, 2 and 3 threads on real-valued
    data too (the blocks, not the threads, fix the order)."""
    rng = np.random.default_rng(8)
    half = _ints(rng, (15_000, 5), -50, 50, np.float64)
    X = (np.concatenate([half, -half]) + np.array([3, -7, 0, 1000, 12]))[rng.permutation(30_000)]
    X = X.astype(dtype)
    ref = X.astype(np.float64)
    nb = layout_n_blocks(len(X), 1, 5)
    mean, squares = reductions.column_moments(X, nb, True)
    np.testing.assert_array_equal(mean, [3, -7, 0, 1000, 12])
    np.testing.assert_array_equal(mean, ref.mean(axis=0))
    np.testing.assert_array_equal(squares, ((ref - ref.mean(axis=0)) ** 2).sum(axis=0))
    mean2, zeros = reductions.column_moments(X, nb, False)
    np.testing.assert_array_equal(mean2, mean)
    np.testing.assert_array_equal(zeros, np.zeros(5))
    Y = (rng.normal(size=(50_000, 9)) * 10 + 1e3).astype(dtype)
    runs = [reductions.column_moments(Y, 64, True, t) for t in THREADS]
    for mean_t, squares_t in runs:
        np.testing.assert_array_equal(mean_t, runs[0][0])
        np.testing.assert_array_equal(squares_t, runs[0][1])
    Y64 = Y.astype(np.float64)
    np.testing.assert_allclose(runs[0][0], Y64.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(runs[0][1], ((Y64 - Y64.mean(axis=0)) ** 2).sum(0), rtol=1e-10)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("d", [1, 3, 8, 19, 784])
def test_row_norms_sq_equal_float64_numpy(dtype, d):
    """Exact on integers (any order of the sum is exact); within float64 rounding of numpy on
    real values; the same for 1, 2 and 3 threads."""
    rng = np.random.default_rng(d)
    n = 3000 if d == 784 else 20_000
    X = _ints(rng, (n, d), -60, 60, dtype)
    out = np.empty(n)
    reductions.row_norms_sq(X, out)
    np.testing.assert_array_equal(out, (X.astype(np.float64) ** 2).sum(axis=1))
    Y = rng.normal(size=(n, d)).astype(dtype)
    runs = []
    for t in THREADS:
        out = np.full(n, np.nan)
        reductions.row_norms_sq(Y, out, t)
        runs.append(out)
    for out in runs[1:]:
        np.testing.assert_array_equal(out, runs[0])
    np.testing.assert_allclose(runs[0], (Y.astype(np.float64) ** 2).sum(axis=1), rtol=1e-14)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("d", [2, 3, 19, 130])
def test_inertia_equals_float64_numpy(dtype, d):
    """Integer rows and centres, dyadic weights: every term is exact in float32, so the
    inertia equals numpy's float64 sum; on real values it is the same for 1, 2 and 3 threads
    and within the data type's rounding of numpy's."""
    rng = np.random.default_rng(30 + d)
    n, k = 30_000, 11
    X = _ints(rng, (n, d), -8, 8, dtype)
    C = _ints(rng, (k, d), -8, 8, dtype)
    w = rng.choice([0.5, 1.0, 2.0], size=n).astype(dtype)
    labels = rng.integers(0, k, size=n).astype(np.int32)
    expected = float(w.astype(np.float64) @ ((X - C[labels]).astype(np.float64) ** 2).sum(1))
    nb = layout_n_blocks(n, 1, 1)
    assert reductions.inertia(X, w, C, labels, nb) == expected
    Y = rng.normal(size=(n, d)).astype(dtype)
    D = rng.normal(size=(k, d)).astype(dtype)
    wy = rng.uniform(0.1, 3, size=n).astype(dtype)
    runs = [reductions.inertia(Y, wy, D, labels, 64, t) for t in THREADS]
    assert runs[1] == runs[0] and runs[2] == runs[0]
    ref = float(wy.astype(np.float64) @ ((Y.astype(np.float64) - D[labels]) ** 2).sum(1))
    assert runs[0] == pytest.approx(ref, rel=1e-12 if dtype == np.float64 else 1e-5)
    assert reductions.inertia(Y[:0], wy[:0], D, labels[:0], 1) == 0.0


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("d", [3, 13])
def test_distances_to_assigned_and_all_distances_equal_numpy(dtype, d):
    """Squared distances to the assigned centre and distances to every centre: differences
    and squares in the data's dtype summed in float64 in feature order (the contract), bit for
    bit, for 1, 2 and 3 threads (3 features, colours, have their own loops); a 3-4-5 triangle
    by hand."""
    X = np.array([[3.0, 4.0], [0.0, 0.0]], dtype)
    C = np.array([[0.0, 0.0], [3.0, 0.0]], dtype)
    out = np.empty(2, dtype)
    reductions.distances_to_assigned(X, C, np.array([0, 1], np.int32), out)
    np.testing.assert_array_equal(out, [25.0, 9.0])
    out = np.empty((2, 2), dtype)
    reductions.all_distances(X, C, out)
    np.testing.assert_array_equal(out, [[5.0, 4.0], [0.0, 3.0]])

    rng = np.random.default_rng(12)
    n, k = 20_000, 7
    Y = (rng.normal(size=(n, d)) * 5).astype(dtype)
    D = (rng.normal(size=(k, d)) * 5).astype(dtype)
    labels = rng.integers(0, k, size=n).astype(np.int32)
    assigned = _feature_order_sq(Y, D[labels]).astype(dtype)
    every = np.stack([np.sqrt(_feature_order_sq(Y, np.broadcast_to(D[j], Y.shape)))
                      for j in range(k)], axis=1).astype(dtype)
    for t in THREADS:
        out = np.full(n, np.nan, dtype)
        reductions.distances_to_assigned(Y, D, labels, out, t)
        np.testing.assert_array_equal(out, assigned)
        out = np.full((n, k), np.nan, dtype)
        reductions.all_distances(Y, D, out, t)
        np.testing.assert_array_equal(out, every)
    np.testing.assert_allclose(every, np.linalg.norm(Y[:, None].astype(np.float64) - D, axis=2),
                               rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_merge_blocks_adds_in_block_order():
    """Partials added in block order from zero (what makes a pass's sums thread-independent):
    numpy's running sum, bit for bit; the outputs' old contents are ignored."""
    rng = np.random.default_rng(6)
    B, k, d = 9, 5, 3
    block_sums = rng.normal(size=(B, k, d)) * 10.0 ** rng.integers(-8, 8, size=(B, 1, 1))
    block_weights = rng.uniform(0, 5, size=(B, k))
    sums, weights = np.full((k, d), np.nan), np.full(k, np.nan)
    reductions.merge_blocks(block_sums, block_weights, sums, weights)
    ref_sums, ref_weights = np.zeros((k, d)), np.zeros(k)
    for b in range(B):
        ref_sums += block_sums[b]
        ref_weights += block_weights[b]
    np.testing.assert_array_equal(sums, ref_sums)
    np.testing.assert_array_equal(weights, ref_weights)
    reductions.merge_blocks(np.ones((2, 1, 1)), np.full((2, 1), 0.5), sums[:1], weights[:1])
    assert sums[0, 0] == 2.0 and weights[0] == 1.0


@pytest.mark.parametrize("dtype", FLOATS)
def test_average_centers_and_center_shift(dtype):
    """New centres = sums · (1 / weight), rounded once to the centres' dtype; a cluster of
    zero weight keeps its old centre; the shift is each centre's distance moved."""
    sums = np.array([[3.0, 6.0], [1.0, 1.0], [0.0, 0.0]])
    weights = np.array([3.0, 0.0, 4.0])
    old = np.array([[0.0, 2.0], [7.0, 7.0], [9.0, 9.0]], dtype)
    new = np.empty_like(old)
    reductions.average_centers(sums, weights, old, new)
    np.testing.assert_array_equal(new, [[1.0, 2.0], [7.0, 7.0], [0.0, 0.0]])
    shift = np.empty(3, dtype)
    reductions.center_shift(old, new, shift)
    np.testing.assert_array_equal(shift, np.array([1.0, 0.0, np.sqrt(162.0)]).astype(dtype))

    rng = np.random.default_rng(9)
    sums = rng.normal(size=(40, 6)) * 100
    weights = rng.uniform(0.1, 30, size=40)
    old = rng.normal(size=(40, 6)).astype(dtype)
    reductions.average_centers(sums, weights, old, new := np.empty_like(old))
    np.testing.assert_array_equal(new, (sums * (1.0 / weights)[:, None]).astype(dtype))
    reductions.center_shift(old, new, shift := np.empty(40, dtype))
    np.testing.assert_array_equal(shift, np.sqrt(_feature_order_sq(new, old)).astype(dtype))


def test_kernels_refuse_arrays_they_would_misread():
    """Kernels read C-contiguous arrays of one float type: a Fortran-ordered X or a mixed
    pair is refused, never read wrongly (validation converts before they run)."""
    X = np.asfortranarray(np.ones((10, 3)))
    with pytest.raises(ValueError, match="contiguous"):
        reductions.finite_max_abs(X)
    with pytest.raises(ValueError, match="dtype mismatch"):
        reductions.center_shift(np.ones((2, 2)), np.ones((2, 2), np.float32),
                                np.empty(2))


def test_distinct_rgb_hand_worked():
    from lloyd._kernels.histogram import distinct_rgb

    flat = np.array([[255, 0, 0], [0, 0, 1], [255, 0, 0], [0, 0, 0], [0, 0, 1], [0, 0, 1]],
                    np.uint8)
    inverse = np.empty(len(flat), np.intp)
    colors, counts = distinct_rgb(flat, inverse)
    np.testing.assert_array_equal(colors, [[0, 0, 0], [0, 0, 1], [255, 0, 0]])
    np.testing.assert_array_equal(counts, [1, 3, 2])
    np.testing.assert_array_equal(inverse, [2, 1, 2, 0, 1, 1])
    assert colors.dtype == np.uint8 and counts.dtype == np.int64
    colors, counts = distinct_rgb(np.empty((0, 3), np.uint8), np.empty(0, np.intp))
    assert colors.shape == (0, 3) and counts.shape == (0,)


def test_distinct_rgb_equals_numpy_unique():
    """Every word boundary of the bitmap: the colours 63, 64 and 2²⁴ − 1 among random ones."""
    from lloyd._kernels.histogram import distinct_rgb

    rng = np.random.default_rng(1)
    flat = rng.integers(0, 256, size=(200_000, 3), dtype=np.uint8) // [1, 16, 1]
    flat = flat.astype(np.uint8)
    flat[:3] = [[0, 0, 63], [0, 0, 64], [255, 255, 255]]
    packed = (flat[:, 0].astype(np.int64) << 16) | (flat[:, 1].astype(np.int64) << 8) | flat[:, 2]
    keys, ref_inverse, ref_counts = np.unique(packed, return_inverse=True, return_counts=True)
    inverse = np.empty(len(flat), np.intp)
    colors, counts = distinct_rgb(flat, inverse)
    np.testing.assert_array_equal(colors, np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], 1))
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_array_equal(inverse, ref_inverse)


def test_shared_kernels_load_without_numba():
    """The input check, moments and update step and the histogram run on every command's path:
    importing them (and the block layout) must not import numba."""
    code = ("import sys, lloyd._kernels.reductions, lloyd._kernels.histogram, "
            "lloyd._kernels.layout; print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
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


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bad", [None, np.nan, np.inf, -np.inf, "huge"])
def test_column_moments_magnitude_is_the_input_check(dtype, bad):
    """The means' pass also returns the largest magnitude's bit pattern: max |x| when every
    value is finite (numpy's, exactly, for 1, 2 and 3 threads and any block count), at or
    above +∞'s when one is not; and ``check_magnitude_bits`` raises check_finite_scale's own
    error from it, with the same means as without the check."""
    from lloyd._validation import check_finite_scale, check_magnitude_bits

    rng = np.random.default_rng(9)
    X = (rng.standard_cauchy(size=(40_001, 7)) * 100).astype(dtype)
    if bad == "huge":
        X[-1, 3] = -2 * np.sqrt(np.finfo(dtype).max / 28)  # past the limit for 7 features
    elif bad is not None:
        X[12_345, 6] = bad
    uint = np.uint32 if dtype == np.float32 else np.uint64
    infinity = int(np.array(np.inf, dtype).view(uint))
    for t in THREADS:
        for nb in (1, 64):
            magnitude = np.zeros(1, dtype=np.uint64)
            mean, _ = reductions.column_moments(X, nb, False, t, None, magnitude)
            np.testing.assert_array_equal(mean, reductions.column_moments(X, nb, False, t)[0])
            if bad is None or bad == "huge":
                expected = np.max(np.abs(X))
                assert int(magnitude[0]) == int(np.array(expected, dtype).view(uint))
            else:
                assert int(magnitude[0]) >= infinity
    if bad is None:
        check_magnitude_bits(X, magnitude[0])  # no error
        return
    with pytest.raises(ValueError) as expected_error:
        check_finite_scale(X)
    with pytest.raises(ValueError) as error:
        check_magnitude_bits(X, magnitude[0])
    assert str(error.value) == str(expected_error.value)


@pytest.mark.parametrize("dtype", FLOATS)
def test_column_moments_in_one_pass_match_numpy_with_an_outlying_first_row(dtype):
    """The squared deviations are summed about the first row and moved to the means: against
    float64 numpy's two-pass figures, to a relative 1e-9 even when that row lies 10⁴ standard
    deviations out, over an offset of 10³; and row_max bounds the largest squared distance of
    a row to the means from above, within a factor 9 (``‖m − s‖`` is at most that largest
    distance, s being a row)."""
    rng = np.random.default_rng(10)
    X = (rng.normal(size=(20_000, 12)) + 1e3).astype(dtype)
    X[0] += 1e4
    ref = X.astype(np.float64)
    row_max = np.zeros(1)
    mean, squares = reductions.column_moments(X, 64, True, 0, row_max)
    np.testing.assert_allclose(mean, ref.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(squares, ((ref - ref.mean(axis=0)) ** 2).sum(axis=0), rtol=1e-9)
    true_max = float(((ref - ref.mean(axis=0)) ** 2).sum(axis=1).max())
    assert true_max <= row_max[0] <= 9 * true_max
