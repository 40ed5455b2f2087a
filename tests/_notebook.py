"""Running docs/tutorial.ipynb in a kernel on this interpreter and this lloyd (for the
``executed_tutorial`` fixture of conftest.py)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import lloyd

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"

#: The whole notebook must run in this time (the issue's promise to learners).
TIME_LIMIT_S = 120


def _kernel_manager(kernels_dir: Path):
    """A kernel manager whose ``python3`` kernel is this very interpreter.

    The ``python3`` kernelspec installed in an environment usually runs plain ``python`` from the
    PATH, which may be another interpreter with another lloyd; this one cannot be.
    """
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    spec_dir = kernels_dir / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (lloyd tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(kernels_dir)], ensure_native_kernel=False)
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)


def git_status():
    """The checkout's ``git status`` (untracked files included), or None outside a checkout."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                              "--untracked-files=all"], capture_output=True, text=True,
                             check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout


def execute_tutorial(tmp_path: Path):
    """Run the tutorial top to bottom in ``tmp_path / 'work'``; return a dict: ``nb`` the
    executed notebook (without the probe cell), ``seconds``, ``work`` the folder it ran in,
    ``status_before`` and ``status_after`` the checkout's git status around the run. Any
    error in a cell raises, naming the cell."""
    import nbformat
    from nbclient import NotebookClient

    work = tmp_path / "work"
    work.mkdir()
    # The kernel imports the lloyd under test (the kernel inherits the environment), keeps its
    # runtime files in tmp_path, and uses the non-deprecated Jupyter paths.
    lloyd_root = str(Path(lloyd.__file__).resolve().parents[1])
    env = {
        "PYTHONPATH": os.pathsep.join([lloyd_root, *filter(None, [os.environ.get("PYTHONPATH")])]),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        # A first cell (in this copy only) proving which interpreter and lloyd the kernel runs.
        expected = {"prefix": sys.prefix, "lloyd": str(Path(lloyd.__file__).resolve())}
        probe = (
            "import sys, pathlib, lloyd\n"
            f"assert sys.prefix == {expected['prefix']!r}, sys.prefix\n"
            f"assert str(pathlib.Path(lloyd.__file__).resolve()) == {expected['lloyd']!r}, "
            "lloyd.__file__\n"
        )
        nb.cells.insert(0, nbformat.v4.new_code_cell(probe))
        client = NotebookClient(
            nb,
            km=_kernel_manager(tmp_path / "kernels"),
            timeout=TIME_LIMIT_S,
            allow_errors=False,  # any error in a cell fails, naming the cell
            resources={"metadata": {"path": str(work)}},
        )
        status_before = git_status()
        start = time.perf_counter()
        # cleanup_kc: shut the kernel down and close its sockets, though the client did not
        # make it
        client.execute(cleanup_kc=True)
        seconds = time.perf_counter() - start
        status_after = git_status()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    nb.cells.pop(0)
    return {"nb": nb, "seconds": seconds, "work": work, "status_before": status_before,
            "status_after": status_after}
