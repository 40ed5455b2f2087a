"""KMeans on Dask arrays, on a real two-process LocalCluster started (and stopped) here."""

import threading
import time

import numpy as np
import pytest

from lloyd import KMeans

da = pytest.importorskip("dask.array", reason="the dask extra is not installed")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.filterwarnings(
    # distributed's own shutdown chatter on loopback, not lloyd's warnings
    "ignore::DeprecationWarning",
    "ignore::ResourceWarning",
    "ignore:.*Creating scratch directories.*:UserWarning",
    "ignore:Sending large graph:UserWarning",
)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        host="127.0.0.1", silence_logs=50,
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def blobs(n=6000, d=3, k=5, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(k, d))
    return (centers[rng.integers(0, k, n)] + rng.normal(size=(n, d))).astype(dtype)


@pytest.mark.parametrize("chunks", [500, 1700, 6000])
def test_same_result_as_in_memory_from_the_same_start(client, chunks):
    X = blobs()
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=len(X))
    init = X[:5].copy()
    local = KMeans(5, init=init, n_init=1).fit(X, sample_weight=w)
    dist = KMeans(5, init=init, n_init=1).fit(
        da.from_array(X, chunks=(chunks, 3)), sample_weight=da.from_array(w, chunks=chunks)
    )
    np.testing.assert_allclose(dist.cluster_centers_, local.cluster_centers_, rtol=1e-10)
    assert dist.inertia_ == pytest.approx(local.inertia_, rel=1e-10)
    assert dist.n_iter_ == local.n_iter_
    assert isinstance(dist.labels_, da.Array)
    np.testing.assert_array_equal(dist.labels_.compute(), local.labels_)


def test_float32_stays_float32_and_agrees(client):
    X = blobs(dtype=np.float32)
    init = X[:5].copy()
    local = KMeans(5, init=init, n_init=1).fit(X)
    dist = KMeans(5, init=init, n_init=1).fit(da.from_array(X, chunks=1000))
    assert dist.cluster_centers_.dtype == np.float32
    np.testing.assert_allclose(dist.cluster_centers_, local.cluster_centers_, rtol=1e-5)
    np.testing.assert_array_equal(dist.labels_.compute(), local.labels_)


def test_a_chunk_without_some_clusters_and_an_empty_cluster(client):
    # sorted rows: each chunk holds points of one or two clusters only
    X = np.sort(blobs(n=3000, d=1, k=3), axis=0)
    init = np.array([[X[0, 0]], [X[1, 0]], [1e6]])  # the third centre attracts no point
    local = KMeans(3, init=init, n_init=1).fit(X)
    dist = KMeans(3, init=init, n_init=1).fit(da.from_array(X, chunks=400))
    np.testing.assert_allclose(dist.cluster_centers_, local.cluster_centers_, rtol=1e-10)
    np.testing.assert_array_equal(dist.labels_.compute(), local.labels_)
    assert not np.isnan(dist.cluster_centers_).any()


def test_predict_and_transform_on_dask_and_numpy(client):
    X = blobs()
    km = KMeans(5, init=X[:5].copy(), n_init=1).fit(da.from_array(X, chunks=1000))
    np.testing.assert_array_equal(km.predict(da.from_array(X, chunks=700)).compute(),
                                  km.predict(X))
    np.testing.assert_allclose(km.transform(da.from_array(X, chunks=700)).compute(),
                               km.transform(X))


def test_dataframe_numeric_columns(client):
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    X = blobs(n=2000, d=2)
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "name": ["x"] * len(X)})
    km = KMeans(5, init=X[:5].copy(), n_init=1).fit(dd.from_pandas(df, npartitions=3))
    ref = KMeans(5, init=X[:5].copy(), n_init=1).fit(X)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_, rtol=1e-10)
    assert list(km.feature_names_in_) == ["a", "b"]


@pytest.mark.slow
def test_kmeans_parallel_seeding_quality(client):
    X = blobs(n=20_000, d=4, k=12, seed=3)
    dX = da.from_array(X, chunks=4000).persist()
    ours = [KMeans(12, random_state=s).fit(dX).inertia_ for s in range(6)]
    ref = [KMeans(12, random_state=s).fit(X).inertia_ for s in range(6)]
    assert np.mean(ours) <= 1.05 * np.mean(ref)


def test_random_state_makes_it_repeatable(client):
    dX = da.from_array(blobs(), chunks=1000)
    a = KMeans(5, random_state=7).fit(dX)
    b = KMeans(5, random_state=7).fit(dX)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_bad_input(client):
    X = blobs(n=100)
    with pytest.raises(ValueError, match="Input X contains NaN or infinity"):
        bad = X.copy()
        bad[5, 1] = np.nan
        KMeans(2).fit(da.from_array(bad, chunks=30))
    with pytest.raises(ValueError, match="n_samples=100 should be >= n_clusters=200"):
        KMeans(200).fit(da.from_array(X, chunks=30))
    with pytest.raises(ValueError, match="sample_weight has shape"):
        KMeans(2).fit(da.from_array(X, chunks=30), sample_weight=np.ones(5))


@pytest.mark.slow
def test_a_worker_lost_mid_fit_still_gives_the_right_answer():
    """Closing one of two workers during the fit: Dask recomputes its chunks on the other
    worker from the graph, and the result is the in-memory one."""
    X = blobs(n=200_000, d=8, k=16, seed=5)
    init = X[:16].copy()
    local = KMeans(16, init=init, n_init=1, max_iter=30, tol=0).fit(X)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", host="127.0.0.1",
                                       silence_logs=50)
    try:
        with distributed.Client(cluster) as c:
            dX = da.from_array(X, chunks=10_000)
            victim = next(iter(c.scheduler_info()["workers"]))

            killed_at = []

            def kill_one():
                time.sleep(1.0)
                c.retire_workers([victim], close_workers=True, remove=True)
                killed_at.append(time.perf_counter())

            killer = threading.Thread(target=kill_one)
            killer.start()
            dist = KMeans(16, init=init, n_init=1, max_iter=30, tol=0).fit(dX)
            finished_at = time.perf_counter()
            killer.join()
            assert len(c.scheduler_info()["workers"]) == 1
            assert killed_at and killed_at[0] < finished_at, "the worker went after the fit"
    finally:
        cluster.close()
    np.testing.assert_allclose(dist.cluster_centers_, local.cluster_centers_, rtol=1e-10)
    assert dist.inertia_ == pytest.approx(local.inertia_, rel=1e-10)


def test_without_dask_the_error_names_the_extra(monkeypatch):
    import sys

    from lloyd import distributed as lloyd_distributed

    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.array", None)
    with pytest.raises(ImportError, match=r'pip install "lloyd-kmeans\[dask\]"'):
        lloyd_distributed._import_dask()


def test_is_dask_collection_does_not_import_dask():
    from lloyd.distributed import is_dask_collection

    assert not is_dask_collection(np.zeros((2, 2)))
    assert is_dask_collection(da.zeros((2, 2)))
