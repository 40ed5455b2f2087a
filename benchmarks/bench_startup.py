"""Fixed costs: whole commands in fresh processes against pngquant and scikit-learn, and what a
busy machine does to lloyd's parallel kernels.

Run:
    python benchmarks/bench_startup.py              # every row, medians of 5, ~5 min
    python benchmarks/bench_startup.py --load       # the same with one busy process per core
    python benchmarks/bench_startup.py --rows compress,kmeans --repeats 3

Each row times whole commands (a new Python process each time, kernels already cached unless the
row says otherwise), lloyd and its competitor interleaved (A, B, A, B, ...), and reports the
medians and their ratio: the machine is shared and noisy, so the ratio is the figure to read.
Photographs: 768x512 views of scikit-image's colour photographs (shipped with it: nothing is
downloaded), 24 of them (each photograph, mirrored and cropped differently), written to a
temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: scikit-image's colour photographs (the files bench_image.py reads too).
PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
          "motorcycle_right.png", "hubble_deep_field.jpg", "ihc.png", "retina.jpg"]
TARGET = (768, 512)
ROWS = ["compress", "batch", "cluster", "kmeans", "demo", "threads"]


def write_photos(folder: Path, count: int = 24) -> list[Path]:
    """``count`` 768x512 RGB PNGs cut from scikit-image's photographs, each one different."""
    import skimage
    from PIL import Image

    data = Path(skimage.__file__).parent / "data"
    paths = []
    for i in range(count):
        name = PHOTOS[i % len(PHOTOS)]
        with Image.open(data / name) as source:
            image = source.convert("RGB")
        variant = i // len(PHOTOS)  # 0: whole, 1: mirrored, 2: a central crop
        if variant == 1:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        elif variant == 2:
            w, h = image.size
            image = image.crop((w // 8, h // 8, w - w // 8, h - h // 8))
        path = folder / f"photo{i:02d}-{Path(name).stem}.png"
        image.resize(TARGET, Image.Resampling.LANCZOS).save(path)
        paths.append(path)
    return paths


#: The commands' environment: as a user's, whose installed package has its bytecode cached
#: (pip compiles it); with PYTHONDONTWRITEBYTECODE set, as in some CI shells, every command
#: would compile lloyd's modules again (~40 ms), which no user pays.
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> float:
    """Wall time of one whole command, in a fresh process; fails loudly if it fails."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=USER_ENV if env is None else env, cwd=cwd,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                         f"{proc.stderr[-2000:]}")
    return elapsed


def interleaved(jobs: dict[str, callable], repeats: int) -> dict[str, float]:
    """Median wall time of each job, run A, B, A, B, ... after one untimed warm-up each."""
    for job in jobs.values():
        job()
    times = {name: [] for name in jobs}
    for _ in range(repeats):
        for name, job in jobs.items():
            times[name].append(job())
    return {name: statistics.median(t) for name, t in times.items()}


def lloyd_cmd() -> list[str]:
    """The ``lloyd`` command users run (the console script beside this Python), else
    ``python -m lloyd.cli``."""
    script = Path(sys.executable).with_name("lloyd")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "lloyd.cli"]


def row_compress(work: Path, photos: list[Path], repeats: int):
    photo = photos[0]
    out = work / "out"
    out.mkdir(exist_ok=True)
    jobs = {
        "lloyd compress -k 64": lambda: run([*lloyd_cmd(), "compress", str(photo), "-k", "64", "-o", str(out / "l.png"), "--force"]),
        "pngquant 64 --nofs": lambda: run(["pngquant", "--nofs", "--force", "--output",
                                           str(out / "p.png"), "64", str(photo)]),
    }
    t = interleaved(jobs, repeats)
    a, b = t.values()
    return "one 768x512 photo, K=64, fresh process", t, a / b, "<= 2x"


def row_batch(work: Path, photos: list[Path], repeats: int):
    out = work / "batch"
    out.mkdir(exist_ok=True)
    files = [str(p) for p in photos]

    def lloyd_batch():
        for p in out.glob("*"):
            p.unlink()
        return run([*lloyd_cmd(), "compress", *files, "-k", "64", "--ext=-l64.png", "--force"])

    def pngquant_batch():
        return run(["pngquant", "--nofs", "--force", "--ext", "-p64.png", "64", *files])

    t = interleaved({"lloyd compress (24 photos, one call)": lloyd_batch,
                     "pngquant 64 --nofs (24 photos, one call)": pngquant_batch}, repeats)
    a, b = t.values()
    return "24 photos in one call, K=64", t, a / b, "<= 1x"


def row_cluster(work: Path, photos: list[Path], repeats: int):
    from sklearn.datasets import load_iris

    csv = work / "iris.csv"
    if not csv.exists():
        X = load_iris().data
        lines = ["sepal_length,sepal_width,petal_length,petal_width"]
        lines += [",".join(f"{v:g}" for v in row) for row in X]
        csv.write_text("\n".join(lines) + "\n")
    labels = work / "iris-labels.csv"
    t = interleaved({"lloyd cluster iris.csv -k 3": lambda: run(
        [*lloyd_cmd(), "cluster", str(csv), "-k", "3", "--labels", str(labels), "--force", "--quiet"])}, repeats)
    (a,) = t.values()
    return "150-row CSV, fresh process", t, a, "<= 1 s"


KMEANS_CODE = """
import numpy as np
X = np.random.default_rng(0).normal(size=(1000, 2))
import {module} as m
m.KMeans(3, random_state=0, n_init=1).fit(X)
"""


def row_kmeans(work: Path, photos: list[Path], repeats: int):
    jobs = {
        f"{name}.KMeans(3).fit(1000x2)": (lambda mod=mod: run(
            [sys.executable, "-c", KMEANS_CODE.format(module=mod)]))
        for name, mod in (("lloyd", "lloyd"), ("sklearn", "sklearn.cluster"))
    }
    t = interleaved(jobs, repeats)
    a, b = t.values()
    return "import + KMeans(3).fit on 1000x2, fresh process", t, a / b, "<= 1x"


def row_demo(work: Path, photos: list[Path], repeats: int):
    """The first demo after install: numba's cache empty (its own folder), figures to a temp."""
    times = []
    for r in range(min(repeats, 2)):  # each run compiles everything: two are plenty
        cache = work / f"numba-cache-{r}"
        env = dict(USER_ENV, NUMBA_CACHE_DIR=str(cache))
        times.append(run([*lloyd_cmd(), "demo", "--out", str(work / f"demo-{r}")], env=env))
        shutil.rmtree(cache, ignore_errors=True)
    t = {"first lloyd demo (empty numba cache)": statistics.median(times)}
    return "first demo after install", t, t["first lloyd demo (empty numba cache)"], "<= 15 s"


@contextlib.contextmanager
def one_thread():
    """numba's and OpenMP's threads (and BLAS's) limited to one, restored after."""
    import numba
    from threadpoolctl import threadpool_limits

    original = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        numba.set_num_threads(original)


#: Seconds each loaded-machine timing runs for at least (see row_threads).
MIN_TIMING = 0.6


def row_threads(work: Path, photos: list[Path], repeats: int):
    """In-process: lloyd with its default threads against the same call on one thread, on the
    image path and on every bench_engine cell (float64, 5 iterations from the same start, to
    keep the loaded run short).

    Each timing repeats the call until it has run for MIN_TIMING seconds on one thread (time
    per call reported): with one busy process per core, a 0.1 s fit of (10⁶, 3, 16) took
    0.10-0.22 s from one call to the next on one and the same thread count (every pass ran on
    one thread: instrumented), the time slices it happened to get, so single calls of the short
    jobs could not tell 1.1x from noise."""
    from PIL import Image

    import lloyd

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_engine import CELLS, make_data

    image = np.asarray(Image.open(photos[0]).convert("RGB"))

    def timer(call):
        def job():
            start = time.perf_counter()
            call()
            return time.perf_counter() - start
        return job

    jobs = {f"quantize K={k}": timer(lambda k=k: lloyd.quantize(image, k, random_state=0))
            for k in (16, 64)}
    for n, d, k in CELLS:
        X, init = make_data(n, d, k, np.float64)
        jobs[f"KMeans ({n:.0e}, {d}, {k}) x5"] = timer(
            lambda X=X, init=init, k=k: lloyd.KMeans(k, init=init, n_init=1, max_iter=5,
                                                     tol=0).fit(X))
    rows, ratios = {}, []
    for name, job in jobs.items():
        job()
        with one_thread():
            calls = max(1, math.ceil(MIN_TIMING / job()))

        def timing(job=job, calls=calls):
            return sum(job() for _ in range(calls)) / calls

        default, single = [], []
        for _ in range(repeats):
            default.append(timing())
            with one_thread():
                single.append(timing())
        rows[f"{name}: default threads"] = statistics.median(default)
        rows[f"{name}: 1 thread"] = statistics.median(single)
        ratios.append(rows[f"{name}: default threads"] / rows[f"{name}: 1 thread"])
    return "in-process, default threads / 1 thread (worst)", rows, max(ratios), "<= 1.1x loaded"


@contextlib.contextmanager
def busy_cores(n: int):
    """``n`` processes spinning on a core each, for the duration."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.5)
        yield
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def describe_machine() -> str:
    from threadpoolctl import threadpool_info

    blas = ", ".join(f"{m['internal_api']} {m.get('version')} {m.get('architecture')}"
                     for m in threadpool_info())
    load = os.getloadavg()
    return (f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; thread pools: {blas}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated: {ROWS}")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--load", action="store_true",
                        help="one busy process per core while measuring")
    args = parser.parse_args(argv)
    rows = [r for r in args.rows.split(",") if r]
    if unknown := sorted(set(rows) - set(ROWS)):
        parser.error(f"unknown rows {unknown}; choose from {ROWS}")
    if shutil.which("pngquant") is None and {"compress", "batch"} & set(rows):
        parser.error("pngquant is not installed (Debian: apt-get install pngquant)")
    print(describe_machine())
    print(f"started {time.strftime('%Y-%m-%d %H:%M:%S')}, medians of {args.repeats}"
          f"{', one busy process per core' if args.load else ''}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photos = write_photos(work)
        load = busy_cores(os.cpu_count() or 1) if args.load else contextlib.nullcontext()
        results = []
        with load:
            for row in rows:
                results.append(globals()[f"row_{row}"](work, photos, args.repeats))
                what, times, figure, target = results[-1]
                print(f"\n{what} (target {target})")
                for name, seconds in times.items():
                    print(f"  {name:55s} {seconds:8.3f} s")
                print(f"  -> {figure:.2f}{'' if target.endswith(' s') else 'x'}", flush=True)
    print("\n| what | figure | target |\n|---|---|---|")
    for what, _, figure, target in results:
        unit = " s" if target.endswith(" s") else "x"
        print(f"| {what} | {figure:.2f}{unit} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
