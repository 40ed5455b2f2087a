"""The teaching journey end to end: k-means on the 2-D sample, random starts, a photo in 16 colours.

Used by ``lloyd demo``; every figure is written as a PNG (the iterations also as a GIF) and a short
report is returned.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lloyd._plot_base import save_figure
from lloyd.datasets import load_sample_2d, load_sample_image
from lloyd.steps import kmeans_init_centroids, run_kmeans

#: The initial centroids of the classic exercise.
INITIAL_CENTROIDS = np.array([[3.0, 3.0], [6.0, 2.0], [8.0, 5.0]])

#: With this seed one of the three random starts ends in a poor local minimum, which is the
#: lesson of the figure: different starts, different results, keep the lowest distortion.
DEFAULT_SEED = 6


@dataclass
class DemoReport:
    """What ``lloyd demo`` did, for printing and for tests."""

    n_iter: int
    distortion: float
    random_distortions: list[float]
    kept_run: int
    image_shape: tuple[int, int]
    n_colors: int
    image_distortion: float
    figures: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def bits_before(self) -> int:
        h, w = self.image_shape
        return h * w * 24

    @property
    def bits_after(self) -> int:
        h, w = self.image_shape
        return h * w * math.ceil(math.log2(self.n_colors)) + self.n_colors * 24

    @property
    def ratio(self) -> float:
        return self.bits_before / self.bits_after

    def format(self) -> str:
        h, w = self.image_shape
        bpp = math.ceil(math.log2(self.n_colors))
        runs = ", ".join(
            f"run {i + 1}: {d:.6f}" + (" (kept)" if i == self.kept_run else "")
            for i, d in enumerate(self.random_distortions)
        )
        lines = [
            "k-means on the 2-D sample (300 points, K=3, start [[3, 3], [6, 2], [8, 5]])",
            f"  iterations: {self.n_iter}, final distortion: {self.distortion:.4f}",
            f"  three random starts, distortion after {self.n_iter} iterations: {runs}",
            f"photo {w}x{h} reduced to {self.n_colors} colours "
            f"(distortion {self.image_distortion:.5f} on [0, 1] RGB)",
            f"  before: 24 bits/pixel x {h * w:,} pixels = {self.bits_before:,} bits",
            f"  after:  log2({self.n_colors}) = {bpp} bits/pixel x {h * w:,} pixels "
            f"+ {self.n_colors} x 24 bits of palette = {self.bits_after:,} bits",
            f"  compression ratio: {self.ratio:.2f}x",
            "figures:",
            *(f"  {path}" for path in self.figures.values()),
            f"done in {self.seconds:.1f} s",
        ]
        return "\n".join(lines)


def run_demo(
    out_dir="lloyd-demo", *, n_colors=16, max_iters=10, random_state=DEFAULT_SEED
) -> DemoReport:
    """Run the whole demo and write its figures into ``out_dir`` (created if missing)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from lloyd.plot import animate_progress, plot_comparison, plot_elbow, plot_progress

    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(random_state)
    figures = {}

    # 1. The classic exercise: fixed start, 10 iterations, every centroid's path.
    X, _ = load_sample_2d()
    _, _, history = run_kmeans(X, INITIAL_CENTROIDS, max_iters, return_history=True)
    fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
    plot_progress(X, history, ax=ax)
    # The demo owns its folder: a second run replaces its figures (each written atomically).
    figures["progress"] = save_figure(fig, out / "progress.png", overwrite=True)
    # The same run as an animation, one frame per half-step (assign, move centroids).
    figures["animation"] = animate_progress(X, history, out / "progress.gif")

    # 2. Three random starts: different results; keep the lowest distortion.
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), layout="constrained", sharey=True)
    distortions, histories = [], []
    for _ in range(3):
        start_centroids = kmeans_init_centroids(X, 3, random_state=rng)
        _, _, h = run_kmeans(X, start_centroids, max_iters, return_history=True)
        histories.append(h)
        distortions.append(float(h.distortion[-1]))
    # The first run within rounding of the best: equal distortions are the same clustering.
    best = min(distortions)
    kept = next(i for i, d in enumerate(distortions) if d <= best * (1 + 1e-9))
    for i, (ax, h) in enumerate(zip(axes, histories, strict=True)):
        verdict = "kept: lowest distortion" if i == kept else "discarded"
        title = f"Run {i + 1}: distortion {distortions[i]:.6f}\n({verdict})"
        plot_progress(X, h, ax=ax, title=title)
    fig.suptitle("Random initialisation: three runs, keep the one with the lowest distortion")
    figures["random_inits"] = save_figure(fig, out / "random_inits.png", overwrite=True)

    # 3. The photo: pixels scaled to [0, 1] are 3-D points; k-means finds n_colors of them.
    image = load_sample_image()
    pixels = image.reshape(-1, 3) / 255.0
    centroids = kmeans_init_centroids(pixels, n_colors, random_state=rng)
    centroids, idx, image_history = run_kmeans(pixels, centroids, max_iters, return_history=True)
    compressed = centroids[idx].reshape(image.shape)
    bpp = math.ceil(math.log2(n_colors))
    fig = plot_comparison(
        image, compressed, centroids,
        titles=("Original (24 bits per pixel)",
                f"Compressed with {n_colors} colours ({bpp} bits per pixel)"),
    )
    figures["compression"] = save_figure(fig, out / "compression.png", overwrite=True)

    # 4. Choosing K: the distortion falls sharply up to K = 3, then slowly (the elbow). Its own
    # seed, so the random starts above do not depend on it.
    fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    plot_elbow(X, range(1, 11), random_state=random_state, ax=ax)
    figures["elbow"] = save_figure(fig, out / "elbow.png", overwrite=True)

    report = DemoReport(
        n_iter=history.n_iter,
        distortion=float(history.distortion[-1]),
        random_distortions=distortions,
        kept_run=kept,
        image_shape=image.shape[:2],
        n_colors=n_colors,
        image_distortion=float(image_history.distortion[-1]),
        figures=figures,
    )
    report.seconds = time.perf_counter() - start
    return report

