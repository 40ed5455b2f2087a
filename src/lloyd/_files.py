"""Writing files safely: a temporary file in the target folder, published whole or not at all.

Every output lloyd writes (palette PNGs, label tables, centres) goes through here.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path


def already_exists(path) -> FileExistsError:
    """The error for an output that exists; ``target`` lets the CLI word its own advice."""
    error = FileExistsError(f"{path} already exists; pass overwrite=True to replace it")
    error.target = str(path)
    return error


def missing_folder(path) -> FileNotFoundError:
    """The error for an output whose folder does not exist, naming the folder (not the
    temporary file the write would have gone through)."""
    path = Path(path)
    return FileNotFoundError(errno.ENOENT, f"folder {path.parent} does not exist", str(path))


def check_output(path, *, overwrite: bool) -> None:
    """Fail before any work: ``path`` exists (without ``overwrite``) or its folder does not."""
    path = Path(path)
    if not overwrite and path.exists():
        raise already_exists(path)
    if not path.parent.is_dir():
        raise missing_folder(path)


@contextlib.contextmanager
def atomic_output(path, *, overwrite: bool = False):
    """Yield a temporary path beside ``path``; when the block succeeds, publish it as ``path``.

    Readers never see half a file. Without ``overwrite`` an existing ``path`` raises
    FileExistsError before any work and is never replaced, even by a file that appears while
    the block runs: the file is published with link(), which fails if ``path`` exists. On any
    failure (Ctrl-C included) the temporary file is removed.
    """
    path = Path(path)
    check_output(path, overwrite=overwrite)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        yield tmp
        _fsync(tmp)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise already_exists(path) from None
            except OSError:  # a file system without hard links
                if path.exists():
                    raise already_exists(path) from None
                os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path, data: bytes, *, overwrite: bool) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_output`."""
    with atomic_output(path, overwrite=overwrite) as tmp:
        # O_EXCL: never follow or reuse someone else's file; 0o666 & ~umask like any new file.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


def _fsync(path) -> None:
    if not path.exists():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
