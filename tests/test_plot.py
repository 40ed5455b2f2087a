"""Every figure: the artists it draws, the PNG it writes, the ``ax`` it accepts, its bad input."""

import itertools
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from PIL import Image

import lloyd
from lloyd import plot as lplot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CLASSIC_START = np.array([[3.0, 3.0], [6.0, 2.0], [8.0, 5.0]])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sample():
    X, _ = lloyd.load_sample_2d()
    _, _, history = lloyd.run_kmeans(X, CLASSIC_START, 3, return_history=True)
    return X, history


@pytest.fixture(scope="module")
def sample_5d():
    rng = np.random.default_rng(0)
    # Three blobs along a diagonal, so most of the variance lies on one axis.
    X = np.concatenate([rng.normal(c, 0.5, size=(40, 5)) for c in (0.0, 3.0, 6.0)])
    _, _, history = lloyd.run_kmeans(X, X[[0, 40, 80]], 3, return_history=True)
    return X, history


def _scatters(ax):
    return [c for c in ax.collections if isinstance(c, PathCollection)]


def _rows_sorted(a):
    """The rows of a in lexicographic order (3-D collections depth-sort their colours)."""
    a = np.asarray(a, dtype=float)
    return a[np.lexsort(a.T[::-1])]


def _assert_png(fig, path):
    fig.savefig(path, dpi=50)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG" and min(im.size) > 50


# ------------------------------------------------------------------------- plot_progress


def test_progress_artists_and_title(sample):
    X, history = sample
    ax = lplot.plot_progress(X, history)
    assert len(_scatters(ax)) == 3  # one per cluster
    assert len(ax.lines) == 3 + 1  # one path per centroid, one line of crosses
    assert ax.get_title() == f"Iteration 3: distortion {history.distortion[3]:.4f}"
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["cluster 0", "cluster 1", "cluster 2", "centroid paths", "centroids"]
    # the crosses sit on the last centroids, each path runs through every position so far
    np.testing.assert_allclose(np.column_stack(ax.lines[-1].get_data()), history.centroids[3])
    np.testing.assert_allclose(ax.lines[1].get_xydata(), history.centroids[:, 1, :])
    # the points of cluster k are exactly the examples labelled k
    for k, collection in enumerate(_scatters(ax)):
        np.testing.assert_allclose(collection.get_offsets(), X[history.labels[3] == k])


def test_progress_at_an_earlier_iteration(sample):
    X, history = sample
    ax = lplot.plot_progress(X, history, iteration=0)
    assert ax.get_title().startswith("Iteration 0: distortion")
    np.testing.assert_allclose(ax.lines[0].get_xydata(), CLASSIC_START[:1])


def test_progress_colours_are_tab10(sample):
    import matplotlib as mpl

    X, history = sample
    ax = lplot.plot_progress(X, history)
    tab10 = mpl.colormaps["tab10"]
    for k, collection in enumerate(_scatters(ax)):
        np.testing.assert_allclose(collection.get_facecolor()[0][:3], tab10(k)[:3])


def test_progress_above_two_dimensions_projects_on_principal_components(sample_5d):
    from sklearn.decomposition import PCA

    X, history = sample_5d
    ax = lplot.plot_progress(X, history)
    assert "principal components" in ax.get_xlabel() and "5-D" in ax.get_xlabel()
    assert ax.get_xlabel().startswith("PC 1") and ax.get_ylabel().startswith("PC 2")
    drawn = np.concatenate([c.get_offsets() for c in _scatters(ax)])
    order = np.concatenate([np.flatnonzero(history.labels[-1] == k) for k in range(3)])
    reference = PCA(n_components=2).fit_transform(X)[order]
    # principal axes are defined up to sign
    signs = np.sign(np.sum(drawn * reference, axis=0))
    np.testing.assert_allclose(drawn, reference * signs, atol=1e-9)
    # the centroids go through the same projection
    centroids_pca = PCA(n_components=2).fit(X).transform(history.centroids[-1]) * signs
    np.testing.assert_allclose(np.column_stack(ax.lines[-1].get_data()), centroids_pca, atol=1e-9)


