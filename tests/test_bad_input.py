"""A catalogue of bad (and awkward but valid) inputs: one row each, with the exact outcome.

Each row names what it feeds, the exception type (or warning, or None where the input must
work), and a regular expression the message must match: the message names the problem.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from lloyd import (
    KMeans,
    afkmc2,
    compute_centroids,
    find_closest_centroids,
    kmeans_init_centroids,
    kmeans_plusplus,
    run_kmeans,
)

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3))
X2 = rng.normal(size=(40, 2))


def fit(**params):
    return lambda data=X, **kw: KMeans(**{"n_clusters": 3, "random_state": 0, **params}).fit(
        data, **kw
    )


def with_nan(value, where=(3, 1)):
    bad = X.copy()
    bad[where] = value
    return bad


def fortran():
    return np.asfortranarray(X)


def strided():
    return np.repeat(X, 2, axis=0)[::2]


def readonly():
    r = X.copy()
    r.flags.writeable = False
    return r


def memmapped(tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, X)
    return np.load(path, mmap_mode="r")


# (id, call, exception or warning class or None, message pattern)
CASES = [
    # ---- X itself
    ("empty X", lambda: fit()(np.empty((0, 3))), ValueError, r"0 sample\(s\).*minimum of 1 is required"),
    ("one row, k=3", lambda: fit()(X[:1]), ValueError, r"n_samples=1 should be >= n_clusters=3"),
    ("one row, k=1", lambda: fit(n_clusters=1)(X[:1]), None, ""),
    ("1-D X", lambda: fit()(X[:, 0]), ValueError, r"Expected a 2-dimensional container|Expected 2D array"),
    ("3-D X", lambda: fit()(X.reshape(4, 10, 3)), ValueError, r"Found array with dim 3"),
    ("strings", lambda: fit()(np.array([["a", "b"]] * 5)), ValueError, r"could not convert string to float"),
    ("object dtype", lambda: fit()(np.array([[1, "x"]] * 5, dtype=object)), ValueError, r"could not convert string to float"),
    ("complex", lambda: fit()(X + 1j), ValueError, r"[Cc]omplex data not supported"),
    ("NaN", lambda: fit()(with_nan(np.nan)), ValueError, r"Input X contains NaN"),
    ("+inf", lambda: fit()(with_nan(np.inf)), ValueError, r"Input X contains infinity"),
    ("-inf", lambda: fit()(with_nan(-np.inf, (0, 0))), ValueError, r"Input X contains infinity"),
    ("all rows identical", lambda: fit()(np.ones((10, 3))), ConvergenceWarning, r"Number of distinct clusters \(1\) found smaller than n_clusters \(3\)"),
    ("fewer distinct rows than k", lambda: fit()(np.repeat(X[:2], 5, axis=0)), ConvergenceWarning, r"Number of distinct clusters \(2\)"),
    ("sparse COO", lambda: fit()(__import__("scipy.sparse").sparse.coo_matrix(X)), None, ""),
    ("sparse with NaN", lambda: fit()(__import__("scipy.sparse").sparse.csr_matrix(with_nan(np.nan))), ValueError, r"Input X contains NaN"),
    # ---- n_clusters and friends
    ("k = 0", lambda: fit(n_clusters=0)(), ValueError, r"'n_clusters' parameter must be an int >= 1, got 0"),
    ("k negative", lambda: fit(n_clusters=-2)(), ValueError, r"'n_clusters' parameter must be an int >= 1, got -2"),
    ("k float", lambda: fit(n_clusters=2.0)(), ValueError, r"'n_clusters' parameter must be an int >= 1, got 2.0"),
    ("k bool", lambda: fit(n_clusters=True)(), ValueError, r"'n_clusters' parameter must be an int >= 1, got True"),
    ("k huge", lambda: fit(n_clusters=10**9)(), ValueError, r"n_samples=40 should be >= n_clusters=1000000000"),
    ("n_init = 0", lambda: fit(n_init=0)(), ValueError, r"'n_init' parameter must be an int >= 1 or 'auto', got 0"),
    ("n_init string", lambda: fit(n_init="many")(), ValueError, r"'n_init' parameter must be an int >= 1 or 'auto', got 'many'"),
    ("tol < 0", lambda: fit(tol=-1e-3)(), ValueError, r"'tol' parameter must be a float >= 0, got -0.001"),
    ("tol NaN", lambda: fit(tol=float("nan"))(), ValueError, r"'tol' parameter must be a float >= 0, got nan"),
    ("max_iter = 0", lambda: fit(max_iter=0)(), ValueError, r"'max_iter' parameter must be an int >= 1, got 0"),
    ("algorithm unknown", lambda: fit(algorithm="fastest")(), ValueError, r"'algorithm' parameter must be one of .* got 'fastest'"),
    ("init unknown string", lambda: fit(init="kmeans")(), ValueError, r"'init' parameter must be 'k-means\+\+', 'afk-mc2', 'random', a callable or an array"),
    ("init wrong rows", lambda: fit(init=X[:2])(), ValueError, r"initial centers \(2, 3\) does not match the number of clusters n_clusters=3"),
    ("init wrong columns", lambda: fit(init=X2[:3])(), ValueError, r"initial centers \(3, 2\) does not match the number of features of the data 3"),
    ("init with NaN", lambda: fit(init=with_nan(np.nan, (0, 0))[:3])(), ValueError, r"init contains NaN"),
    ("init with duplicate rows", lambda: fit(init=np.repeat(X[:1], 3, axis=0))(), None, ""),
    ("callable init, wrong shape", lambda: fit(init=lambda X, k, random_state: X[:2], n_init=1)(), ValueError, r"initial centers \(2, 3\) does not match"),
    # ---- sample_weight
    ("weights wrong length", lambda: fit()(sample_weight=np.ones(5)), ValueError, r"sample_weight has 5 values but X has 40 rows"),
    ("weights negative", lambda: fit()(sample_weight=-np.ones(40)), ValueError, r"Negative values in data passed to .sample_weight."),
    ("weights all zero", lambda: fit()(sample_weight=np.zeros(40)), ValueError, r"Sample weights must contain at least one non-zero number"),
    ("weights NaN", lambda: fit()(sample_weight=np.full(40, np.nan)), ValueError, r"sample_weight contains NaN"),
    ("weights 2-D", lambda: fit()(sample_weight=np.ones((40, 1))), ValueError, r"Sample weights must be 1D array or scalar"),
    # ---- layouts and dtypes that must work
    ("Fortran-ordered X", lambda: fit()(fortran()), None, ""),
    ("non-contiguous X", lambda: fit()(strided()), None, ""),
    ("read-only X", lambda: fit()(readonly()), None, ""),
    ("read-only X, copy_x=False", lambda: fit(copy_x=False)(readonly()), None, ""),
    ("float16 X", lambda: fit()(X.astype(np.float16)), None, ""),
    ("integer X", lambda: fit()((X * 10).astype(np.int32)), None, ""),
    ("boolean X", lambda: fit()(X > 0), None, ""),
    ("list of lists", lambda: fit()(X.tolist()), None, ""),
    # ---- predict / transform
    ("predict before fit", lambda: KMeans(3).predict(X), NotFittedError, r"This KMeans instance is not fitted yet"),
    ("predict, other feature count", lambda: fit()().predict(X2), ValueError, r"X has 2 features, but KMeans is expecting 3 features"),
    ("transform, NaN", lambda: fit()().transform(with_nan(np.nan)), ValueError, r"Input X contains NaN"),
    ("score, weights wrong length", lambda: fit()().score(X, sample_weight=np.ones(3)), ValueError, r"sample_weight has 3 values but X has 40 rows"),
    # ---- values so large that squared distances overflow: a clear error, not +inf labels
    ("X near 1e200", lambda: fit()(X * 1e200), ValueError, r"Input X has values as large as 2.\d+e\+200: squared distances between rows of 3 features could overflow float64 \(safe up to 3.87e\+153\). Rescale X"),
    ("float32 X near 1e19", lambda: fit()((X * 1e19).astype(np.float32)), ValueError, r"could overflow float32 .* or pass it as float64"),
    ("predict, X near 1e200", lambda: fit()().predict(X * 1e200), ValueError, r"Input X has values as large as"),
    ("init array near 1e200", lambda: fit(init=X[:3] * 1e200, n_init=1)(), ValueError, r"Input init has values as large as"),
    ("kmeans_plusplus, X near 1e200", lambda: kmeans_plusplus(X * 1e200, 3), ValueError, r"Input X has values as large as"),
    ("afkmc2, X near 1e200", lambda: afkmc2(X * 1e200, 3), ValueError, r"Input X has values as large as 2.\d+e\+200: squared distances between rows of 3 features could overflow float64"),
    ("afkmc2 NaN", lambda: afkmc2(with_nan(np.nan), 3), ValueError, r"Input X contains NaN: k-means needs a finite number"),
    ("afkmc2 -inf", lambda: afkmc2(with_nan(-np.inf, (0, 0)), 3), ValueError, r"Input X contains infinity"),
    ("steps: centroids near 1e200", lambda: find_closest_centroids(X, X[:3] * 1e200), ValueError, r"Input centroids has values as large as"),
    # ---- seeding and the teaching steps
    ("kmeans_plusplus k too big", lambda: kmeans_plusplus(X, 41), ValueError, r"n_clusters=41 must be <= n_samples=40"),
    ("kmeans_plusplus n_local_trials=0", lambda: kmeans_plusplus(X, 3, n_local_trials=0), ValueError, r"n_local_trials=0 must be >= 1"),
    ("kmeans_plusplus NaN", lambda: kmeans_plusplus(with_nan(np.nan), 3), ValueError, r"Input X contains NaN"),
    ("steps: centroids wrong columns", lambda: find_closest_centroids(X, X2[:3]), ValueError, r"centroids has 2 columns but X has 3 features"),
    ("steps: idx out of range", lambda: compute_centroids(X, np.full(40, 3), 3), ValueError, r"idx values must lie in \[0, K\) = \[0, 3\), found 3"),
    ("steps: K > m", lambda: kmeans_init_centroids(X, 41), ValueError, r"K=41 must be <= n_samples=40"),
    ("steps: max_iters float", lambda: run_kmeans(X, X[:3], 2.5), ValueError, r"max_iters must be an integer >= 0, got 2.5"),
]


@pytest.mark.parametrize(("call", "outcome", "pattern"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_catalogue(call, outcome, pattern):
    if outcome is None:
        call()
    elif issubclass(outcome, Warning):
        with pytest.warns(outcome, match=pattern):
            call()
    else:
        with pytest.raises(outcome, match=pattern):
            call()


def test_large_but_safe_values_cluster_like_their_rescaled_copy():
    """Just under the overflow limit (d = 3: 3.9e153), nothing overflows: the labels and the
    centres are those of the data divided by the scale."""
    blobs = np.vstack([rng.normal(size=(30, 3)), rng.normal(size=(30, 3)) + 8.0])
    scale = 1e152  # blobs' largest value is under 12: 1.2e153 < 3.9e153
    start = blobs[[0, 30]]
    big = KMeans(2, init=start * scale, n_init=1).fit(blobs * scale)
    small = KMeans(2, init=start, n_init=1).fit(blobs)
    np.testing.assert_array_equal(big.labels_, small.labels_)
    np.testing.assert_allclose(big.cluster_centers_ / scale, small.cluster_centers_, rtol=1e-12)
    assert np.bincount(big.labels_).tolist() == [30, 30]


def test_memmapped_x_works_and_is_not_modified(tmp_path):
    mm = memmapped(tmp_path)
    km = KMeans(3, random_state=0, copy_x=False).fit(mm)
    ref = KMeans(3, random_state=0).fit(X)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_)
    np.testing.assert_array_equal(np.asarray(mm), X)


def test_valid_awkward_inputs_give_the_float64_answer():
    ref = KMeans(3, random_state=0).fit(X)
    for variant in (fortran(), strided(), readonly(), X.tolist()):
        got = KMeans(3, random_state=0).fit(variant)
        np.testing.assert_allclose(got.cluster_centers_, ref.cluster_centers_, rtol=1e-12)
    assert KMeans(3, random_state=0).fit(X.astype(np.float16)).cluster_centers_.dtype == np.float64


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 50


# ---------------------------------------------------------------- images and the CLI


def _png(path, array, mode=None):
    from PIL import Image

    Image.fromarray(array, mode).save(path)
    return path


def _photo(tmp_path, name="photo.png", size=(24, 32)):
    rng = np.random.default_rng(1)
    return _png(tmp_path / name, rng.integers(0, 256, size=(*size, 3), dtype=np.uint8))


def _truncated(tmp_path, fmt):
    from PIL import Image

    src = tmp_path / f"whole.{fmt}"
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(
        src
    )
    data = src.read_bytes()
    bad = tmp_path / f"truncated.{fmt}"
    bad.write_bytes(data[: len(data) // 2])
    return bad


def _bomb(tmp_path, monkeypatch):
    from PIL import Image

    path = _photo(tmp_path, "big.png", size=(100, 100))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    return path


def _cmyk_jpeg(tmp_path):
    from PIL import Image

    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 16), (10, 200, 30, 0)).save(path)
    return path


def _png16(tmp_path):
    from PIL import Image

    path = tmp_path / "deep.png"
    Image.fromarray(np.arange(256, dtype=np.uint16).reshape(16, 16) * 250).save(path)
    return path


def _animated(tmp_path):
    from PIL import Image

    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    return path


# (id, make(tmp_path, monkeypatch) -> argv, exit code, stderr pattern, stdout pattern)
CLI_CASES = [
    ("empty file", lambda t, m: [str(_write(t / "empty.png", b""))], 3, r"cannot read .*empty.png", ""),
    ("text named .png", lambda t, m: [str(_write(t / "note.png", b"hello, not a picture\n"))], 3, r"not an image format Pillow can read", ""),
    ("truncated PNG", lambda t, m: [str(_truncated(t, "png"))], 3, r"truncated or corrupt", ""),
    ("truncated JPEG", lambda t, m: [str(_truncated(t, "jpg"))], 3, r"truncated or corrupt", ""),
    ("missing file", lambda t, m: [str(t / "nope.png")], 3, r"no such file", ""),
    ("a folder", lambda t, m: [str(t)], 3, r"it is a folder, not an image", ""),
    ("decompression bomb", lambda t, m: [str(_bomb(t, m))], 3, r"decompression-bomb limit", ""),
    ("1x1 image", lambda t, m: [str(_png(t / "dot.png", np.zeros((1, 1, 3), np.uint8)))], 0, r"^$", r"dot.png"),
    ("16-bit PNG", lambda t, m: [str(_png16(t))], 0, r"^$", r"deep.png"),
    ("CMYK JPEG", lambda t, m: [str(_cmyk_jpeg(t))], 0, r"^$", r"cmyk.jpg"),
    ("animated GIF", lambda t, m: [str(_animated(t))], 0, r"has 2 frames; only the first", r"anim.gif"),
    ("K = 1", lambda t, m: [str(_photo(t)), "-k", "1"], 0, r"^$", r"photo.png"),
    ("K = 257", lambda t, m: [str(_photo(t)), "-k", "257"], 2, r"a PNG palette holds at most 256 colours\), got 257", ""),
    ("K = 0", lambda t, m: [str(_photo(t)), "-k", "0"], 2, r"must be in \[1, 256\].*got 0", ""),
    ("K not a number", lambda t, m: [str(_photo(t)), "-k", "many"], 2, r"must be an integer in \[1, 256\], got 'many'", ""),
    ("output folder missing", lambda t, m: [str(_photo(t)), "-o", str(t / "no" / "such" / "out.png")], 3, r"cannot write", ""),
    ("output equal to input", lambda t, m: [str(_photo(t)), "-o", str(t / "photo.png")], 4, r"exists.*--force", ""),
    ("output exists", lambda t, m: [str(_photo(t)), "-o", str(_write(t / "taken.png", b"x"))], 4, r"taken.png.*exists.*--force", ""),
]


def _write(path, data):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("make", "code", "err", "out"), [c[1:] for c in CLI_CASES],
                         ids=[c[0] for c in CLI_CASES])
def test_cli_catalogue(tmp_path, monkeypatch, capsys, make, code, err, out):
    from lloyd.cli import main

    argv = make(tmp_path, monkeypatch)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(["compress", "-q", *argv]) == code
    captured = capsys.readouterr()
    assert re.search(err, captured.err, re.S), captured.err
    if code != 0:
        # one clear line, no traceback, and nothing the user had is touched
        assert "Traceback" not in captured.err
        lines = captured.err.strip().splitlines()
        if code == 2:  # argparse's convention: the usage, then one error line
            assert lines[-1].startswith("lloyd compress: error: ")
        else:
            assert len(lines) == 1, lines
        for path, data in before.items():
            assert path.read_bytes() == data
    else:
        assert "Traceback" not in captured.err


def test_output_folder_not_writable(tmp_path, capsys):
    import os

    from lloyd.cli import main

    if os.geteuid() == 0:
        pytest.skip("root can write anywhere; the read-only case cannot be made")
    src = _photo(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["compress", "-q", str(src), "-o", str(locked / "out.png")]) == 3
        assert "cannot write" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_zero_by_zero_image_array():
    import lloyd

    with pytest.raises(ValueError, match=r"image must have at least one pixel, got shape \(0, 0, 3\)"):
        lloyd.quantize(np.zeros((0, 0, 3), np.uint8), 4)


FUZZ_FINDINGS = sorted((Path(__file__).parent / "data" / "fuzz").glob("*"))


@pytest.mark.parametrize("path", FUZZ_FINDINGS, ids=[p.name for p in FUZZ_FINDINGS])
def test_inputs_found_by_fuzzing_give_a_clear_read_error(path, capsys):
    """Each file here once crashed the image path with an undocumented exception."""
    import lloyd
    from lloyd._image_io import ImageReadError
    from lloyd.cli import main

    with pytest.raises(ImageReadError, match=r"cannot read .*: "):
        lloyd.quantize(path, 16)
    assert main(["compress", "-q", str(path), "-o", str(path.parent / "never-written.png")]) == 3
    assert not (path.parent / "never-written.png").exists()
    assert "Traceback" not in capsys.readouterr().err
