"""The first run's compile: the notice, and ``lloyd warmup`` doing it ahead."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

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


def test_the_notice_waits_for_numba_kernels_and_is_given_once(tmp_path, monkeypatch):
    """lloyd.cli only asks for the notice; it is given when a numba kernel module loads with a
    cold cache, once, and never for a library user who did not ask."""
    monkeypatch.setattr(_warmup, "cache_places", lambda: [tmp_path])
    monkeypatch.setattr(_warmup, "_announced", {"wanted": False, "given": False})
    given = []
    monkeypatch.setattr(_warmup, "notice_if_cold", lambda stream=None: given.append(1) or True)
    _warmup.numba_kernels_loading()
    assert given == []  # not asked for
    _warmup.announce()
    _warmup.numba_kernels_loading()
    _warmup.numba_kernels_loading()
    assert given == [1]


def test_numba_cache_dir_replaces_the_other_places(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert _warmup.cache_places() == [tmp_path]
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    assert tmp_path not in _warmup.cache_places()


def _compress_cold(tmp_path, *options):
    """``lloyd compress`` on a small image in a fresh process whose numba cache is empty:
    (stderr, whether numba was imported)."""
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    code = ("import sys\nfrom lloyd.cli import main\n"
            f"code = main(['compress', 'a.png', '-k', '8', '-o', 'b.png', *{list(options)!r}])\n"
            "print('numba' in sys.modules)\nsys.exit(code)\n")
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True, env=dict(os.environ, NUMBA_CACHE_DIR=str(cache)))
    return out.stderr, out.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.slow
@pytest.mark.parametrize("options", [(), ("--dither",)])
def test_a_command_that_compiles_nothing_says_nothing(tmp_path, options):
    """A palette below 128 colours, dithered or not, runs only compiled-ahead kernels: no
    numba, so no notice even with numba's cache empty."""
    err, loaded_numba = _compress_cold(tmp_path, *options)
    assert not loaded_numba
    assert _warmup.NOTICE not in err


@pytest.mark.slow
def test_a_command_that_compiles_says_so_on_stderr_first(tmp_path):
    """Palettes of 128 colours and more (Hamerly's kernel) are still numba's: with the cache
    empty the notice comes on stderr, once, before the work (stdout stays the command's own)."""
    err, loaded_numba = _compress_cold(tmp_path, "-k", "160")
    assert loaded_numba
    assert err.count(_warmup.NOTICE) == 1
    assert (tmp_path / "b.png").is_file()


@pytest.mark.slow
def test_warmup_runs_every_workload(capsys):
    assert main(["warmup", "--quiet"]) == 0
    out = capsys.readouterr().out
    count = len(list(_warmup._workloads()))
    assert out.startswith(f"lloyd warmup: {count} workloads run, every kernel compiled")
    assert not _warmup.numba_cache_is_cold()
