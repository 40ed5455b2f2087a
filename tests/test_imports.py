"""Each command imports only what it uses: checked in a fresh interpreter, as a user meets it.

numba imports SciPy itself (the package at import, ``scipy.linalg`` for its BLAS when it loads a
compiled kernel); where numba runs, that much of SciPy is allowed, and nothing more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

#: The heavy or optional modules a command may pull in only when it uses them.
HEAVY = ("sklearn", "scipy", "numba", "matplotlib", "pandas", "dask", "pyarrow")
#: What numba brings of SciPy by itself: the package, and scipy.linalg (its BLAS).
NUMBA_SCIPY = {"scipy"}
NUMBA_SCIPY_PARTS = {"scipy.linalg"}

_PROBE = """
import contextlib, io, json, sys
{body}
loaded = sorted({{m.partition(".")[0] for m in sys.modules}} & set({heavy!r}))
scipy_parts = sorted({{".".join(m.split(".")[:2]) for m in sys.modules
                      if m.startswith("scipy.") and not m.startswith("scipy._")
                      and m not in ("scipy.version", "scipy.__config__")}})
print(json.dumps({{"loaded": loaded, "scipy_parts": scipy_parts}}))
"""


def _loaded(body: str, cwd) -> dict:
    code = _PROBE.format(body=body, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=cwd).stdout
    return json.loads(out.strip().splitlines()[-1])


def _cli(*argv) -> str:
    return ("from lloyd.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), "
            "contextlib.redirect_stderr(io.StringIO()):\n"
            f"    assert main({list(argv)!r}) == 0\n")


def _assert_only(found: dict, allowed: set):
    extra = set(found["loaded"]) - allowed
    assert not extra, f"imported without being used: {sorted(extra)}"
    if "scipy" in found["loaded"]:
        assert "numba" in found["loaded"], "SciPy imported without numba"
        assert set(found["scipy_parts"]) <= NUMBA_SCIPY_PARTS, found["scipy_parts"]


def test_help_imports_nothing_heavy(tmp_path):
    found = _loaded("from lloyd.cli import main\n"
                    "with contextlib.redirect_stdout(io.StringIO()):\n"
                    "    assert main(['--help']) == 0\n"
                    "assert 'numpy' not in sys.modules\n", tmp_path)
    _assert_only(found, set())


@pytest.mark.slow
def test_compress_imports_neither_scikit_learn_nor_scipy(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    # Nor tqdm (50 ms) when no bar is shown, nor numpy.ma (25 ms, which np.unique loads).
    found = _loaded(_cli("compress", "a.png", "-k", "8", "-o", "b.png")
                    + "assert 'tqdm' not in sys.modules, 'tqdm'\n"
                    + "assert 'numpy.ma' not in sys.modules, 'numpy.ma'\n", tmp_path)
    assert (tmp_path / "b.png").is_file()
    _assert_only(found, set())  # its kernels are compiled ahead of time: no numba either


@pytest.mark.slow
def test_cluster_imports_only_arrow(tmp_path):
    """An exact fit of a table runs on the engine: pyarrow reads it, and neither scikit-learn
    (1-2 s), pandas (which pyarrow's own to_numpy would load) nor numba is imported."""
    rng = np.random.default_rng(0)
    np.savetxt(tmp_path / "t.csv", rng.normal(size=(60, 3)), delimiter=",", header="a,b,c",
               comments="")
    found = _loaded(_cli("cluster", "t.csv", "-k", "3", "--random-state", "0"), tmp_path)
    _assert_only(found, {"pyarrow"})


def test_the_demo_library_path_imports_neither_scikit_learn_nor_numba(tmp_path):
    """The demo's computations (the taught steps on the 2-D sample and a photo) are plain
    numpy: no scikit-learn, and no numba to load for checking small inputs."""
    body = (
        "import numpy as np\n"
        "from lloyd.datasets import load_sample_2d, load_sample_image\n"
        "from lloyd.demo import INITIAL_CENTROIDS\n"
        "from lloyd.steps import kmeans_init_centroids, run_kmeans\n"
        "X, _ = load_sample_2d()\n"
        "run_kmeans(X, INITIAL_CENTROIDS, max_iters=10)\n"
        "start = kmeans_init_centroids(X, 3, random_state=6)\n"
        "run_kmeans(X, start, max_iters=10)\n"
        "pixels = load_sample_image().reshape(-1, 3) / 255.0\n"
        "run_kmeans(pixels, kmeans_init_centroids(pixels, 16, random_state=6), max_iters=2)\n"
    )
    # The sample photograph ships inside matplotlib's package, which finding it imports.
    _assert_only(_loaded(body, tmp_path), {"matplotlib"})


def test_the_image_library_path_imports_no_scikit_learn(tmp_path):
    body = (
        "import numpy as np\n"
        "from lloyd import quantize\n"
        "image = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)\n"
        "quantize(image, 4, random_state=0)\n"
    )
    _assert_only(_loaded(body, tmp_path), {"numba"} | NUMBA_SCIPY)


@pytest.mark.parametrize(("user", "expected"), [(None, 1), ("2", 2)])
def test_commands_spare_openblas_its_thread_pool(tmp_path, user, expected):
    """A command runs OpenBLAS on one thread (lloyd's kernels are the parallel part), unless
    the user set OPENBLAS_NUM_THREADS."""
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    code = ("import contextlib, io, json\nfrom lloyd.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['compress', 'a.png', '-k', '8', '-o', 'b.png']) == 0\n"
            "from threadpoolctl import threadpool_info\n"
            "print(json.dumps([p['num_threads'] for p in threadpool_info()"
            " if p['internal_api'] == 'openblas']))\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if user is not None:
        env["OPENBLAS_NUM_THREADS"] = user
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=tmp_path, env=env).stdout
    counts = json.loads(out.strip().splitlines()[-1])
    assert counts and all(n == min(expected, os.cpu_count() or 1) for n in counts)
