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
