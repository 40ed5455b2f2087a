"""The tutorial runs top to bottom, in a kernel on this interpreter and this lloyd, writing nothing
into the repository; and it is committed without outputs."""

import json
import os
import sys
import time
from pathlib import Path

import pytest

import lloyd

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "tutorial.ipynb"

#: The whole notebook must run in this time (the issue's promise to learners).
TIME_LIMIT_S = 120


def test_tutorial_is_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code_cells
    for cell in code_cells:
        assert cell["outputs"] == [] and cell["execution_count"] is None, "".join(cell["source"])
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


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


@pytest.mark.slow
def test_tutorial_runs_top_to_bottom(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    work = tmp_path / "work"
    work.mkdir()
    # The kernel imports the lloyd under test (the kernel inherits the environment), keeps its
    # runtime files in tmp_path, and uses the non-deprecated Jupyter paths.
    lloyd_root = str(Path(lloyd.__file__).resolve().parents[1])
    pythonpath = [lloyd_root, *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(pythonpath))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    # A first cell (in this copy only) proving which interpreter and which lloyd the kernel runs.
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
        allow_errors=False,  # any error in a cell fails the test, naming the cell
        resources={"metadata": {"path": str(work)}},
    )
    docs_before = _snapshot(NOTEBOOK.parent)
    start = time.perf_counter()
    # cleanup_kc: shut the kernel down and close its sockets, though the client did not make it
    client.execute(cleanup_kc=True)
    seconds = time.perf_counter() - start

    assert seconds < TIME_LIMIT_S, f"the tutorial took {seconds:.0f} s"
    # Warnings in the notebook are printed to stderr: a clean tutorial shows none.
    stderr = [
        out["text"]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    ]
    assert not stderr, stderr
    # Every figure was drawn, and the animation written where the notebook runs.
    images = [
        out
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {}) or "image/gif" in out.get("data", {})
    ]
    assert len(images) >= 10
    assert sorted(p.name for p in work.iterdir()) == ["kmeans_progress.gif"]
    assert _snapshot(NOTEBOOK.parent) == docs_before, "the tutorial wrote into docs/"


def _snapshot(folder: Path):
    return {str(p): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}
