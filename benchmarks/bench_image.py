"""lloyd compress against pngquant and Pillow's quantizers on photographs and on graphics.

Every tool does the whole file-to-file job (read a PNG, quantize, write a palette PNG); quality
is measured on the written file with scikit-image, an independent reference (PSNR, CIEDE2000,
SSIM with ``channel_axis=2``, and blurred ΔE2000: ΔE2000 after both images are Gaussian-blurred
with σ = 1 pixel, what the eye sees of a dither). Images with alpha are measured composited
over white. Timings are interleaved (tool after tool, image after image) and the median of
``--repeat`` runs is kept.

Three comparisons (``--mode``):

- ``plain``: no dithering; lloyd in three colour spaces against ``pngquant --nofs`` and Pillow.
- ``dither``: ``lloyd compress --dither`` against pngquant's default (dithered), with both
  undithered for reference.
- ``quality``: ``--quality 65-80`` and ``80-95``, lloyd (default: undithered) against
  pngquant's default; colours, bytes, ΔE2000 and SSIM.
- ``speed``: ``--speed 1, 4, 7, 10, 11``, lloyd and pngquant undithered (``--nofs``), time
  against quality.

Two image sets (``--set``): ``photos``, the colour photographs scikit-image ships; ``graphics``,
icons with transparency from Debian's adwaita-icon-theme (``apt-get install
adwaita-icon-theme``; never copied into the repository) and figures lloyd renders itself with
matplotlib (an original | compressed | palette comparison of each photograph, and a k-means
scatter plot).

    python benchmarks/bench_image.py                       # plain, photos, K = 16, 64, 256
    python benchmarks/bench_image.py --mode dither --set graphics
    python benchmarks/bench_image.py --mode quality --repeat 1
    python benchmarks/bench_image.py -k 16 --repeat 1 --images astronaut chelsea
    python benchmarks/bench_image.py --mode speed -k 256 --repeat 3
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

#: scikit-image's colour photographs that ship with it (no download), by file name.
PHOTOS = {
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "immunohistochemistry": "ihc.png",
    "motorcycle_left": "motorcycle_left.png",
    "motorcycle_right": "motorcycle_right.png",
    "retina": "retina.jpg",
}
#: All of them, as the issue asks; retina (2 megapixels, as big as the rest together) was
#: once left out to save time. Pass --images to run a subset.
DEFAULT_PHOTOS = list(PHOTOS)


#: Adwaita icons (512 x 512, RGBA) of the graphics set, by their path under the theme.
ICONS = [
    "512x512/places/folder.png",
    "512x512/places/user-bookmarks.png",
    "512x512/devices/computer.png",
    "512x512/devices/input-gaming.png",
    "512x512/devices/printer.png",
    "512x512/devices/camera-web.png",
    "512x512/mimetypes/audio-x-generic.png",
    "512x512/emblems/emblem-shared.png",
    "256x256/status/user-trash-full.png",
]
ICON_THEME = Path("/usr/share/icons/Adwaita")
#: pngquant's --speed values compared (4 is its default).
SPEEDS = (1, 4, 7, 10, 11)
#: The PSNR a lossless result counts for in the means.
LOSSLESS_PSNR = 99.0


def pngquant_job(*options):
    def job(src: Path, dst: Path, k) -> None:
        colors = [] if k is None else [str(k)]
        done = subprocess.run(["pngquant", *options, "--force", "--output", str(dst), *colors,
                               str(src)], capture_output=True)
        if done.returncode not in (0, 99):
            raise RuntimeError(done.stderr.decode())
        if done.returncode == 99:  # quality below MIN: nothing written
            dst.unlink(missing_ok=True)
    return job


def pillow_job(method):
    def job(src: Path, dst: Path, k: int) -> None:
        with Image.open(src) as im:
            im.convert("RGB").quantize(k, method=method, dither=Image.Dither.NONE).save(
                dst, optimize=True)
    return job


def lloyd_job(color_space: str = "rgb", **options):
    def job(src: Path, dst: Path, k) -> None:
        import lloyd
        from lloyd.image import QualityTooLowError

        try:
            lloyd.compress(src, dst, k, overwrite=True, color_space=color_space,
                           random_state=0, **options)
        except QualityTooLowError:
            dst.unlink(missing_ok=True)
    return job


def _on_white(im) -> np.ndarray:
    """RGB pixels as float64 0-255, an image with alpha composited over white."""
    rgba = np.asarray(im.convert("RGBA"), dtype=np.float64)
    alpha = rgba[:, :, 3:] / 255.0
    return rgba[:, :, :3] * alpha + 255.0 * (1 - alpha)


def metrics(original: np.ndarray, path: Path) -> dict:
    """PSNR, ΔE2000, SSIM, blurred ΔE2000 and bits per pixel of the file at ``path``.

    ``original`` (h, w, 3) float64 on the 0-255 scale (composited over white)."""
    from skimage.color import deltaE_ciede2000, rgb2lab
    from skimage.filters import gaussian
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    with Image.open(path) as im:
        result = _on_white(im)
        n_colors = len(im.getcolors(256) or []) if im.mode == "P" else 0
    blurred = [gaussian(a / 255.0, sigma=1, channel_axis=2) for a in (original, result)]
    identical = np.array_equal(original, result)
    return {
        # A lossless result (small icons at 256 colours) counts as 99 dB, so means stay finite.
        "psnr": LOSSLESS_PSNR if identical else peak_signal_noise_ratio(original, result,
                                                                         data_range=255),
        "delta_e": float(deltaE_ciede2000(rgb2lab(original / 255.0),
                                          rgb2lab(result / 255.0)).mean()),
        "ssim": structural_similarity(original, result, channel_axis=2, data_range=255),
        "blur_de": float(deltaE_ciede2000(rgb2lab(blurred[0]), rgb2lab(blurred[1])).mean()),
        "bpp": path.stat().st_size * 8 / (original.shape[0] * original.shape[1]),
        "bytes": path.stat().st_size,
        "colors": n_colors,
    }


def blas_info() -> str:
    import sklearn.cluster  # noqa: F401  (loads the BLAS and OpenMP libraries it uses)
    from threadpoolctl import threadpool_info

    parts = []
    for lib in threadpool_info():
        parts.append(f"{lib['internal_api']} {lib.get('version') or ''} "
                     f"({lib.get('architecture') or lib.get('threading_layer') or '-'}, "
                     f"{lib['num_threads']} threads)")
    return "; ".join(parts)


def photo_inputs(tmp: Path, names) -> dict:
    """scikit-image's photographs as RGB PNG files (pngquant reads nothing else)."""
    import skimage

    data = Path(skimage.__file__).parent / "data"
    inputs = {}
    for name in names:
        with Image.open(data / PHOTOS[name]) as im:
            inputs[name] = tmp / f"{name}.png"
            im.convert("RGB").save(inputs[name])
    return inputs


