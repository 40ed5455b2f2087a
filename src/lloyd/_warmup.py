"""The first run's compile: say it is happening, and do it ahead on request (``lloyd warmup``).

The kernels not yet compiled ahead of time (ARCHITECTURE.md, "Kernels") are numba's: compiled on
their first call and cached on disk. Until the port is done, a first run that needs one of them
pays that compile; the commands that need none (a palette below 128 colours, dithered or not, a
table of a few columns) load no numba and compile nothing, so they say nothing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

#: What compiling every numba kernel took (``lloyd warmup`` with an empty cache on this
#: project's 2-core machine, quiet, 2026-12-03: 87 s), rounded: the figure the notice quotes. A
#: command compiles only the kernels it runs, for its data's dtype.
ALL_KERNELS_SECONDS = 90

NOTICE = ("Compiling the numba kernels this command needs (first run only; all of them take "
          f"about {ALL_KERNELS_SECONDS} s, and 'lloyd warmup' compiles them ahead)...")

#: Whether the notice is wanted: the ``lloyd`` command asks for it (:func:`announce`) for the
#: commands that compute; a library user is not printed to.
_announced = {"wanted": False, "given": False}


def cache_places() -> list[Path]:
    """Where numba may keep lloyd's compiled kernels: beside their sources when that folder is
    writable, else under ``NUMBA_CACHE_DIR`` or the user's cache folder."""
    if os.environ.get("NUMBA_CACHE_DIR"):  # then numba reads and writes there only
        return [Path(os.environ["NUMBA_CACHE_DIR"])]
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return [Path(__file__).parent / "_kernels" / "__pycache__", Path(cache_home) / "numba"]


def numba_cache_is_cold(places: Iterable[Path] | None = None) -> bool:
    """True when no cached numba kernel of lloyd's is found in ``places`` (index files,
    ``*.nbi``): the next kernel call compiles."""
    for place in cache_places() if places is None else places:
        if place.is_dir() and any("_kernels" in p.parts for p in place.rglob("*.nbi")):
            return False
    return True


def announce() -> None:
    """Ask for the notice when numba's kernels load with a cold cache (the ``lloyd`` command,
    for the commands that compute)."""
    _announced["wanted"] = True


def numba_kernels_loading() -> None:
    """Called once, when the first numba kernel module is imported: give the notice if it was
    asked for."""
    if _announced["wanted"] and not _announced["given"]:
        _announced["given"] = notice_if_cold()


def notice_if_cold(stream=None) -> bool:
    """Print the first-run notice on ``stream`` (stderr) when the cache is cold; say if it did."""
    if not numba_cache_is_cold():
        return False
    print(NOTICE, file=stream or sys.stderr, flush=True)
    return True


def _workloads():
    """(name, call) pairs that together call every kernel for float32 and float64 data."""
    import numpy as np

    import lloyd

    rng = np.random.default_rng(0)

    def data(n, d, dtype):
        return (rng.normal(size=(n, d)) + rng.integers(0, 4, size=(n, 1))).astype(dtype)

    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        for d in (2, 3, 8, 40, 70):  # low d, Hamerly's range, Elkan's range, k-means++ by products
            X = data(600, d, dtype)
            for algorithm in ("lloyd", "elkan", "hamerly", "yinyang"):
                yield (f"KMeans {algorithm}, d={d}, {name}",
                       lambda X=X, a=algorithm: lloyd.KMeans(6, algorithm=a, n_init=1,
                                                             max_iter=3).fit(X))
            yield (f"AFK-MC² seeding, d={d}, {name}",
                   lambda X=X: lloyd.KMeans(6, init="afk-mc2", n_init=1, max_iter=2).fit(X))
            yield (f"MiniBatchKMeans, d={d}, {name}",
                   lambda X=X: lloyd.MiniBatchKMeans(6, batch_size=128, n_init=1,
                                                     max_iter=2).fit(X))
    image = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    for k, dither in ((160, False), (160, True)):  # Hamerly's palette kernel
        yield (f"quantize K={k}{', dithered' if dither else ''}",
               lambda k=k, dither=dither: lloyd.quantize(image, k, dither=dither))


def warm_up(progress: bool = True) -> tuple[int, float]:
    """Call every kernel once on small data, so that later runs find them compiled.

    Returns (workloads run, seconds taken).
    """
    from tqdm import tqdm

    start = time.perf_counter()
    jobs = list(_workloads())
    for _, call in tqdm(jobs, desc="compiling lloyd's kernels", unit="workload",
                        disable=not progress, file=sys.stderr):
        call()
    return len(jobs), time.perf_counter() - start