def test_progress_draws_into_the_given_ax(sample):
    X, history = sample
    _, (left, right) = plt.subplots(1, 2)
    assert lplot.plot_progress(X, history, ax=right) is right
    assert len(_scatters(right)) == 3 and not left.collections


def test_progress_writes_a_png(sample, tmp_path):
    X, history = sample
    _assert_png(lplot.plot_progress(X, history).figure, tmp_path / "progress.png")


@pytest.mark.parametrize(
    ("make_args", "error", "pattern"),
    [
        (lambda X, h: (X[:, 0], h), ValueError, r"X must be a 2-D array"),
        (lambda X, h: (X[:10], h), ValueError, r"X has 10 rows but history.labels has 300"),
        (lambda X, h: (np.c_[X, X], h), ValueError, r"X has 4 features but the centroids"),
        (lambda X, h: (X, X), TypeError, r"history must be the KMeansHistory"),
        (lambda X, h: (h, X), TypeError, r"plot_progress takes X first"),
    ],
)
def test_progress_bad_input(sample, make_args, error, pattern):
    with pytest.raises(error, match=pattern):
        lplot.plot_progress(*make_args(*sample))


def test_progress_one_feature_cannot_be_drawn_in_the_plane():
    X = np.array([[0.0], [1.0], [5.0]])
    _, _, history = lloyd.run_kmeans(X, [[0.0], [5.0]], 1, return_history=True)
    with pytest.raises(ValueError, match=r"X must have at least 2 features.*got 1"):
        lplot.plot_progress(X, history)


@pytest.mark.parametrize("iteration", [-1, 4, 1.5])
def test_progress_iteration_out_of_range(sample, iteration):
    with pytest.raises(ValueError, match=r"iteration"):
        lplot.plot_progress(*sample, iteration=iteration)


# ---------------------------------------------------------------------- animate_progress


def test_half_steps_hand_worked():
    # Two centroids at 0 and 1 on a line: every point but the first goes to centroid 1.
    X = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]])
    _, _, history = lloyd.run_kmeans(X, [[0.0, 0.0], [1.0, 0.0]], 1, return_history=True)
    frames = lplot._half_steps(X, history)
    assert [f["title"].split("\n")[0] for f in frames] == [
        "Iteration 0: initial centroids",
        "Iteration 1: assign",
        "Iteration 1: move centroids",
    ]
    assert frames[0]["labels"] is None
    assert frames[1]["labels"].tolist() == frames[2]["labels"].tolist() == [0, 1, 1, 1]
    assert [f["step"] for f in frames] == [0, 0, 1]
    # assign: distances² 0, 0, 81, 100 -> 181 / 4
    assert frames[1]["distortion"] == pytest.approx(45.25)
    # move: centroid 1 goes to 22/3; distances² 0, (19/3)², (8/3)², (11/3)² -> 546 / 36
    assert frames[2]["distortion"] == pytest.approx(546 / 36)
    assert frames[2]["title"].endswith("distortion J = 15.1667")


def test_half_step_distortion_never_rises(sample):
    X, history = sample
    distortions = [f["distortion"] for f in lplot._half_steps(X, history)[1:]]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(distortions))
    assert distortions[-1] == pytest.approx(
        lloyd.compute_distortion(X, history.labels[-2], history.centroids[-1])
    )


@pytest.mark.parametrize("n_iter", [0, 3])
def test_gif_has_one_frame_per_half_step(tmp_path, n_iter):
    X, _ = lloyd.load_sample_2d(60)
    _, _, history = lloyd.run_kmeans(X, CLASSIC_START, n_iter, return_history=True)
    path = lplot.animate_progress(X, history, tmp_path / "progress.gif", dpi=40)
    assert path == tmp_path / "progress.gif"
    with Image.open(path) as im:
        assert im.format == "GIF"
        assert im.n_frames == 2 * n_iter + 1
        frames = []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert("RGB")))
    # the frames differ: the animation moves
    assert all(not np.array_equal(a, b) for a, b in itertools.pairwise(frames))
    assert not plt.get_fignums()  # the figure it drew on is closed


