"""A bounded on-disk queue of batches the server could not take yet.

One JSON file per batch, named ``<epoch-ns>-<local id>-<batch id>.json`` so that sorting the
names gives the order they were logged in. An upload (a file or an image) is a JSON header of
that name and its bytes beside it in ``<same name>.blob``. Each file carries the server URL and either the
experiment id or, when the experiment could not be created yet, the creation request; never
the API key (the key is resolved again when the file is replayed).

When the directory grows past its byte budget, the oldest files are deleted first, with a
warning on the ``tora`` logger naming how many points were lost.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Optional, Union

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger("tora")

DEFAULT_MAX_BYTES = 1024 * 1024 * 1024  # 1 GiB
IDS_FILE = "experiments.json"


class Spool:
    """Writes, lists and removes spooled batches in one directory (shared by processes).

    Example::

        spool = Spool(Path("~/.tora/spool").expanduser())
        for path in spool.files():
            doc = spool.read(path)
    """

    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._size: Optional[int] = None

    def _current_size(self) -> int:
        if self._size is None:
            self._size = sum(_size_with_blob(p) for p in self._paths())
        return self._size

    def _paths(self) -> list[Path]:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return [self.directory / n for n in sorted(names) if n.endswith(".json") and n != IDS_FILE]

    def files(self, local_id: Optional[str] = None) -> list[Path]:
        """Spooled batch files, oldest first; only one client's when ``local_id`` is given."""
        paths = self._paths()
        if local_id is not None:
            paths = [p for p in paths if f"-{local_id}-" in p.name]
        return paths

    def write(self, header: dict[str, Any], body: bytes, blob: Union[bytes, Path, None] = None) -> Path:
        """Spools one batch body (already JSON) with its routing header; returns the file.
        ``blob``: an upload's bytes (or a file to copy), stored beside it."""
        data = json.dumps(header)[:-1].encode("utf-8") + b',"batch":' + body + b"}"
        name = f"{time.time_ns():020d}-{header['local_id']}-{header['batch_id']}.json"
        blob_size = 0 if blob is None else len(blob) if isinstance(blob, bytes) else blob.stat().st_size
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._evict(len(data) + blob_size)
            path = self.directory / name
            if blob is not None:  # first, so a header on disk always has its bytes
                tmp_blob = path.with_suffix(".blob.tmp")
                if isinstance(blob, bytes):
                    tmp_blob.write_bytes(blob)
                else:
                    shutil.copyfile(blob, tmp_blob)
                os.replace(tmp_blob, path.with_suffix(".blob"))
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
            self._size = self._current_size() + len(data) + blob_size
        return path

    def _evict(self, incoming: int) -> None:
        if self._current_size() + incoming <= self.max_bytes:
            return
        self._size = None  # other processes may have changed the directory; recount
        dropped_files = dropped_points = 0
        for path in self._paths():
            if self._current_size() + incoming <= self.max_bytes:
                break
            try:
                size = _size_with_blob(path)
                dropped_points += int(self.read(path).get("points", 0))
                path.unlink()
                _unlink_blob(path)
            except (OSError, ValueError):
                continue
            dropped_files += 1
            assert self._size is not None
            self._size -= size
        if dropped_files:
            logger.warning(
                "Tora spool %s is full (limit %d bytes): deleted the %d oldest batches (%d points)",
                self.directory,
                self.max_bytes,
                dropped_files,
                dropped_points,
            )

    def read(self, path: Path) -> dict[str, Any]:
        with open(path, "rb") as f:
            doc = json.load(f)
        if not isinstance(doc, dict):
            raise ValueError(f"{path} is not a spooled Tora batch")
        if doc.get("kind") == "upload":
            doc["blob_path"] = str(path.with_suffix(".blob"))
        return doc

    def remove(self, path: Path) -> None:
        with self._lock:
            try:
                size = _size_with_blob(path)
                path.unlink()
            except FileNotFoundError:
                return
            _unlink_blob(path)
            if self._size is not None:
                self._size = max(0, self._size - size)

    @contextlib.contextmanager
    def creation_lock(self, key: str) -> Iterator[None]:
        """Held while one process creates the experiment that several share (a training script
        and its forked workers, or ``tora sync``): the others then find its id in ``load_ids``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover - Windows: no fork, so no sibling to race with
            yield
            return
        with open(self.directory / f".create-{key}.lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def load_ids(self) -> dict[str, str]:
        """Experiments created after their client first failed to, by its creation key."""
        try:
            with open(self.directory / IDS_FILE, encoding="utf-8") as f:
                data = json.load(f)
            return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def save_id(self, key: str, experiment_id: str) -> None:
        with self._lock:
            ids = self.load_ids()
            ids[key] = experiment_id
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / (IDS_FILE + ".tmp")
            tmp.write_text(json.dumps(ids), encoding="utf-8")
            os.replace(tmp, self.directory / IDS_FILE)


def _size_with_blob(path: Path) -> int:
    size = path.stat().st_size
    try:
        return size + path.with_suffix(".blob").stat().st_size
    except FileNotFoundError:
        return size


def _unlink_blob(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.with_suffix(".blob").unlink()
