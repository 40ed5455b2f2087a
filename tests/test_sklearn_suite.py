"""scikit-learn's own k-means tests, pointed at lloyd: the drop-in promise, checked by the
competitor's test file.

At test time the file ``sklearn/cluster/tests/test_k_means.py`` of the installed scikit-learn is
copied into pytest's ``tmp_path``, its one import of the estimators is swapped for lloyd's, and
it runs in a subprocess (with scikit-learn's conftest, its float32 tests on, no network). Every
failure must be named below; a named test that passes must be removed from the list.

lloyd provides, under scikit-learn's private names, what these tests read of the estimators:
``_n_init``, ``_init_size`` and ``_init_centroids``'s keywords. The tests of scikit-learn's
private Cython helpers (``_k_means_common``, ``_labels_inertia``, ``_mini_batch_step``) run
scikit-learn's code, not lloyd's, and pass as they are.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sklearn

import lloyd

#: The import the copied file makes, and what replaces it.
SKLEARN_IMPORT = "from sklearn.cluster import KMeans, MiniBatchKMeans, k_means, kmeans_plusplus\n"
LLOYD_IMPORT = "from lloyd import KMeans, MiniBatchKMeans, k_means, kmeans_plusplus\n"

#: Tests that fail because they use scikit-learn's private API, each with its reason.
#: None today: what the estimators' tests read is provided (see the module docstring).
PRIVATE_API: dict[str, str] = {}

def _sklearn_test_file() -> Path:
    path = Path(sklearn.__file__).parent / "cluster" / "tests" / "test_k_means.py"
    if not path.is_file():
        pytest.fail(f"scikit-learn {sklearn.__version__} has no {path}: install it from its "
                    "wheel, which ships its tests.")
    return path


def _run_sklearn_suite(tmp_path: Path, *args: str, seed: str | None = None) -> dict[str, str]:
    """Run the copied file with lloyd's estimators; returns {test id: outcome} ('passed',
    'failed', 'skipped'; an error in setup counts as 'failed')."""
    source = _sklearn_test_file().read_text()
    assert source.count(SKLEARN_IMPORT) == 1, (
        f"scikit-learn {sklearn.__version__}'s test_k_means.py no longer imports the "
        f"estimators with {SKLEARN_IMPORT!r}: update SKLEARN_IMPORT.")
    (tmp_path / "test_k_means.py").write_text(source.replace(SKLEARN_IMPORT, LLOYD_IMPORT))
    report = tmp_path / "report.xml"
    env = dict(os.environ)
    # the lloyd under test, whether installed or run from a checkout
    lloyd_root = str(Path(lloyd.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([lloyd_root, *filter(None, [env.get("PYTHONPATH")])])
    env["SKLEARN_RUN_FLOAT32_TESTS"] = "1"
    env["SKLEARN_SKIP_NETWORK_TESTS"] = "1"
    if seed is not None:
        env["SKLEARN_TESTS_GLOBAL_RANDOM_SEED"] = seed
    else:
        env.pop("SKLEARN_TESTS_GLOBAL_RANDOM_SEED", None)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "sklearn.conftest", "-o", "addopts=", "-q",
         "-p", "no:cacheprovider", f"--junitxml={report}", "test_k_means.py", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )
    if not report.is_file():
        pytest.fail(f"pytest wrote no report (exit {completed.returncode}):\n"
                    f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    outcomes = {}
    for case in ET.parse(report).iter("testcase"):
        name = case.get("name")
        if case.find("failure") is not None or case.find("error") is not None:
            outcomes[name] = "failed"
        elif case.find("skipped") is not None:
            outcomes.setdefault(name, "skipped")
        else:
            outcomes.setdefault(name, "passed")
    assert outcomes, f"no test ran:\n{completed.stdout[-3000:]}"
    return outcomes


def _check_failures(outcomes: dict[str, str]) -> None:
    failed = {name for name, outcome in outcomes.items() if outcome == "failed"}
    unexpected = sorted(failed - set(PRIVATE_API))
    assert not unexpected, f"{len(unexpected)} of scikit-learn's tests fail: {unexpected}"
    stale = sorted(set(PRIVATE_API) - failed)
    assert not stale, f"these pass now: remove them from PRIVATE_API: {stale}"


@pytest.mark.slow
def test_sklearn_k_means_suite(tmp_path):
    """The whole file with pytest's default seed (42)."""
    outcomes = _run_sklearn_suite(tmp_path)
    _check_failures(outcomes)
    # It really ran: the file has a few hundred tests, most on dense input.
    passed = [name for name, outcome in outcomes.items() if outcome == "passed"]
    assert len(passed) >= 150, f"only {len(passed)} passed"


@pytest.mark.slow
def test_sklearn_elkan_results_every_seed(tmp_path):
    """The test that compares Elkan's centres with the default algorithm's at rtol=1e-7,
    atol=0, over scikit-learn's 100 seeds: the centres must not depend on the algorithm."""
    outcomes = _run_sklearn_suite(tmp_path, "-k", "test_kmeans_elkan_results", seed="all")
    _check_failures(outcomes)
    # 100 seeds × 2 distributions × 4 tolerances × 3 containers (ndarray, CSR matrix, array)
    assert len(outcomes) == 100 * 2 * 4 * 3
    assert all(outcome == "passed" for outcome in outcomes.values())