def test_gif_of_data_above_two_dimensions(sample_5d, tmp_path):
    X, history = sample_5d
    path = lplot.animate_progress(X, history, tmp_path / "p.gif", dpi=30)
    with Image.open(path) as im:
        assert im.n_frames == 2 * history.n_iter + 1


def test_mp4_without_ffmpeg_says_what_to_do(sample, tmp_path, monkeypatch):
    from matplotlib import animation

    monkeypatch.setattr(animation.writers, "is_available", lambda name: False)
    with pytest.raises(RuntimeError, match=r"needs ffmpeg.*write a \.gif"):
        lplot.animate_progress(*sample, tmp_path / "p.mp4")
    assert not (tmp_path / "p.mp4").exists()


@pytest.mark.skipif(
    not __import__("matplotlib.animation").animation.writers.is_available("ffmpeg"),
    reason="ffmpeg is not installed",
)
def test_mp4_with_ffmpeg(sample, tmp_path):
    path = lplot.animate_progress(*sample, tmp_path / "p.mp4", dpi=40)
    assert path.stat().st_size > 0


def test_animation_bad_input(sample, tmp_path):
    X, history = sample
    with pytest.raises(ValueError, match=r"path='.*p\.png' must end in \.gif or \.mp4"):
        lplot.animate_progress(X, history, tmp_path / "p.png")
    with pytest.raises(TypeError, match=r"animate_progress takes X first"):
        lplot.animate_progress(history, X, tmp_path / "p.gif")
    with pytest.raises(ValueError, match=r"X has 10 rows"):
        lplot.animate_progress(X[:10], history, tmp_path / "p.gif")
    with pytest.raises(ValueError, match=r"fps must be a number > 0, got 0"):
        lplot.animate_progress(X, history, tmp_path / "p.gif", fps=0)
    assert not list(tmp_path.iterdir())


# -------------------------------------------------------------------------- plot_voronoi


def test_voronoi_regions_belong_to_the_nearest_centroid(sample):
    import matplotlib as mpl

    X, history = sample
    centroids = history.centroids[-1]
    ax = lplot.plot_voronoi(X, centroids, resolution=100)
    assert len(ax.images) == 1 and len(_scatters(ax)) == 3 and len(ax.lines) == 1
    assert ax.get_title() == "Decision regions of 3 centroids"
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
    rgb = np.asarray(ax.images[0].get_array())[..., :3]
    x0, x1, y0, y1 = ax.images[0].get_extent()
    tab10 = mpl.colormaps["tab10"]
    # an independent check: the region colour at each grid point is its nearest centroid's
    rows, cols = np.meshgrid(np.arange(0, 100, 7), np.arange(0, 100, 7), indexing="ij")
    for r, c in zip(rows.ravel(), cols.ravel(), strict=True):
        point = np.array([x0 + (x1 - x0) * c / 99, y0 + (y1 - y0) * r / 99])
        nearest = np.argmin(((centroids - point) ** 2).sum(axis=1))
        np.testing.assert_allclose(rgb[r, c], tab10(nearest)[:3])


def test_voronoi_given_labels_colour_the_points(sample, tmp_path):
    X, history = sample
    _, ax = plt.subplots()
    labels = np.zeros(len(X), dtype=int)
    assert lplot.plot_voronoi(X, history.centroids[-1], labels=labels, ax=ax) is ax
    sizes = [len(c.get_offsets()) for c in _scatters(ax)]
    assert sizes == [len(X), 0, 0]
    _assert_png(ax.figure, tmp_path / "voronoi.png")


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"X": np.zeros((5, 3)), "centroids": np.zeros((2, 3))}, r"X must have shape \(m, 2\)"),
        ({"centroids": np.zeros((2, 3))}, r"centroids has 3 columns but X has 2"),
        ({"labels": np.zeros(7, dtype=int)}, r"labels must have shape \(300,\)"),
        ({"labels": np.full(300, 5)}, r"labels values must lie in \[0, K\) = \[0, 3\)"),
        ({"resolution": 1}, r"resolution must be an integer >= 2, got 1"),
    ],
)
def test_voronoi_bad_input(sample, kwargs, pattern):
    X, history = sample
    args = {"X": X, "centroids": history.centroids[-1], **kwargs}
    with pytest.raises(ValueError, match=pattern):
        lplot.plot_voronoi(args.pop("X"), args.pop("centroids"), **args)


