"""The first run's compile: the notice, and ``lloyd warmup`` doing it ahead."""

import io

import pytest

from lloyd import _warmup
from lloyd.cli import main


def test_a_cache_without_lloyds_kernels_is_cold(tmp_path):
    assert _warmup.numba_cache_is_cold([tmp_path])
    assert _warmup.numba_cache_is_cold([tmp_path / "missing"])
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "someone_else.f-1.py311.nbi").write_bytes(b"")
    assert _warmup.numba_cache_is_cold([tmp_path])
    kernels = tmp_path / "site-packages" / "lloyd" / "_kernels"
    kernels.mkdir(parents=True)
    (kernels / "hamerly.hamerly_pass-1.py311.nbi").write_bytes(b"")
    assert not _warmup.numba_cache_is_cold([tmp_path])


def test_the_notice_is_printed_only_when_cold(tmp_path, monkeypatch):
    monkeypatch.setattr(_warmup, "cache_places", lambda: [tmp_path])
    stream = io.StringIO()
    assert _warmup.notice_if_cold(stream)
    assert stream.getvalue() == _warmup.NOTICE + "\n"
    assert "first run only" in _warmup.NOTICE
    (tmp_path / "_kernels").mkdir()
    (tmp_path / "_kernels" / "common.inertia-190.py311.nbi").write_bytes(b"")
    stream = io.StringIO()
    assert not _warmup.notice_if_cold(stream)
    assert stream.getvalue() == ""


def test_computing_commands_say_so_on_stderr_when_cold(tmp_path, monkeypatch, capsys):
    """The notice goes to stderr (stdout stays the command's own), before the work."""
    monkeypatch.setattr(_warmup, "cache_places", lambda: [tmp_path])
    assert main(["cluster", str(tmp_path / "missing.csv")]) != 0
    captured = capsys.readouterr()
    assert captured.err.startswith(_warmup.NOTICE)
    assert _warmup.NOTICE not in captured.out
    assert main(["--help"]) == 0
    assert _warmup.NOTICE not in capsys.readouterr().err


@pytest.mark.slow
def test_warmup_runs_every_workload(capsys):
    assert main(["warmup", "--quiet"]) == 0
    out = capsys.readouterr().out
    count = len(list(_warmup._workloads()))
    assert out.startswith(f"lloyd warmup: {count} workloads run, every kernel compiled")
    assert not _warmup.numba_cache_is_cold()
