"""Uploads kept for a while, per client, in bounded memory and a private temporary folder.

Names on disk are the server's own random ids: nothing a client sends ever becomes a path.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Store", "Upload"]


@dataclass
class Upload:
    """An uploaded table (``value`` a CsvTable) or image (``path`` a file in the store)."""

    kind: str  # "table" or "image"
    value: object = None
    path: Path | None = None
    size: int = 0
    info: dict | None = None


class Store:
    """At most ``max_items`` uploads and ``max_bytes`` in all; the least recently used go first.

    Images are written once into a folder only this user can read (mode 0700), so the
    compressor reads them exactly as ``lloyd compress`` reads a file; the folder is removed
    by :meth:`close`.
    """

    def __init__(self, max_items: int = 256, max_bytes: int = 512 * 2**20):
        self._items: OrderedDict[tuple[str, str], Upload] = OrderedDict()
        self._lock = threading.Lock()
        self._bytes = 0
        self.max_items, self.max_bytes = max_items, max_bytes
        self.folder = Path(tempfile.mkdtemp(prefix="lloyd-explore-"))
        os.chmod(self.folder, 0o700)

    def add_table(self, client: str, table, size: int) -> str:
        return self._add(client, Upload("table", value=table, size=size))

    def add_image(self, client: str, data: bytes, info: dict) -> str:
        name = secrets.token_hex(8)
        path = self.folder / f"image-{name}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return self._add(client, Upload("image", path=path, size=len(data), info=info), name)

    def get(self, client: str, upload_id: str, kind: str) -> Upload | None:
        with self._lock:
            item = self._items.get((client, upload_id))
            if item is None or item.kind != kind:
                return None
            self._items.move_to_end((client, upload_id))
            return item

    def _add(self, client: str, item: Upload, name: str | None = None) -> str:
        name = name or secrets.token_hex(8)
        with self._lock:
            self._items[(client, name)] = item
            self._bytes += item.size
            while len(self._items) > self.max_items or (
                    self._bytes > self.max_bytes and len(self._items) > 1):
                _, old = self._items.popitem(last=False)
                self._forget(old)
        return name

    def _forget(self, item: Upload) -> None:
        self._bytes -= item.size
        if item.path is not None:
            # A job may still be reading it: on POSIX the open file stays readable.
            item.path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
        shutil.rmtree(self.folder, ignore_errors=True)