# ------------------------------------------------------------------------ plot_distortion


def test_distortion_plots_every_iteration(sample, tmp_path):
    _, history = sample
    ax = lplot.plot_distortion(history)
    assert len(ax.lines) == 1
    x, y = ax.lines[0].get_data()
    assert list(x) == [0, 1, 2, 3]
    np.testing.assert_array_equal(y, history.distortion)
    assert np.all(np.diff(y) <= 0)
    assert "never rises" in ax.get_title() and ax.get_ylabel() == "distortion J"
    _assert_png(ax.figure, tmp_path / "distortion.png")


def test_distortion_into_given_ax_and_bad_input(sample):
    _, history = sample
    _, ax = plt.subplots()
    assert lplot.plot_distortion(history, ax=ax) is ax
    with pytest.raises(TypeError, match=r"history must be the KMeansHistory"):
        lplot.plot_distortion(np.zeros((3, 3)))


# ----------------------------------------------------------------------------- plot_elbow


def test_elbow_k1_is_the_total_variance_and_k3_is_the_elbow(sample, tmp_path):
    X, _ = sample
    ax = lplot.plot_elbow(X, range(1, 6), n_init=3)
    assert len(ax.lines) == 1
    ks, distortions = ax.lines[0].get_data()
    assert list(ks) == [1, 2, 3, 4, 5]
    # K = 1: the single centroid is the mean, so J is the total variance
    assert distortions[0] == pytest.approx(X.var(axis=0).sum())
    # three blobs: a big drop to K = 3, little after it
    drops = -np.diff(distortions)
    assert drops[1] > 5 * drops[2]
    assert ax.get_xlabel() == "number of clusters K" and "3 random starts" in ax.get_ylabel()
    _assert_png(ax.figure, tmp_path / "elbow.png")


def test_elbow_keeps_the_best_random_start():
    from lloyd._plot_choose_k import _best_of_random_starts

    # Two far pairs and a middle point: one random start can be poor, the best of many is not.
    X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0], [5.0, 0.5]])
    rng = np.random.default_rng(0)
    single = [
        _best_of_random_starts(X, 2, n_init=1, max_iters=10, rng=rng)[2] for _ in range(20)
    ]
    best = _best_of_random_starts(X, 2, n_init=20, max_iters=10,
                                  rng=np.random.default_rng(0))
    assert best[2] == pytest.approx(min(single))
    assert lloyd.compute_distortion(X, best[1], best[0]) == pytest.approx(best[2])


