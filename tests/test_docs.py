"""The documentation site builds offline with warnings as errors (Sphinx, into tmp_path), from
the tutorial executed once for the session, and its pages hold what they promise: the API
reference, the CLI reference generated from the parser, every benchmark table, the tutorial's
figures."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lloyd

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(executed_tutorial, tmp_path_factory):
    """The built site's folder. The sources are copied (with benchmarks/*.md, which a page
    includes) so that the build writes nothing into the checkout, and the tutorial is the
    session's executed copy, so the build does not run it a second time."""
    import nbformat

    tmp = tmp_path_factory.mktemp("docs")
    tree = tmp / "tree"
    shutil.copytree(ROOT / "docs", tree / "docs", ignore=shutil.ignore_patterns("_build"))
    (tree / "benchmarks").mkdir()
    for page in (ROOT / "benchmarks").glob("*.md"):
        shutil.copy(page, tree / "benchmarks")
    nbformat.write(executed_tutorial["nb"], tree / "docs" / "tutorial.ipynb")
    out = tmp / "html"
    lloyd_root = str(Path(lloyd.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [lloyd_root, *filter(None, [os.environ.get("PYTHONPATH")])]))
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp / "doctrees"), "-D", "nb_execution_mode=off",
         str(tree / "docs"), str(out)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def text_of(page):
    html = page.read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.slow
def test_every_page_is_built(site):
    pages = {p.stem for p in site.glob("*.html")}
    assert {"index", "tutorial", "teaching", "engine", "algorithms", "images", "tables", "cli",
            "benchmarks", "api"} <= pages


@pytest.mark.slow
def test_api_reference_documents_every_public_name(site):
    html = (site / "api.html").read_text(encoding="utf-8")
    for name in lloyd.__all__:
        if name != "__version__":
            assert f'id="lloyd.{name}"' in html, name


@pytest.mark.slow
def test_cli_reference_is_the_parser_s_help(site):
    from lloyd.cli import ExitCode, _build_parser

    text = text_of(site / "cli.html")
    for code in ExitCode:
        assert f" {int(code)} {code.name} " in text, code
    parser = _build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, command in sub.choices.items():
        assert f"usage: lloyd {name}" in text, name
        for action in command._actions:
            for flag in action.option_strings:
                assert flag in text, (name, flag)


@pytest.mark.slow
def test_benchmark_tables_name_their_command_date_and_machine(site):
    html = (site / "benchmarks.html").read_text(encoding="utf-8")
    assert html.count("<table") >= 10
    text = text_of(site / "benchmarks.html")
    for script in ("bench_engine.py", "bench_seeding.py", "bench_dask.py", "bench_memory.py",
                   "bench_minibatch.py", "bench_image.py", "bench_tables.py"):
        assert script in text, script
    assert text.count(" date ") >= 7 and text.count(" machine ") >= 7


@pytest.mark.slow
def test_tutorial_page_shows_the_executed_figures(site):
    html = (site / "tutorial.html").read_text(encoding="utf-8")
    assert html.count("<img") >= 10


def test_readme_links_resolve():
    """The README's relative links (docs pages, LICENSE, images) point at files that exist."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target