def graphics_inputs(tmp: Path) -> dict:
    """Adwaita's icons (RGBA) and figures lloyd renders with matplotlib, as PNG files."""
    if not ICON_THEME.is_dir():
        raise SystemExit(f"the graphics set needs Debian's adwaita-icon-theme ({ICON_THEME} "
                         "is missing): apt-get install adwaita-icon-theme")
    inputs = {}
    for icon in ICONS:
        path = ICON_THEME / icon
        if not path.is_file():
            raise SystemExit(f"{path} is missing: adwaita-icon-theme has changed; update ICONS")
        inputs[Path(icon).stem] = path
    from matplotlib.figure import Figure

    import lloyd
    from lloyd.plot import plot_comparison

    for name in ("astronaut", "coffee"):
        photo = photo_inputs(tmp, [name])[name]
        result = lloyd.quantize(photo, 8, random_state=0)
        fig = Figure(figsize=(8, 5), dpi=100, layout="constrained")
        plot_comparison(result.original, result.to_array(), result.palette, fig=fig,
                        titles=("Original", "8 colours"))
        inputs[f"figure-{name}"] = tmp / f"figure-{name}.png"
        fig.savefig(inputs[f"figure-{name}"])
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(c, 0.6, size=(300, 2)) for c in ((0, 0), (3, 1),
                                                                         (1, 4))])
    model = lloyd.KMeans(3, random_state=0).fit(points)
    fig = Figure(figsize=(6, 4.5), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(*points.T, c=model.labels_, s=8, cmap="viridis", alpha=0.7)
    ax.scatter(*model.cluster_centers_.T, marker="x", s=120, c="crimson")
    ax.set_title("k-means, K = 3")
    inputs["figure-scatter"] = tmp / "figure-scatter.png"
    fig.savefig(inputs["figure-scatter"], transparent=True)
    return inputs


def run_table(tools, inputs, originals, settings, repeat):
    """Every tool on every input at every setting: {setting: {tool: mean metrics}}."""
    out = {}
    for setting in settings:
        times = {tool: {name: [] for name in inputs} for tool in tools}
        for _ in range(repeat):
            for name, src in inputs.items():
                for tool, job in tools.items():
                    dst = src.parent / f"out-{name}-{tool.replace(' ', '_')}-{setting}.png"
                    start = time.perf_counter()
                    job(src, dst, setting)
                    times[tool][name].append(time.perf_counter() - start)
        rows = {}
        for tool in tools:
            per_image, refused = [], 0
            for name, src in inputs.items():
                dst = src.parent / f"out-{name}-{tool.replace(' ', '_')}-{setting}.png"
                if dst.exists():
                    per_image.append(metrics(originals[name], dst))
                    dst.unlink()
                else:
                    refused += 1
            rows[tool] = {key: float(np.mean([m[key] for m in per_image]))
                          for key in per_image[0]} if per_image else {}
            rows[tool]["refused"] = refused
            rows[tool]["seconds"] = float(np.mean(
                [statistics.median(times[tool][name]) for name in inputs]))
        out[setting] = rows
    return out


def print_rows(rows, base_tool) -> None:
    base = rows.get(base_tool)
    print("| tool | PSNR dB | ΔE2000 | SSIM | blurred ΔE2000 | bytes / " + base_tool +
          " | s/image | time / " + base_tool + " |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for tool, r in rows.items():
        size = f"{r['bytes'] / base['bytes']:.3f}" if base else "-"
        ratio = f"{r['seconds'] / base['seconds']:.2f}" if base else "-"
        print(f"| {tool} | {r['psnr']:.2f} | {r['delta_e']:.3f} | {r['ssim']:.4f} | "
              f"{r['blur_de']:.3f} | {size} | {r['seconds']:.3f} | {ratio} |")
    print()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("plain", "dither", "quality", "speed"),
                        default="plain")
    parser.add_argument("--set", choices=("photos", "graphics"), default="photos")
    parser.add_argument("-k", "--colors", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--images", nargs="+", default=DEFAULT_PHOTOS, choices=list(PHOTOS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--spaces", nargs="+", default=["rgb", "lab", "oklab"])
    args = parser.parse_args(argv)
    if args.mode == "plain" and args.set == "photos":
        return plain_photos(args)
    if not shutil.which("pngquant"):
        raise SystemExit("--mode dither and quality compare with pngquant: install it")
    version = subprocess.run(["pngquant", "--version"], capture_output=True, text=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = (photo_inputs(tmp, args.images) if args.set == "photos"
                  else graphics_inputs(tmp))
        originals = {}
        for name, path in inputs.items():
            with Image.open(path) as im:
                originals[name] = _on_white(im)
        megapixels = sum(a.shape[0] * a.shape[1] for a in originals.values()) / 1e6
        lloyd_job()(next(iter(inputs.values())), tmp / "first.png", 16)  # compile first
        print(f"# lloyd compress vs pngquant, {args.mode}: {len(inputs)} {args.set} "
              f"({megapixels:.2f} megapixels)")
        print(f"pngquant {version.stdout.strip()}; Pillow {Image.__version__}; images with "
              "alpha measured over white")
        print(f"timings: median of {args.repeat}, interleaved, seconds per image (mean over "
              "images) for the whole file-to-file job, on a shared 2-core machine\n")
        if args.mode == "dither":
            tools = {"pngquant": pngquant_job(), "lloyd --dither": lloyd_job(dither=True),
                     "pngquant --nofs": pngquant_job("--nofs"), "lloyd": lloyd_job()}
            table = run_table(tools, inputs, originals, args.colors, args.repeat)
            for k, rows in table.items():
                print(f"## K = {k}\n")
                print_rows(rows, "pngquant")
            return None
        if args.mode == "speed":
            from lloyd.image import speed_options

            tools = {}
            for speed in SPEEDS:
                tools[f"pngquant --speed {speed}"] = pngquant_job("--nofs", "--speed", str(speed))
                tools[f"lloyd --speed {speed}"] = lloyd_job(**speed_options(speed))
            table = run_table(tools, inputs, originals, args.colors, args.repeat)
            for k, rows in table.items():
                print(f"## K = {k}\n")
                print_rows(rows, f"pngquant --speed {SPEEDS[1]}")
            return None
        for low, high in ((65, 80), (80, 95)):
            jobs = {
                "pngquant": pngquant_job("--quality", f"{low}-{high}"),
                "lloyd": lloyd_job(quality=(low, high)),
                "pngquant --nofs": pngquant_job("--nofs", "--quality", f"{low}-{high}"),
                "lloyd --dither": lloyd_job(dither=True, quality=(low, high)),
            }
            rows = run_table(jobs, inputs, originals, [None], args.repeat)[None]
            print(f"## --quality {low}-{high}\n")
            print("| tool | colours | PSNR dB | ΔE2000 | SSIM | blurred ΔE2000 | bytes / "
                  "pngquant | refused (exit 99) | s/image |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            base = rows["pngquant"]
            for tool, r in rows.items():
                if "bytes" not in r:
                    print(f"| {tool} | - | - | - | - | - | - | {r['refused']} | "
                          f"{r['seconds']:.3f} |")
                    continue
                print(f"| {tool} | {r['colors']:.0f} | {r['psnr']:.2f} | {r['delta_e']:.3f} | "
                      f"{r['ssim']:.4f} | {r['blur_de']:.3f} | "
                      f"{r['bytes'] / base['bytes']:.3f} | {r['refused']} | "
                      f"{r['seconds']:.3f} |")
            print()
    return None


def plain_photos(args) -> None:
    """The no-dithering table on the photographs (pngquant --nofs and Pillow)."""
    import skimage

    data = Path(skimage.__file__).parent / "data"
    tools = {}
    if shutil.which("pngquant"):
        version = subprocess.run(["pngquant", "--version"], capture_output=True, text=True)
        tools["pngquant --nofs"] = pngquant_job("--nofs")
        pngquant_note = f"pngquant {version.stdout.strip()}"
    else:
        pngquant_note = "pngquant is not installed: its rows are skipped"
    tools["Pillow MEDIANCUT"] = pillow_job(Image.Quantize.MEDIANCUT)
    tools["Pillow MAXCOVERAGE"] = pillow_job(Image.Quantize.MAXCOVERAGE)
    tools["Pillow FASTOCTREE"] = pillow_job(Image.Quantize.FASTOCTREE)
    for space in args.spaces:
        tools[f"lloyd {space}"] = lloyd_job(space)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # Every tool reads the same RGB PNG (pngquant reads nothing else).
        inputs, originals = {}, {}
        for name in args.images:
            with Image.open(data / PHOTOS[name]) as im:
                rgb = np.asarray(im.convert("RGB"))
            originals[name] = rgb.astype(np.float64)
            inputs[name] = tmp / f"{name}.png"
            Image.fromarray(rgb).save(inputs[name])
        megapixels = sum(a.shape[0] * a.shape[1] for a in originals.values()) / 1e6

        first = args.images[0]
        start = time.perf_counter()
        lloyd_job(args.spaces[0])(inputs[first], tmp / "first.png", args.colors[0])
        first_call = time.perf_counter() - start

        print(f"# lloyd compress vs pngquant and Pillow: {len(args.images)} photographs "
              f"({megapixels:.2f} megapixels), no dithering")
        print(f"{pngquant_note}; Pillow {Image.__version__}; k-means: lloyd.KMeans")
        print(f"BLAS / OpenMP: {blas_info()}")
        print(f"lloyd's first call (imports, compiles) on {first}, K={args.colors[0]}: "
              f"{first_call:.2f} s; it is not in the medians below")
        print(f"timings: median of {args.repeat}, interleaved, seconds per image (mean over "
              "images) for the whole file-to-file job, on a shared 2-core machine\n")

        for k in args.colors:
            times = {tool: {name: [] for name in args.images} for tool in tools}
            for _ in range(args.repeat):
                for name in args.images:
                    for tool, job in tools.items():
                        dst = tmp / f"{name}-{tool.replace(' ', '_')}-{k}.png"
                        start = time.perf_counter()
                        job(inputs[name], dst, k)
                        times[tool][name].append(time.perf_counter() - start)
            rows = {}
            for tool in tools:
                per_image = [metrics(originals[name],
                                     tmp / f"{name}-{tool.replace(' ', '_')}-{k}.png")
                             for name in args.images]
                rows[tool] = {key: float(np.mean([m[key] for m in per_image]))
                              for key in per_image[0]}
                rows[tool]["seconds"] = float(np.mean(
                    [statistics.median(times[tool][name]) for name in args.images]))
            base = rows.get("pngquant --nofs")
            print(f"## K = {k}\n")
            print("| tool | PSNR dB | ΔPSNR vs pngquant | ΔE2000 | SSIM | s/image | "
                  "time / pngquant | bits/pixel |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|")
            for tool, r in rows.items():
                dpsnr = f"{r['psnr'] - base['psnr']:+.2f}" if base else "-"
                ratio = f"{r['seconds'] / base['seconds']:.2f}" if base else "-"
                print(f"| {tool} | {r['psnr']:.2f} | {dpsnr} | {r['delta_e']:.3f} | "
                      f"{r['ssim']:.4f} | {r['seconds']:.3f} | {ratio} | {r['bpp']:.3f} |")
            print()


if __name__ == "__main__":
    main()
