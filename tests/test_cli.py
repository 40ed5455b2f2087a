"""The ``lloyd`` command, run in-process through ``main(argv)``."""

import subprocess
import sys

import pytest
from PIL import Image

from lloyd.cli import ExitCode, main


def test_help_explains_the_commands(capsys):
    assert main(["--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "demo" in out and "exit codes" in out


def test_demo_help(capsys):
    assert main(["demo", "--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "--out DIR" in out and "16 colours" in out


def test_no_command_prints_help(capsys):
    assert main([]) == ExitCode.OK
    assert "usage: lloyd" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == ExitCode.USAGE_ERROR
    assert "invalid choice" in capsys.readouterr().err


def test_help_imports_neither_numba_nor_matplotlib():
    code = (
        "import sys\n"
        "from lloyd.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['--help'])\n"
        "bad = [m for m in ('numba', 'matplotlib', 'sklearn') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_public_name_resolves():
    import lloyd

    assert set(lloyd.__all__) == set(lloyd._EXPORTS) | {"__version__"}
    for name in lloyd.__all__:
        assert getattr(lloyd, name) is not None


def test_import_lloyd_is_light():
    code = (
        "import sys, lloyd\n"
        "bad = [m for m in ('numba', 'matplotlib', 'sklearn', 'PIL') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "assert callable(lloyd.run_kmeans)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_demo_writes_figures_and_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == ExitCode.OK
    report = capsys.readouterr().out
    names = ("progress.png", "random_inits.png", "compression.png", "elbow.png")
    for name in names:
        path = out / name
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(out / "progress.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 2 * 10 + 1
    # the report lists every file written, and nothing else is written
    listed = {line.strip() for line in report.splitlines() if line.startswith(f"  {out}")}
    assert listed == {str(out / name) for name in (*names, "progress.gif")}
    assert sorted(p.name for p in out.iterdir()) == sorted((*names, "progress.gif"))
    assert "iterations: 10" in report
    assert "24 bits/pixel" in report and "log2(16) = 4 bits/pixel" in report
    assert "16 x 24 bits of palette" in report and "compression ratio" in report
    assert "(kept)" in report


def test_demo_unwritable_output_is_an_io_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["demo", "--out", str(blocker / "sub")]) == ExitCode.IO_ERROR
    err = capsys.readouterr().err
    assert err.startswith("lloyd demo: cannot write to") and err.count("\n") == 1