def test_elbow_is_seeded_and_accepts_an_ax(sample):
    X, _ = sample
    _, ax = plt.subplots()
    assert lplot.plot_elbow(X, [2, 4], n_init=1, random_state=3, ax=ax) is ax
    again = lplot.plot_elbow(X, [2, 4], n_init=1, random_state=3)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), again.lines[0].get_ydata())


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"k_range": [0, 1]}, r"every K in k_range=0 must be >= 1"),
        ({"k_range": [2, 301]}, r"every K in k_range=301 must be <= n_samples=300"),
        ({"k_range": []}, r"k_range must hold at least one value"),
        ({"k_range": 5}, r"k_range must be an iterable of integers"),
        ({"k_range": [2.5]}, r"every K in k_range must be an integer"),
        ({"n_init": 0}, r"n_init must be an integer >= 1, got 0"),
    ],
)
def test_elbow_bad_input(sample, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        lplot.plot_elbow(sample[0], **kwargs)


# ------------------------------------------------------------------------ plot_silhouette


def test_silhouette_bands_and_mean(sample, tmp_path):
    from sklearn.metrics import silhouette_score

    X, history = sample
    labels = history.labels[-1]
    ax = lplot.plot_silhouette(X, labels)
    assert len(ax.collections) == 3  # one band per cluster
    assert len(ax.lines) == 1
    score = silhouette_score(X, labels)
    assert ax.lines[0].get_xdata()[0] == pytest.approx(score)
    assert ax.get_title() == f"Silhouette, K = 3: mean {score:.3f}"
    texts = [t.get_text() for t in ax.texts]
    assert {"cluster 0", "cluster 1", "cluster 2"} <= set(texts)
    # each band is as tall as its cluster is large
    heights = [np.ptp(c.get_paths()[0].vertices[:, 1]) + 1 for c in ax.collections]
    np.testing.assert_allclose(heights, np.bincount(labels), atol=1)
    _assert_png(ax.figure, tmp_path / "silhouette.png")


def test_silhouette_into_given_ax(sample):
    X, history = sample
    _, ax = plt.subplots()
    assert lplot.plot_silhouette(X, history.labels[-1], ax=ax) is ax


@pytest.mark.parametrize(
    ("labels", "pattern"),
    [
        (np.zeros(10, dtype=int), r"labels must have shape \(300,\).*got shape \(10,\)"),
        (np.zeros((300, 1), dtype=int), r"labels must have shape \(300,\)"),
        (np.zeros(300, dtype=int), r"labels has 1 distinct clusters.*between 2"),
        (np.arange(300), r"labels has 300 distinct clusters"),
    ],
)
def test_silhouette_bad_input(sample, labels, pattern):
    with pytest.raises(ValueError, match=pattern):
        lplot.plot_silhouette(sample[0], labels)


# ------------------------------------------------------------------------- plot_colors_3d


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, size=(40, 30, 3), dtype=np.uint8)


def test_colors_3d_subsamples_and_marks_the_palette(image, tmp_path):
    palette = np.array([[255, 0, 0], [0, 0, 255]], dtype=np.uint8)
    ax = lplot.plot_colors_3d(image, palette, n_points=500)
    assert ax.name == "3d"
    pixels, marks = ax.collections
    assert len(pixels.get_offsets()) == 500 and len(marks.get_offsets()) == 2
    ax.figure.canvas.draw()  # 3-D collections report their colours once drawn (depth-sorted)
    np.testing.assert_allclose(_rows_sorted(marks.get_facecolor()[:, :3]), [[0, 0, 1], [1, 0, 0]])
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("red", "green", "blue")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["pixels (500 of 1,200)", "palette (2 colours)"]
    _assert_png(ax.figure, tmp_path / "colors.png")


def test_colors_3d_pixels_are_drawn_in_their_own_colour(image):
    pixels = image.reshape(-1, 3)
    ax = lplot.plot_colors_3d(pixels)  # fewer pixels than n_points: all of them
    ax.figure.canvas.draw()
    drawn = ax.collections[0]
    assert len(drawn.get_offsets()) == len(pixels)
    np.testing.assert_allclose(
        _rows_sorted(drawn.get_facecolor()[:, :3]), _rows_sorted(pixels / 255), atol=1e-12
    )


def test_colors_3d_is_seeded(image):
    def drawn_colors(seed):
        ax = lplot.plot_colors_3d(image, n_points=100, random_state=seed)
        ax.figure.canvas.draw()
        return ax.collections[0]

    a, b, c = drawn_colors(5), drawn_colors(5), drawn_colors(6)
    np.testing.assert_array_equal(a.get_facecolor(), b.get_facecolor())
    assert not np.array_equal(a.get_facecolor(), c.get_facecolor())


def test_colors_3d_float_input_and_given_ax(image):
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    assert lplot.plot_colors_3d(image / 255.0, ax=ax) is ax


