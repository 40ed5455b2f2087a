"""The tutorial runs top to bottom, in a kernel on this interpreter and this lloyd, writing no
file anywhere in the checkout (nor where it runs); and it is committed without outputs."""

import json

import pytest

from _notebook import NOTEBOOK, TIME_LIMIT_S


def test_tutorial_is_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code_cells
    for cell in code_cells:
        assert cell["outputs"] == [] and cell["execution_count"] is None, "".join(cell["source"])
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.slow
def test_tutorial_runs_top_to_bottom(executed_tutorial):
    nb, seconds = executed_tutorial["nb"], executed_tutorial["seconds"]
    assert seconds < TIME_LIMIT_S, f"the tutorial took {seconds:.0f} s"
    # Warnings in the notebook are printed to stderr: a clean tutorial shows none.
    stderr = [
        out["text"]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    ]
    assert not stderr, stderr
    # Every figure was drawn, the animation among them.
    kinds = [
        kind
        for cell in nb.cells
        for out in cell.get("outputs", [])
        for kind in ("image/png", "image/gif")
        if kind in out.get("data", {})
    ]
    assert len(kinds) >= 10 and "image/gif" in kinds
    # The animation went to a temporary folder that is gone: nothing where the notebook ran.
    assert list(executed_tutorial["work"].iterdir()) == []


@pytest.mark.slow
def test_running_the_tutorial_leaves_the_checkout_clean(executed_tutorial):
    """It once wrote kmeans_progress.gif where it ran (docs/, under Jupyter): now nothing is
    written where it runs (above), and the checkout's git status is the same after a run."""
    if executed_tutorial["status_before"] is None:
        pytest.skip("not a git checkout")
    assert executed_tutorial["status_after"] == executed_tutorial["status_before"]
    assert not (NOTEBOOK.parent / "kmeans_progress.gif").exists()
