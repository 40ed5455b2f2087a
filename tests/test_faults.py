"""Faults during `lloyd compress`: Ctrl-C, a full disk, a permission error, a race."""

import errno
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from lloyd.cli import ExitCode, main


def _photos(folder, count, size=(200, 300)):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        path = folder / f"p{i}.png"
        Image.fromarray(rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.slow
def test_ctrl_c_leaves_no_partial_file_and_finished_outputs_intact(tmp_path):
    inputs = _photos(tmp_path, 80, size=(200, 200))
    before = _snapshot(tmp_path)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lloyd.cli", "compress", "-k", "128", *map(str, inputs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        # A shell that starts jobs in the background hands them SIGINT ignored, and Python
        # then installs no KeyboardInterrupt handler: give the child the default disposition.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(tmp_path.glob("*-k128.png")):
        time.sleep(0.01)
    assert list(tmp_path.glob("*-k128.png")), "no output appeared in time"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert b"interrupted" in err and b"Traceback" not in err
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".") or
                 p.suffix == ".tmp"]
    assert not leftovers
    outputs = sorted(tmp_path.glob("*-k128.png"))
    assert 1 <= len(outputs) < len(inputs)
    for out in outputs:
        with Image.open(out) as im:
            im.load()  # a whole, valid PNG
            assert im.mode == "P"
    for name, data in before.items():
        assert (tmp_path / name).read_bytes() == data


def _failing_fdopen(real, fail_for, error):
    def fdopen(fd, *args, **kwargs):
        f = real(fd, *args, **kwargs)
        name = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else ""
        if fail_for in name:
            class Broken:
                def __init__(self, inner):
                    self.inner = inner

                def write(self, data):
                    raise OSError(error, os.strerror(error))

                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    self.inner.close()
                    return False

            return Broken(f)
        return f

    return fdopen


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EACCES])
def test_a_write_error_on_one_output_spares_the_others_and_the_inputs(tmp_path, monkeypatch,
                                                                       capsys, error):
    inputs = _photos(tmp_path, 3, size=(20, 20))
    before = _snapshot(tmp_path)
    monkeypatch.setattr(os, "fdopen", _failing_fdopen(os.fdopen, "p1-k4.png", error))
    code = main(["compress", "-q", "-k", "4", *map(str, inputs)])
    assert code == ExitCode.IO_ERROR
    err = capsys.readouterr().err
    assert "p1" in err and os.strerror(error) in err and "Traceback" not in err
    assert (tmp_path / "p0-k4.png").exists() and (tmp_path / "p2-k4.png").exists()
    assert not (tmp_path / "p1-k4.png").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    for name, data in before.items():
        assert (tmp_path / name).read_bytes() == data


def test_an_output_created_meanwhile_is_not_replaced(tmp_path):
    from lloyd._image_io import write_atomic

    target = tmp_path / "out.png"
    real_link = os.link

    def link_after_someone_else(src, dst):
        target.write_bytes(b"someone else's")
        return real_link(src, dst)

    import lloyd._image_io as io_module

    original = io_module.os.link
    io_module.os.link = link_after_someone_else
    try:
        with pytest.raises(FileExistsError):
            write_atomic(target, b"ours", overwrite=False)
    finally:
        io_module.os.link = original
    assert target.read_bytes() == b"someone else's"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