@pytest.mark.parametrize(
    ("args", "kwargs", "pattern"),
    [
        ((np.zeros((4, 4, 4)),), {}, r"image_or_pixels must have shape.*drop the alpha"),
        ((np.zeros((4, 2)),), {}, r"image_or_pixels must have shape \(h, w, 3\)"),
        ((np.full((4, 3), 200.0),), {}, r"image_or_pixels holds floats outside \[0, 1\]"),
        ((np.zeros((4, 3)), np.zeros((2, 4))), {}, r"palette must have shape \(K, 3\)"),
        ((np.zeros((4, 3)),), {"n_points": 0}, r"n_points must be an integer >= 1"),
    ],
)
def test_colors_3d_bad_input(args, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        lplot.plot_colors_3d(*args, **kwargs)


def test_colors_3d_needs_a_3d_ax():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"ax must be a 3-D Axes"):
        lplot.plot_colors_3d(np.zeros((4, 3)), ax=ax)


# ---------------------------------------------------------------- palette and comparison


def test_palette_swatches(tmp_path):
    palette = np.array([[255, 0, 0], [0, 128, 0], [0, 0, 255]], dtype=np.uint8)
    ax = lplot.plot_palette(palette)
    assert len(ax.images) == 1 and ax.get_title() == "Palette: 3 colours"
    np.testing.assert_allclose(ax.images[0].get_array()[0], palette / 255)
    # floats in [0, 1] draw the same swatches
    floats = lplot.plot_palette(palette / 255.0)
    np.testing.assert_allclose(floats.images[0].get_array(), ax.images[0].get_array())
    _, given = plt.subplots()
    assert lplot.plot_palette(palette, ax=given) is given
    _assert_png(ax.figure, tmp_path / "palette.png")


@pytest.mark.parametrize(
    ("palette", "pattern"),
    [
        (np.zeros(3), r"palette must have shape \(K, 3\) or \(K, 4\), got \(3,\)"),
        (np.zeros((2, 5)), r"palette must have shape"),
        (np.full((2, 3), 255.0), r"palette holds floats outside \[0, 1\].*divide"),
        (np.full((2, 3), 300), r"palette holds integers outside \[0, 255\]"),
    ],
)
def test_palette_bad_input(palette, pattern):
    with pytest.raises(ValueError, match=pattern):
        lplot.plot_palette(palette)


def test_comparison_figure(tmp_path):
    original = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    compressed = original // 64 * 64 / 255.0
    fig = lplot.plot_comparison(original, compressed, [[0, 0, 0], [255, 255, 255]])
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["Original", "Compressed", "Palette: 2 colours"]
    assert [len(ax.images) for ax in fig.axes] == [1, 1, 1]
    fig2 = lplot.plot_comparison(original, compressed, titles=("a", "b"))
    assert [ax.get_title() for ax in fig2.axes] == ["a", "b"]
    given = plt.figure()
    assert lplot.plot_comparison(original, compressed, fig=given) is given
    _assert_png(fig, tmp_path / "comparison.png")


@pytest.mark.parametrize(
    ("compressed", "pattern"),
    [
        (np.zeros((600, 3)), r"compressed must be an RGB\(A\) image.*reshape them"),
        (np.zeros((10, 30, 3)), r"compressed has size \(10, 30\) but original has \(20, 30\)"),
        (np.zeros((20, 30, 2)), r"compressed must be an RGB\(A\) image of shape"),
        (np.zeros((20, 30)), r"compressed must be an RGB\(A\) image.*got \(20, 30\)\.$"),
    ],
)
def test_comparison_bad_input(compressed, pattern):
    with pytest.raises(ValueError, match=pattern):
        lplot.plot_comparison(np.zeros((20, 30, 3)), compressed)


# ---------------------------------------------------------------------------- the module


def test_plot_is_reachable_from_lloyd_without_importing_matplotlib():
    code = (
        "import sys, lloyd\n"
        "assert callable(lloyd.plot.plot_progress)\n"
        "assert 'plot' in dir(lloyd)\n"
        "assert 'matplotlib' not in sys.modules, 'lloyd.plot imported matplotlib'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_public_function_is_listed():
    public = {n for n in dir(lplot) if n.startswith(("plot_", "animate_"))}
    assert public == set(lplot.__all__)
